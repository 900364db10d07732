/**
 * `status --diagnose` and `status --probe` as use cases: the staged checks of a stored account
 * recorded as status records a check, and the round trip of a probe message that makes an account
 * unhealthy when it does not arrive. The CLI builds the diagnose settings (DNS, trust, trace come
 * from its context) and prints; the outcome is decided here.
 */
import { MailopsError, isMailopsError, type ErrorCode } from '../domain/errors.js';
import type { Credentials } from '../domain/provider.js';
import type { StoredAccount } from '../store/accounts.js';
import { diagnoseAccount, diagnosisChecks, type AccountDiagnosis, type DiagnoseSettings } from '../diagnose/run.js';
import { runProbe, type ProbeResult } from '../diagnose/probe.js';
import type { DiagnosticStep } from '../diagnose/types.js';
import type { Session } from './session.js';
import { stateForError, type AccountStatus } from './status.js';

/** One account's outcome: its status (as `status` reports it), the steps shown, and the details. */
export interface DiagnosedStatus {
  status: AccountStatus;
  steps: DiagnosticStep[];
  diagnosis: AccountDiagnosis | null;
  probe: ProbeResult | null;
}

/** A plain status check in the same shape (status --probe without --diagnose). */
export function plainCheck(status: AccountStatus): DiagnosedStatus {
  return { status, steps: status.checks, diagnosis: null, probe: null };
}

/**
 * Runs the staged checks for one stored account and records the outcome as status does. A
 * credential that cannot be read is a failed `credentials` step, not an exception.
 */
export async function diagnoseStoredAccount(
  session: Session,
  account: StoredAccount,
  settingsFor: (credentials: Credentials) => Promise<DiagnoseSettings>,
): Promise<DiagnosedStatus> {
  const config = account.config;
  let credentials;
  try {
    credentials = await session.credentials(config);
  } catch (err) {
    if (!isMailopsError(err)) throw err;
    const step: DiagnosticStep = { step: 'credentials', ok: false, ms: 0, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    return { status: failedStatus(session, account, err.code, err.message, [step]), steps: [step], diagnosis: null, probe: null };
  }
  if (config.backend !== 'imap') return diagnoseApiAccount(session, account, credentials, await settingsFor(credentials));
  if (!config.imap || !config.smtp) {
    const message = `the staged checks of ${config.name} need IMAP and SMTP servers; it has none`;
    const step: DiagnosticStep = { step: 'settings', ok: false, ms: 0, detail: message, hint: `run mailops connect ${config.name} again` };
    return { status: failedStatus(session, account, 'FAILED', message, [step]), steps: [step], diagnosis: null, probe: null };
  }
  const diagnosis = await diagnoseAccount({ imap: config.imap, smtp: config.smtp }, await settingsFor(credentials));
  const steps = diagnosisChecks(diagnosis);
  const failure = diagnosis.failure;
  if (failure) return { status: failedStatus(session, account, failure.errorCode, failure.message, steps), steps, diagnosis, probe: null };
  session.accounts.recordCheck(config.name, 'active', null);
  const select = diagnosis.imap.steps.find((s) => s.step === 'select');
  const status: AccountStatus = { account, state: 'active', healthy: true, latencyMs: select?.ms ?? null, checks: steps, lastError: null, errorCode: null };
  return { status, steps, diagnosis, probe: null };
}

/**
 * An API account (the Gmail API, Microsoft Graph): DNS, TCP and TLS to the token endpoint and to
 * the API host, the token refresh (scopes granted, expiry), then one cheap call (the provider's
 * verify: Gmail's users.getProfile, Graph's inbox folder). Each step timed; the first failure
 * explained, the rest not run.
 */
async function diagnoseApiAccount(session: Session, account: StoredAccount, credentials: Credentials, settings: DiagnoseSettings): Promise<DiagnosedStatus> {
  const config = account.config;
  const env = session.options.env;
  const { checkHttpsHost } = await import('../diagnose/https.js');
  const steps: DiagnosticStep[] = [];
  const fail = (code: ErrorCode, message: string): DiagnosedStatus => ({ status: failedStatus(session, account, code, message, steps), steps, diagnosis: null, probe: null });

  for (const [label, url] of await apiHosts(config, env)) {
    const host = await checkHttpsHost(label, url, settings);
    steps.push(...host.steps);
    if (host.failure) return fail(host.failure.errorCode, host.failure.message);
  }
  const timed = async <T>(step: string, work: () => Promise<T>, detail: (value: T) => string): Promise<T | MailopsError> => {
    const started = Date.now();
    try {
      const value = await work();
      steps.push({ step, ok: true, ms: Date.now() - started, detail: detail(value) });
      return value;
    } catch (err) {
      if (!isMailopsError(err)) throw err;
      steps.push({ step, ok: false, ms: Date.now() - started, detail: err.message, ...(err.hint ? { hint: err.hint } : {}), data: { error_code: err.code } });
      return err;
    }
  };
  if (credentials.kind !== 'oauth2') return fail('OAUTH_NOT_CONFIGURED', `${config.name} has no OAuth grant`);
  const refreshed = await timed(
    'token.refresh',
    () => credentials.accessToken({ forceRefresh: true }),
    () => {
      const expires = session.accounts.get(config.name)?.state.tokenExpiresAt;
      return `scopes granted: ${(config.oauth?.grantedScopes ?? []).join(' ') || 'unknown'}${expires ? `; expires ${expires}` : ''}`;
    },
  );
  if (refreshed instanceof MailopsError) return fail(refreshed.code, refreshed.message);
  const provider = await session.provider(config, credentials);
  const verified = await timed('api.call', () => provider.verify(settings.signal), (v) => `${v.checks.map((c) => c.detail).join('; ')} (${v.latencyMs} ms)`);
  if (verified instanceof MailopsError) return fail(verified.code, verified.message);
  session.accounts.recordCheck(config.name, 'active', null);
  const status: AccountStatus = { account, state: 'active', healthy: true, latencyMs: verified.latencyMs, checks: steps, lastError: null, errorCode: null };
  return { status, steps, diagnosis: null, probe: null };
}

/** The token endpoint and the API's service root of an API account. */
async function apiHosts(config: StoredAccount['config'], env: NodeJS.ProcessEnv): Promise<Array<readonly ['token' | 'api', string]>> {
  const endpoints = await import('../auth/endpoints.js');
  if (config.backend === 'graph') {
    const { graphRoot } = await import('../providers/graph/api.js');
    const authority = endpoints.microsoftAuthorityHost(env, config.oauth?.endpoints);
    return [['token', endpoints.microsoftEndpoints(authority, config.oauth?.tenant ?? 'common').tokenUrl], ['api', graphRoot(env)]];
  }
  const { apiRoot } = await import('../providers/gmail/api.js');
  return [['token', endpoints.googleEndpoints(env, config.oauth?.endpoints).tokenUrl], ['api', apiRoot(env.MAILOPS_GMAIL_API_URL)]];
}

function failedStatus(session: Session, account: StoredAccount, code: ErrorCode, message: string, checks: DiagnosticStep[]): AccountStatus {
  const state = stateForError(code);
  session.accounts.recordCheck(account.config.name, state, message);
  return { account, state, healthy: false, latencyMs: null, checks, lastError: message, errorCode: code };
}

export interface ProbeOptions {
  /** Another address (or account name) to send to, watched through the account that has it. */
  probeTo?: string | undefined;
  /** Seconds to wait for the arrival (120 when not given). */
  probeWait?: number | undefined;
}

/**
 * The round trip for one account: to itself, or with `probeTo` to another address, watched
 * through the account that has it. A probe that does not arrive makes the account unhealthy
 * (exit 1). Adds a `probe` step to `row` and sets `row.probe`.
 */
export async function probeStoredAccount(
  session: Session,
  account: StoredAccount,
  options: ProbeOptions,
  row: DiagnosedStatus,
  signal: AbortSignal,
  note: ((message: string) => void) | undefined,
): Promise<void> {
  const started = Date.now();
  const waitSeconds = options.probeWait ?? 120;
  try {
    const receiverAccount = options.probeTo ? accountForAddress(session, options.probeTo) : account;
    const sender = await session.provider(account.config);
    const receiver = receiverAccount === account ? sender : await session.provider(receiverAccount.config);
    const to = options.probeTo && options.probeTo.includes('@') ? options.probeTo : receiverAccount.config.email;
    row.probe = await runProbe({ sender, receiver, from: account.config.email, to, waitMs: waitSeconds * 1000, signal, note });
    const p = row.probe;
    const detail = p.delivered
      ? `${p.to}: arrived in ${p.folder} after ${p.delivery_ms} ms${p.cleaned_up ? ', deleted again' : ', NOT deleted'}`
      : `${p.to}: not arrived within ${waitSeconds} s`;
    row.steps.push({ step: 'probe', ok: p.delivered, ms: p.delivery_ms ?? Date.now() - started, detail, data: { ...p } });
    if (!p.delivered) markFailed(row, 'FAILED', `the probe ${p.message_id} did not arrive within ${waitSeconds} s`);
  } catch (err) {
    if (!isMailopsError(err)) throw err;
    row.steps.push({ step: 'probe', ok: false, ms: Date.now() - started, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    markFailed(row, err.code, err.message);
  }
}

function markFailed(row: DiagnosedStatus, code: ErrorCode, message: string): void {
  row.status = { ...row.status, healthy: false, errorCode: code, lastError: message, checks: row.steps };
}

/** The account whose address (or name) is `target`: the probe is watched arriving through it. */
function accountForAddress(session: Session, target: string): StoredAccount {
  const wanted = target.toLowerCase();
  const found = session.accounts.list().find((a) => a.config.email.toLowerCase() === wanted || a.config.name === target);
  if (!found) {
    throw new MailopsError('ACCOUNT_NOT_FOUND', `no account has the address ${target}, so the probe could not be seen arriving`, {
      hint: `connect the receiving mailbox first (mailops connect NAME --email ${target} ...)`,
    });
  }
  return found;
}
