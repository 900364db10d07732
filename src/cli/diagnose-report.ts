/**
 * What status --diagnose and connect --diagnose share: the settings a
 * diagnosis runs with (from the CLI context), and how its steps are printed
 * (a table on a terminal, TSV when piped, the contract's JSON), with each
 * failure explained on stderr in one line and the fix to try.
 */
import type { Credentials } from '../domain/provider.js';
import type { DiagnosticStep } from '../diagnose/types.js';
import type { DiagnoseSettings } from '../diagnose/stages.js';
import type { AccountDiagnosis } from '../diagnose/run.js';
import type { CliContext } from './context.js';
import { printRows } from './output.js';

export interface SettingsInput {
  email: string;
  credentials: Credentials | null;
  caFile: string | null;
  insecure: boolean;
  folder?: string | undefined;
  metrics?: boolean;
  recipient?: string | undefined;
}

export async function diagnoseSettings(ctx: CliContext, input: SettingsInput): Promise<DiagnoseSettings> {
  const [{ DnsClient }, { loadTrust }] = await Promise.all([import('../net/dns.js'), import('../diagnose/tls-report.js')]);
  const trace = traceSink(ctx);
  if (input.credentials?.kind === 'password') ctx.redactor.add(input.credentials.password);
  return {
    email: input.email,
    credentials: input.credentials,
    trust: await loadTrust(input.caFile, input.insecure),
    timeoutMs: ctx.timeoutMs,
    dns: DnsClient.fromEnv(ctx.env, ctx.timeoutMs, trace ? (line) => trace('dns', '*', line) : null),
    trace,
    signal: ctx.signal,
    folder: input.folder ?? 'INBOX',
    metrics: input.metrics ?? false,
    recipient: input.recipient ?? input.email,
  };
}

export function traceSink(ctx: CliContext): DiagnoseSettings['trace'] {
  return ctx.runtime().trace;
}

/** A check as the contract's JSON has it, with the failure's code and hint (and details) as extra keys. */
export function checkJson(step: DiagnosticStep) {
  return {
    step: step.step,
    ok: step.ok,
    ms: step.ms,
    detail: step.detail,
    ...(step.code ? { code: step.code, hint: step.hint } : {}),
    ...(step.data ? { data: step.data } : {}),
  };
}

export interface ReportRow {
  name: string;
  steps: DiagnosticStep[];
}

/** The steps of each account: NAME STEP RESULT MS DETAIL. */
export async function printSteps(ctx: CliContext, rows: ReportRow[]): Promise<void> {
  await printRows(
    ctx,
    [{ header: 'NAME' }, { header: 'STEP' }, { header: 'RESULT' }, { header: 'MS' }, { header: 'DETAIL', maxWidth: 160 }],
    rows.flatMap((r) =>
      r.steps.map((s) => [r.name, s.step, s.ok ? (s.data?.skipped ? 'skip' : 'ok') : 'FAIL', String(s.ms), s.detail]),
    ),
  );
}

/** One line per failed protocol on stderr: what is wrong, then the fix. */
export function explainFailures(ctx: CliContext, name: string, diagnosis: AccountDiagnosis): void {
  for (const p of [diagnosis.imap, diagnosis.smtp]) {
    if (!p.failure) continue;
    ctx.note(`${name}: ${p.protocol.toUpperCase()} ${p.failure.code}: ${p.failure.message}`);
    ctx.note(`  fix: ${p.failure.hint}`);
  }
  if (!diagnosis.failure) ctx.note(`${name}: IMAP and SMTP ok (${diagnosis.imap.total_ms} ms, ${diagnosis.smtp.total_ms} ms)`);
}
