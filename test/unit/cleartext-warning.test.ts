// A password or token sent without TLS is said at connect and at each use (Session.provider):
// which servers, which flag, and not for a server on the machine itself.
import { describe, expect, it } from 'vitest';
import { cleartextWarnings } from '../../src/core/session.js';
import type { AccountConfig } from '../../src/domain/types.js';

const account = (over: Partial<AccountConfig>): AccountConfig => ({
  name: 'work', provider: 'imap', backend: 'imap', email: 'a@example.com', user: 'a@example.com',
  imap: { host: 'imap.example.com', port: 993, tls: 'implicit' }, smtp: { host: 'smtp.example.com', port: 587, tls: 'starttls' },
  insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: '2026-01-01T00:00:00Z', ...over,
});

describe('cleartextWarnings', () => {
  it('names each server reached without TLS and the flag that did it', () => {
    expect(cleartextWarnings(account({}))).toEqual([]);
    const both = cleartextWarnings(account({ imap: { host: 'imap.example.com', port: 143, tls: 'none' }, smtp: { host: 'smtp.example.com', port: 25, tls: 'none' } }));
    expect(both).toEqual([
      'the password of work goes to IMAP server imap.example.com:143 without TLS (--imap-tls none): anyone on the way can read it',
      'the password of work goes to SMTP server smtp.example.com:25 without TLS (--smtp-tls none): anyone on the way can read it',
    ]);
  });

  it('says token for an OAuth account; nothing for a server on this machine or an API account', () => {
    const oauth = { clientId: 'c', hasClientSecret: false, tenant: null, redirectUri: null, scopes: [], grantedScopes: [], grantedAt: '', endpoints: null, homeAccountId: null };
    expect(cleartextWarnings(account({ oauth, imap: { host: 'mail.example.net', port: 143, tls: 'none' } }))[0]).toMatch(/^the OAuth token of work goes to IMAP/);
    expect(cleartextWarnings(account({ imap: { host: '127.0.0.1', port: 143, tls: 'none' }, smtp: { host: 'localhost', port: 25, tls: 'none' } }))).toEqual([]);
    expect(cleartextWarnings(account({ backend: 'graph', imap: null, smtp: null }))).toEqual([]);
  });
});
