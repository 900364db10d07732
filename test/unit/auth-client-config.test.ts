// Which OAuth client an account uses: flags, Google's downloaded JSON, environment, the account
// being repaired; and the clear refusals.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { readClientSecrets, resolveClient } from '../../src/auth/client-config.js';
import type { OAuthSettings } from '../../src/domain/types.js';

const dir = mkdtempSync(join(tmpdir(), 'mailops-client-'));
function file(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

function thrown(fn: () => unknown): MailopsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MailopsError);
    return error as MailopsError;
  }
  throw new Error('did not throw');
}

const previous: OAuthSettings = {
  clientId: 'old.apps.googleusercontent.com',
  hasClientSecret: true,
  tenant: null,
  redirectUri: null,
  scopes: [],
  grantedScopes: [],
  grantedAt: new Date().toISOString(),
  endpoints: null,
  homeAccountId: null,
};

describe('readClientSecrets', () => {
  it('reads an "installed" client (any loopback port works)', () => {
    const path = file('installed.json', { installed: { client_id: 'id1', client_secret: 's1', redirect_uris: ['http://localhost'] } });
    expect(readClientSecrets(path)).toEqual({ clientId: 'id1', clientSecret: 's1', redirectUri: null });
  });

  it('a "web" client must have a loopback redirect URI with a port; --port picks one', () => {
    const web = { web: { client_id: 'id2', client_secret: 's2', redirect_uris: ['https://app.example.org/cb', 'http://127.0.0.1:8765/cb', 'http://localhost:9000/'] } };
    const path = file('web.json', web);
    expect(readClientSecrets(path).redirectUri).toBe('http://127.0.0.1:8765/cb');
    expect(readClientSecrets(path, 9000).redirectUri).toBe('http://localhost:9000/');
    expect(thrown(() => readClientSecrets(path, 1234)).code).toBe('REDIRECT_URI_MISMATCH');
    const noLoopback = file('web2.json', { web: { client_id: 'id3', redirect_uris: ['https://app.example.org/cb'] } });
    expect(thrown(() => readClientSecrets(noLoopback)).message).toMatch(/no loopback redirect URI/);
  });

  it('refuses files that are not a Google client', () => {
    expect(thrown(() => readClientSecrets(file('bad.json', '{nope'))).code).toBe('INVALID_VALUE');
    expect(thrown(() => readClientSecrets(file('other.json', { type: 'service_account' }))).message).toMatch(/not a Google OAuth client file/);
    expect(thrown(() => readClientSecrets(join(dir, 'missing.json'))).message).toMatch(/cannot read/);
  });
});

describe('resolveClient', () => {
  it('Google: flags, then the file, then MAILOPS_GOOGLE_CLIENT_ID/SECRET, then the account being repaired', () => {
    const env = { MAILOPS_GOOGLE_CLIENT_ID: 'env-id', MAILOPS_GOOGLE_CLIENT_SECRET: 'env-secret' };
    const base = { provider: 'gmail' as const, env, previous, previousSecret: 'old-secret' };
    expect(resolveClient({ ...base, clientId: 'flag-id', clientSecret: 'flag-secret' })).toMatchObject({ clientId: 'flag-id', clientSecret: 'flag-secret' });
    const path = file('f.json', { installed: { client_id: 'file-id', client_secret: 'file-secret' } });
    expect(resolveClient({ ...base, clientSecretsFile: path })).toMatchObject({ clientId: 'file-id', clientSecret: 'file-secret' });
    expect(resolveClient(base)).toMatchObject({ clientId: 'env-id', clientSecret: 'env-secret' });
    expect(resolveClient({ ...base, env: {} })).toMatchObject({ clientId: previous.clientId, clientSecret: 'old-secret' });
    expect(resolveClient({ ...base, env: { MAILOPS_GOOGLE_CLIENT_SECRETS: path } })).toMatchObject({ clientId: 'file-id' });
  });

  it('never pairs a stored secret with another client id', () => {
    const result = resolveClient({ provider: 'gmail', env: {}, previous, previousSecret: 'old-secret', clientId: 'new-id' });
    expect(result).toMatchObject({ clientId: 'new-id', clientSecret: null });
  });

  it('nothing anywhere: no client id (the caller explains how to register one)', () => {
    expect(resolveClient({ provider: 'gmail', env: {}, previous: null, previousSecret: null }).clientId).toBeNull();
  });

  it('Outlook: MAILOPS_MS_CLIENT_ID and MAILOPS_MS_TENANT, tenant common by default, no secrets', () => {
    expect(resolveClient({ provider: 'outlook', env: { MAILOPS_MS_CLIENT_ID: 'ms-id' }, previous: null, previousSecret: null })).toEqual({
      clientId: 'ms-id',
      clientSecret: null,
      tenant: 'common',
      redirectUri: null,
    });
    expect(resolveClient({ provider: 'outlook', env: { MAILOPS_MS_TENANT: 'contoso.onmicrosoft.com' }, clientId: 'x', previous: null, previousSecret: null }).tenant).toBe('contoso.onmicrosoft.com');
    expect(thrown(() => resolveClient({ provider: 'outlook', env: {}, clientId: 'x', clientSecret: 's', previous: null, previousSecret: null })).code).toBe('USAGE');
    expect(thrown(() => resolveClient({ provider: 'outlook', env: {}, clientId: 'x', tenant: 'not a tenant!', previous: null, previousSecret: null })).code).toBe('INVALID_VALUE');
    expect(thrown(() => resolveClient({ provider: 'gmail', env: {}, clientId: 'x', tenant: 'common', previous: null, previousSecret: null })).code).toBe('USAGE');
  });
});
