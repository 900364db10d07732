/**
 * Account health: the stored state, and a live check (login plus a cheap
 * command) whose failure is classified by the same error codes as every
 * other command. `status --diagnose` will add steps to the same CheckStep list.
 */
import { exitCodeFor, isMailopsError, type ErrorCode } from '../domain/errors.js';
import type { AccountState, CheckStep } from '../domain/types.js';
import type { StoredAccount } from '../store/accounts.js';
import { GRANT_STATES } from '../auth/errors.js';
import { isOAuthProvider } from '../providers/oauth-servers.js';
import type { Session } from './session.js';

export interface AccountStatus {
  account: StoredAccount;
  state: AccountState['state'];
  healthy: boolean;
  latencyMs: number | null;
  checks: CheckStep[];
  lastError: string | null;
  errorCode: ErrorCode | null;
}

/** Which stored state a failed check puts the account in. */
export function stateForError(code: ErrorCode): AccountState['state'] {
  // OAuth grants: needs_reauth, expired, revoked, not_configured (src/auth/errors.ts).
  const grantState = GRANT_STATES[code];
  if (grantState) return grantState;
  switch (code) {
    case 'AUTH_FAILED':
    case 'NEEDS_REAUTH':
    case 'SECRET_MISSING':
    case 'PASSWORD_COMMAND_FAILED':
      return 'needs_reauth';
    default:
      return 'error';
  }
}

export function storedStatus(account: StoredAccount): AccountStatus {
  const { config } = account;
  if (isOAuthProvider(config.provider) && !config.oauth?.clientId) {
    const lastError = `${config.name} has no OAuth client configured`;
    return { account, state: 'not_configured', healthy: false, latencyMs: null, checks: [], lastError, errorCode: 'OAUTH_NOT_CONFIGURED' };
  }
  return {
    account,
    state: account.state.state,
    healthy: account.state.state === 'active',
    latencyMs: null,
    checks: [],
    lastError: account.state.lastError,
    errorCode: STORED_STATE_CODES[account.state.state] ?? null,
  };
}

/**
 * The store keeps the state, not the error code that caused it: a stored
 * grant state stands for its error code so `status --offline` exits with the
 * same code (3) as the live check that recorded it; 'error' stays generic (1).
 */
const STORED_STATE_CODES: Partial<Record<AccountState['state'], ErrorCode>> = {
  needs_reauth: 'NEEDS_REAUTH',
  expired: 'TOKEN_EXPIRED',
  revoked: 'TOKEN_REVOKED',
  not_configured: 'OAUTH_NOT_CONFIGURED',
};

export async function checkAccount(session: Session, account: StoredAccount, signal: AbortSignal): Promise<AccountStatus> {
  const name = account.config.name;
  try {
    const provider = await session.provider(account.config);
    const result = await provider.verify(signal);
    session.accounts.recordCheck(name, 'active', null);
    // Re-read: an OAuth check may have refreshed the token (token_expires_at).
    account = session.accounts.get(name) ?? account;
    return { account, state: 'active', healthy: true, latencyMs: result.latencyMs, checks: result.checks, lastError: null, errorCode: null };
  } catch (error) {
    if (!isMailopsError(error)) throw error;
    const state = stateForError(error.code);
    session.accounts.recordCheck(name, state, error.message);
    return {
      account,
      state,
      healthy: false,
      latencyMs: null,
      checks: [{ step: 'login', ok: false, ms: 0, detail: error.message }],
      lastError: error.message,
      errorCode: error.code,
    };
  }
}

/**
 * The exit code of the worst failure: auth (3) and network (4) failures are
 * reported as such; anything else is 1. Healthy everywhere: 0.
 */
export function worstExitCode(statuses: AccountStatus[]): number {
  const codes = statuses.filter((s) => !s.healthy).map((s) => (s.errorCode ? exitCodeFor(s.errorCode) : 1));
  if (codes.length === 0) return 0;
  // Order of severity: generic failure (1) outranks a specific class so it is never hidden.
  const rank = (c: number) => (c === 1 ? 100 : c);
  return codes.reduce((worst, c) => (rank(c) > rank(worst) ? c : worst));
}

