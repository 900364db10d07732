/**
 * `mailops status --diagnose [NAME...]` and `status --probe`: the connection
 * of each account step by step (src/diagnose), and the round trip of a probe
 * message. JSON keeps status' shape; the steps fill `checks`.
 */
import { MailopsError, isMailopsError, type ErrorCode } from '../../domain/errors.js';
import { checkAccount, stateForError, worstExitCode, type AccountStatus } from '../../core/status.js';
import type { Session } from '../../core/session.js';
import type { StoredAccount } from '../../store/accounts.js';
import { diagnoseAccount, diagnosisChecks, protocolSummary, type AccountDiagnosis } from '../../diagnose/run.js';
import { runProbe, type ProbeResult } from '../../diagnose/probe.js';
import type { DiagnosticStep } from '../../diagnose/types.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson, printNdjson } from '../output.js';
import { checkJson, diagnoseSettings, explainFailures, printSteps } from '../diagnose-report.js';
import { statusJson } from '../../core/account-json.js';

export interface Options {
  account?: string;
  diagnose?: boolean;
  probe?: boolean;
  probeTo?: string;
  probeWait?: number;
  folder?: string;
}

interface Row {
  status: AccountStatus;
  steps: DiagnosticStep[];
  diagnosis: AccountDiagnosis | null;
  probe: ProbeResult | null;
}

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const names = [...((args[0] as string[] | undefined) ?? []), ...(options.account ? [options.account] : [])];
  return withSession(ctx, async (session) => {
    const accounts = session.selectAccounts(names);
    const rows: Row[] = [];
    for (const account of accounts) {
      const row = options.diagnose ? await diagnoseOne(ctx, session, account, options) : plainCheck(await checkAccount(session, account, ctx.signal));
      if ((options.probe || options.probeTo) && row.status.healthy) await probeOne(ctx, session, account, options, row);
      rows.push(row);
    }

    const json = (r: Row) => ({
      ...statusJson(r.status),
      checks: r.steps.map(checkJson),
      ...(r.diagnosis ? { diagnosis: { imap: protocolSummary(r.diagnosis.imap), smtp: protocolSummary(r.diagnosis.smtp) } } : {}),
      ...(options.probe || options.probeTo ? { probe: r.probe } : {}),
    });
    if (ctx.output === 'json') printJson(ctx, { accounts: rows.map(json) });
    else if (ctx.output === 'ndjson') for (const r of rows) printNdjson(ctx, json(r));
    else {
      if (rows.length === 0) ctx.note('no accounts: add one with mailops connect');
      await printSteps(ctx, rows.map((r) => ({ name: r.status.account.config.name, steps: r.steps })));
    }
    if (!ctx.isMachineOutput) {
      for (const r of rows) {
        if (r.diagnosis) explainFailures(ctx, r.status.account.config.name, r.diagnosis);
        else if (!r.status.healthy) ctx.note(`${r.status.account.config.name}: ${r.status.lastError}`);
        if (r.probe) ctx.note(probeSummary(r.status.account.config.name, r.probe));
      }
    }
    return worstExitCode(rows.map((r) => r.status));
  });
}

/** The named accounts (or all); unknown names are an error (exit 5), as in status. */
function plainCheck(status: AccountStatus): Row {
  return { status, steps: status.checks, diagnosis: null, probe: null };
}

/** Runs the staged checks for one stored account and records the outcome as status does. */
export async function diagnoseOne(ctx: CliContext, session: Session, account: StoredAccount, options: { folder?: string | undefined }, metrics = false): Promise<Row> {
  const config = account.config;
  if (config.insecure) ctx.warn(`TLS certificate verification is off for ${config.name} (--insecure)`);
  let credentials;
  try {
    credentials = await session.credentials(config);
  } catch (err) {
    if (!isMailopsError(err)) throw err;
    const step: DiagnosticStep = { step: 'credentials', ok: false, ms: 0, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    return { status: failedStatus(session, account, err.code, err.message, [step]), steps: [step], diagnosis: null, probe: null };
  }
  const settings = await diagnoseSettings(ctx, { email: config.email, credentials, caFile: config.caFile, insecure: config.insecure, folder: options.folder, metrics });
  const diagnosis = await diagnoseAccount(config, settings);
  const steps = diagnosisChecks(diagnosis);
  const failure = diagnosis.failure;
  if (failure) return { status: failedStatus(session, account, failure.errorCode, failure.message, steps), steps, diagnosis, probe: null };
  session.accounts.recordCheck(config.name, 'active', null);
  const select = diagnosis.imap.steps.find((s) => s.step === 'select');
  const status: AccountStatus = { account, state: 'active', healthy: true, latencyMs: select?.ms ?? null, checks: steps, lastError: null, errorCode: null };
  return { status, steps, diagnosis, probe: null };
}

function failedStatus(session: Session, account: StoredAccount, code: ErrorCode, message: string, checks: DiagnosticStep[]): AccountStatus {
  const state = stateForError(code);
  session.accounts.recordCheck(account.config.name, state, message);
  return { account, state, healthy: false, latencyMs: null, checks, lastError: message, errorCode: code };
}

/**
 * The round trip for one account: to itself, or with --probe-to to another
 * address, watched through the account that has it. A probe that does not
 * arrive makes the account unhealthy (exit 1).
 */
export async function probeOne(ctx: CliContext, session: Session, account: StoredAccount, options: Options, row: Row): Promise<void> {
  const started = Date.now();
  try {
    const receiverAccount = options.probeTo ? accountForAddress(session, options.probeTo) : account;
    const sender = await session.provider(account.config);
    const receiver = receiverAccount === account ? sender : await session.provider(receiverAccount.config);
    const to = options.probeTo && options.probeTo.includes('@') ? options.probeTo : receiverAccount.config.email;
    row.probe = await runProbe({
      sender,
      receiver,
      from: account.config.email,
      to,
      waitMs: (options.probeWait ?? 120) * 1000,
      signal: ctx.signal,
      note: ctx.isMachineOutput ? undefined : (m) => ctx.note(m),
    });
    const p = row.probe;
    const detail = p.delivered
      ? `${p.to}: arrived in ${p.folder} after ${p.delivery_ms} ms${p.cleaned_up ? ', deleted again' : ', NOT deleted'}`
      : `${p.to}: not arrived within ${options.probeWait ?? 120} s`;
    row.steps.push({ step: 'probe', ok: p.delivered, ms: p.delivery_ms ?? Date.now() - started, detail, data: { ...p } });
    if (!p.delivered) markFailed(row, 'FAILED', `the probe ${p.message_id} did not arrive within ${options.probeWait ?? 120} s`);
  } catch (err) {
    if (!isMailopsError(err)) throw err;
    row.steps.push({ step: 'probe', ok: false, ms: Date.now() - started, detail: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    markFailed(row, err.code, err.message);
  }
}

function markFailed(row: Row, code: ErrorCode, message: string): void {
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

export function probeSummary(name: string, p: ProbeResult): string {
  if (!p.delivered) return `${name}: probe ${p.message_id} to ${p.to} did not arrive`;
  const auth = p.authentication_results ? `; Authentication-Results: ${p.authentication_results.join(' | ')}` : '; no Authentication-Results header';
  return `${name}: probe delivered to ${p.to} in ${p.delivery_ms} ms, landed in ${p.landed_in} (${p.folder})${auth}`;
}
