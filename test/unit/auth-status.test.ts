// status for OAuth accounts without a client: not_configured, even offline.
import { describe, expect, it } from 'vitest';
import { storedStatus } from '../../src/core/status.js';
import type { StoredAccount } from '../../src/store/accounts.js';

function account(provider: 'gmail' | 'outlook' | 'imap', oauth: StoredAccount['config']['oauth']): StoredAccount {
  const endpoint = { host: 'h', port: 993, tls: 'implicit' as const };
  return {
    config: {
      name: 'a', provider, backend: 'imap', email: 'a@example.org', user: 'a@example.org', imap: endpoint, smtp: endpoint, insecure: false, caFile: null,
      secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(), oauth,
    },
    state: { state: 'active', lastSyncAt: null, lastError: null, tokenExpiresAt: null },
    lastCheckedAt: null,
  };
}

describe('storedStatus', () => {
  it('a Gmail or Outlook account without an OAuth client is not_configured and unhealthy', () => {
    for (const provider of ['gmail', 'outlook'] as const) {
      const status = storedStatus(account(provider, null));
      expect(status).toMatchObject({ state: 'not_configured', healthy: false, errorCode: 'OAUTH_NOT_CONFIGURED' });
    }
  });

  it('password accounts and configured OAuth accounts report their stored state', () => {
    expect(storedStatus(account('imap', undefined)).state).toBe('active');
    const oauth = { clientId: 'id', hasClientSecret: false, tenant: 'common', redirectUri: null, scopes: [], grantedScopes: [], grantedAt: '', endpoints: null, homeAccountId: null };
    expect(storedStatus(account('outlook', oauth)).state).toBe('active');
  });
});
