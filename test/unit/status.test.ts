// Account health: which state a failed check records, and the exit code status gives for it,
// live and from the stored state alone (--offline).
import { describe, expect, it } from 'vitest';
import { stateForError, storedStatus, worstExitCode } from '../../src/core/status.js';
import { statusJson as statusReport } from '../../src/core/account-json.js';
import type { AccountState } from '../../src/domain/types.js';
import type { StoredAccount } from '../../src/store/accounts.js';

function account(state: AccountState['state']): StoredAccount {
  const endpoint = { host: 'h', port: 993, tls: 'implicit' as const };
  return {
    config: {
      name: 'a', provider: 'imap', backend: 'imap', email: 'a@example.org', user: 'a@example.org', imap: endpoint, smtp: endpoint, insecure: false, caFile: null,
      secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(),
    },
    state: { state, lastSyncAt: null, lastError: state === 'active' ? null : 'it failed', tokenExpiresAt: null },
    lastCheckedAt: null,
  };
}

describe('stateForError', () => {
  it('OAuth grant failures keep their own state', () => {
    expect(stateForError('TOKEN_EXPIRED')).toBe('expired');
    expect(stateForError('TOKEN_REVOKED')).toBe('revoked');
    expect(stateForError('OAUTH_NOT_CONFIGURED')).toBe('not_configured');
    expect(stateForError('CONSENT_DENIED')).toBe('needs_reauth');
  });

  it('password failures need a reconnect; anything else is an error', () => {
    expect(stateForError('AUTH_FAILED')).toBe('needs_reauth');
    expect(stateForError('SECRET_MISSING')).toBe('needs_reauth');
    expect(stateForError('CONNECTION_REFUSED')).toBe('error');
  });
});

describe('worstExitCode of stored states (status --offline)', () => {
  it('a grant that needs connect again exits 3, like the live check', () => {
    for (const state of ['needs_reauth', 'expired', 'revoked'] as const) {
      expect(worstExitCode([storedStatus(account('active')), storedStatus(account(state))])).toBe(3);
    }
  });

  it('a stored error exits 1 and outranks an auth failure; all active exits 0', () => {
    expect(worstExitCode([storedStatus(account('needs_reauth')), storedStatus(account('error'))])).toBe(1);
    expect(worstExitCode([storedStatus(account('active'))])).toBe(0);
  });
});

describe('statusReport (status --json)', () => {
  it('has the contract fields in order, backend imap for an IMAP account and api for the API backends', () => {
    const report = statusReport(storedStatus(account('active')));
    expect(Object.keys(report)).toEqual([
      'name', 'provider', 'backend', 'email', 'state', 'is_healthy', 'token_expires_at', 'scopes', 'last_sync_at', 'last_error', 'latency_ms', 'checks',
    ]);
    expect(report).toMatchObject({ name: 'a', provider: 'imap', backend: 'imap', state: 'active', is_healthy: true, checks: [] });
    const graph = account('active');
    graph.config = { ...graph.config, backend: 'graph' };
    expect(statusReport(storedStatus(graph)).backend).toBe('api');
  });
});
