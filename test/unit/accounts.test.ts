import { describe, expect, it } from 'vitest';
import { buildAccountConfig, guessProvider, resolveEndpoint, tlsForPort, validateAccountName, validateEmail } from '../../src/core/accounts.js';

describe('resolveEndpoint', () => {
  it('defaults to imap./smtp. host names with implicit TLS on the standard ports', () => {
    expect(resolveEndpoint('imap', {}, undefined, 'me@Example.COM')).toEqual({ host: 'imap.example.com', port: 993, tls: 'implicit' });
    expect(resolveEndpoint('smtp', {}, undefined, 'me@example.com')).toEqual({ host: 'smtp.example.com', port: 465, tls: 'implicit' });
  });

  it('derives the TLS mode from a well-known port and the port from the TLS mode', () => {
    expect(resolveEndpoint('smtp', { port: 587 }, undefined, 'a@b.cd')).toMatchObject({ port: 587, tls: 'starttls' });
    expect(resolveEndpoint('imap', { tls: 'starttls' }, undefined, 'a@b.cd')).toMatchObject({ port: 143, tls: 'starttls' });
    expect(resolveEndpoint('imap', { port: 10993 }, undefined, 'a@b.cd')).toMatchObject({ port: 10993, tls: 'implicit' });
    expect(tlsForPort('smtp', 25)).toBe('starttls');
  });

  it('keeps what a repaired account had unless a flag changes it', () => {
    const existing = { host: 'mail.corp.example', port: 1143, tls: 'none' as const };
    expect(resolveEndpoint('imap', {}, existing, 'a@b.cd')).toEqual(existing);
    expect(resolveEndpoint('imap', { tls: 'implicit' }, existing, 'a@b.cd')).toEqual({ host: 'mail.corp.example', port: 993, tls: 'implicit' });
    // A new host does not inherit the old host's port.
    expect(resolveEndpoint('imap', { host: 'other.example' }, existing, 'a@b.cd')).toEqual({ host: 'other.example', port: 993, tls: 'implicit' });
  });

  it('rejects hosts and ports that cannot be right (exit 2)', () => {
    expect(() => resolveEndpoint('imap', { host: 'imap example.com' }, undefined, 'a@b.cd')).toThrow(/not a host name/);
    expect(() => resolveEndpoint('imap', { port: 70000 }, undefined, 'a@b.cd')).toThrow(expect.objectContaining({ code: 'INVALID_VALUE', exitCode: 2 }));
  });
});

describe('account input', () => {
  it('validates addresses and names', () => {
    expect(validateEmail(' me@example.com ')).toBe('me@example.com');
    expect(() => validateEmail('me@localhost')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => validateAccountName('-rf')).toThrow(/account name/);
    expect(validateAccountName('work')).toBe('work');
  });

  it('guesses the provider from well-known domains', () => {
    expect(guessProvider('x@gmail.com')).toBe('gmail');
    expect(guessProvider('x@Hotmail.com')).toBe('outlook');
    expect(guessProvider('x@example.org')).toBe('imap');
  });

  it('a repair keeps created_at, login, store and insecure unless changed', () => {
    const first = buildAccountConfig(
      { email: 'a@b.cd', user: 'alogin', provider: 'imap', imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' }, insecure: true, secretStore: 'file' },
      null,
    );
    expect(first).toMatchObject({ name: 'a@b.cd', backend: 'imap', user: 'alogin', insecure: true, secretStore: 'file', passwordCommand: null, caFile: null, priority: 0 });
    const repaired = buildAccountConfig({ email: 'a@b.cd', provider: 'imap', imap: first.imap!, smtp: first.smtp!, priority: 3 }, first);
    expect(repaired).toMatchObject({ name: 'a@b.cd', user: 'alogin', insecure: true, secretStore: 'file', priority: 3, createdAt: first.createdAt });
  });
});
