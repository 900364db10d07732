/**
 * `mailops status --diagnose [NAME...]` and `status --probe`: the connection
 * of each account step by step (src/diagnose), and the round trip of a probe
 * message. JSON keeps status' shape; the steps fill `checks`.
 */
import { checkAccount, worstExitCode } from '../../core/status.js';
import { diagnoseStoredAccount, plainCheck, probeStoredAccount, type DiagnosedStatus } from '../../core/status-diagnose.js';
import type { Session } from '../../core/session.js';
import type { StoredAccount } from '../../store/accounts.js';
import { protocolSummary } from '../../diagnose/run.js';
import type { ProbeResult } from '../../diagnose/probe.js';
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

type Row = DiagnosedStatus;

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

/** The staged checks of one stored account (core decides and records); warns about --insecure first. */
export async function diagnoseOne(ctx: CliContext, session: Session, account: StoredAccount, options: { folder?: string | undefined }, metrics = false): Promise<Row> {
  const config = account.config;
  if (config.insecure) ctx.warn(`TLS certificate verification is off for ${config.name} (--insecure)`);
  return diagnoseStoredAccount(session, account, (credentials) =>
    diagnoseSettings(ctx, { email: config.email, credentials, caFile: config.caFile, insecure: config.insecure, folder: options.folder, metrics }),
  );
}

/** The probe round trip of one account (core); progress notes only for people. */
export async function probeOne(ctx: CliContext, session: Session, account: StoredAccount, options: Options, row: Row): Promise<void> {
  await probeStoredAccount(session, account, options, row, ctx.signal, ctx.isMachineOutput ? undefined : (m) => ctx.note(m));
}

export function probeSummary(name: string, p: ProbeResult): string {
  if (!p.delivered) return `${name}: probe ${p.message_id} to ${p.to} did not arrive`;
  const auth = p.authentication_results ? `; Authentication-Results: ${p.authentication_results.join(' | ')}` : '; no Authentication-Results header';
  return `${name}: probe delivered to ${p.to} in ${p.delivery_ms} ms, landed in ${p.landed_in} (${p.folder})${auth}`;
}
