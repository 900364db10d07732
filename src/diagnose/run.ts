/**
 * A whole account, diagnosed: IMAP, then SMTP, each up to its first failure.
 * Returns the steps as status' checks (step names prefixed "imap." and
 * "smtp.") and the worst failure, which sets the exit code.
 */
import { exitCodeFor, type ErrorCode } from '../domain/errors.js';
import type { ServerEndpoint } from '../domain/types.js';
import type { Failure } from '../net/failures.js';
import { diagnoseImap } from './imap.js';
import { diagnoseSmtp } from './smtp.js';
import type { DiagnoseSettings } from './stages.js';
import type { DiagnosticStep, ProtocolDiagnosis } from './types.js';

export type { DiagnoseSettings } from './stages.js';

export interface AccountDiagnosis {
  imap: ProtocolDiagnosis;
  smtp: ProtocolDiagnosis;
  /** The failure that sets the exit code (see worstFailure), or null. */
  failure: Failure | null;
}

export async function diagnoseAccount(endpoints: { imap: ServerEndpoint; smtp: ServerEndpoint }, settings: DiagnoseSettings): Promise<AccountDiagnosis> {
  const imap = await diagnoseImap(endpoints.imap, settings);
  const smtp = await diagnoseSmtp(endpoints.smtp, settings);
  return { imap, smtp, failure: worstFailure([imap.failure, smtp.failure]) };
}

/** Severity of an exit code: a failure of no specific class (1) outranks auth (3) and network (4), as in status. */
function rank(errorCode: ErrorCode): number {
  const exit = exitCodeFor(errorCode);
  return exit === 1 ? 100 : exit;
}

export function worstFailure(failures: Array<Failure | null>): Failure | null {
  let worst: Failure | null = null;
  for (const f of failures) if (f && (!worst || rank(f.errorCode) > rank(worst.errorCode))) worst = f;
  return worst;
}

/** The steps of both protocols as one list, named "imap.dns", "smtp.login", ... */
export function diagnosisChecks(d: AccountDiagnosis): DiagnosticStep[] {
  return [d.imap, d.smtp].flatMap((p) => p.steps.map((s) => ({ ...s, step: `${p.protocol}.${s.step}` })));
}

/** The part of a diagnosis that is not a step, for JSON. */
export function protocolSummary(p: ProtocolDiagnosis) {
  return {
    host: p.endpoint.host,
    port: p.endpoint.port,
    tls_mode: p.endpoint.tls,
    address: p.address,
    ok: p.failure === null,
    total_ms: p.total_ms,
    tls: p.tls,
    failure: p.failure ? { code: p.failure.code, error_code: p.failure.errorCode, message: p.failure.message, hint: p.failure.hint } : null,
    ...(p.mailbox ? { mailbox: p.mailbox } : {}),
  };
}
