/**
 * `connect --diagnose` and `connect --explain`, for an account that does not
 * exist yet (or to check new settings of one that does): the servers come
 * from the flags, else the account being repaired, else discovery; nothing
 * is saved. Also the discovery step of a plain `connect` (discoverForConnect).
 */
import { MailopsError, exitCodeFor } from '../../domain/errors.js';
import type { Credentials } from '../../domain/provider.js';
import type { ServerEndpoint } from '../../domain/types.js';
import { domainOf, resolveEndpoint, validateAccountName, validateEmail } from '../../core/accounts.js';
import { DnsClient } from '../../net/dns.js';
import { discover, type Discovery } from '../../diagnose/discovery/index.js';
import { diagnoseAccount, diagnosisChecks, protocolSummary } from '../../diagnose/run.js';
import { loadTrust } from '../../diagnose/tls-report.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson, printRows } from '../output.js';
import type { Options } from './connect.spec.js';
import { checkJson, diagnoseSettings, explainFailures, printSteps, traceSink } from '../diagnose-report.js';

export interface Discovered {
  imap: ServerEndpoint | undefined;
  smtp: ServerEndpoint | undefined;
  /** The login name discovery gave (autoconfig), if any. */
  user: string | undefined;
}

async function runDiscovery(ctx: CliContext, email: string, want: { imap: boolean; smtp: boolean }, trust: { caFile: string | null | undefined; insecure: boolean }): Promise<Discovery> {
  const trace = traceSink(ctx);
  return discover(email, {
    env: ctx.env,
    dns: DnsClient.fromEnv(ctx.env, ctx.timeoutMs, trace ? (line) => trace('dns', '*', line) : null),
    trust: await loadTrust(trust.caFile ?? null, trust.insecure),
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    trace,
    want,
  });
}

/**
 * For `connect` without --imap-host/--smtp-host: finds the missing servers.
 * Without a terminal, a server that cannot be found is an error naming the
 * flag; on a terminal the prompts ask for it instead.
 */
export async function discoverForConnect(ctx: CliContext, email: string, want: { imap: boolean; smtp: boolean }, trust: { caFile: string | null | undefined; insecure: boolean }): Promise<Discovered> {
  if (!want.imap && !want.smtp) return { imap: undefined, smtp: undefined, user: undefined };
  if (!ctx.isMachineOutput) ctx.note(`looking for the mail servers of ${domainOf(email)} (autoconfig, DNS SRV, MX, common host names)...`);
  const found = await runDiscovery(ctx, email, want, trust);
  const missing = (['imap', 'smtp'] as const).filter((p) => want[p] && !found[p]);
  if (missing.length && !ctx.canPrompt) throw discoveryFailed(found, missing);
  for (const p of ['imap', 'smtp'] as const) {
    const s = found[p];
    if (s && !ctx.isMachineOutput) ctx.note(`${p.toUpperCase()} server: ${s.host}:${s.port} (${s.tls}), from ${s.source}`);
  }
  const endpoint = (s: Discovery['imap']) => (s ? { host: s.host, port: s.port, tls: s.tls } : undefined);
  const user = found.imap?.user ?? found.smtp?.user ?? undefined;
  return { imap: endpoint(found.imap), smtp: endpoint(found.smtp), user: user && user !== email ? user : undefined };
}

function discoveryFailed(found: Discovery, missing: Array<'imap' | 'smtp'>): MailopsError {
  const flags = missing.map((p) => `--${p}-host`).join(' and ');
  return new MailopsError('DISCOVERY_FAILED', `found no ${missing.map((p) => p.toUpperCase()).join(' or ')} server for ${found.domain} (autoconfig, DNS SRV, MX and common host names were tried)`, {
    hint: `pass ${flags} (with the port and TLS mode); mailops connect --explain --email ${found.email} shows what each source said`,
  });
}

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const requested = (args[0] as string | undefined) ?? options.account;
  const caFile = options.caFile ?? null;
  return withSession(ctx, async (session) => {
    const existing = requested ? session.accounts.get(validateAccountName(requested)) : null;
    const old = existing?.config ?? null;
    const emailText = options.email ?? old?.email ?? (requested?.includes('@') ? requested : undefined);
    if (!emailText) throw new MailopsError('MISSING_INPUT', 'an email address is required', { hint: 'pass --email ADDRESS' });
    const email = validateEmail(emailText);
    const name = requested ?? email;

    const want = { imap: !options.imapHost && !old, smtp: !options.smtpHost && !old };
    const insecure = options.insecure ?? old?.insecure ?? false;
    const trustFile = caFile ?? old?.caFile ?? null;
    const discovery = want.imap || want.smtp || options.explain ? await runDiscovery(ctx, email, options.explain ? { imap: true, smtp: true } : want, { caFile: trustFile, insecure }) : null;

    if (options.explain && !options.diagnose) return printDiscovery(ctx, discovery!, want);

    const missing = (['imap', 'smtp'] as const).filter((p) => want[p] && !discovery?.[p]);
    if (missing.length) throw discoveryFailed(discovery!, missing);
    const pick = (p: 'imap' | 'smtp'): ServerEndpoint | undefined => old?.[p] ?? (discovery?.[p] ? { host: discovery[p]!.host, port: discovery[p]!.port, tls: discovery[p]!.tls } : undefined);
    const imap = resolveEndpoint('imap', { host: options.imapHost, port: options.imapPort, tls: options.imapTls }, pick('imap'), email);
    const smtp = resolveEndpoint('smtp', { host: options.smtpHost, port: options.smtpPort, tls: options.smtpTls }, pick('smtp'), email);
    const user = options.user ?? (old && old.email === email ? old.user : undefined) ?? discovery?.imap?.user ?? email;

    const credentials = await credentialsFor(ctx, options, user, old ? () => session.credentials(old) : null);
    if (insecure) ctx.warn('TLS certificate verification is off (--insecure)');
    const settings = await diagnoseSettings(ctx, { email, credentials, caFile: trustFile, insecure });
    const diagnosis = await diagnoseAccount({ imap, smtp }, settings);
    const steps = diagnosisChecks(diagnosis);
    const failure = diagnosis.failure;

    if (ctx.isMachineOutput) {
      printJson(ctx, {
        accounts: [
          {
            name,
            provider: old?.provider ?? 'imap',
            email,
            state: old ? existing!.state.state : 'not_configured',
            is_healthy: failure === null,
            token_expires_at: null,
            last_sync_at: null,
            last_error: failure?.message ?? null,
            latency_ms: diagnosis.imap.steps.find((s) => s.step === 'select')?.ms ?? null,
            checks: steps.map(checkJson),
            diagnosis: { imap: protocolSummary(diagnosis.imap), smtp: protocolSummary(diagnosis.smtp) },
            ...(discovery ? { discovery: discoveryJson(discovery) } : {}),
          },
        ],
      });
    } else {
      if (discovery && options.explain) await printSources(ctx, discovery);
      await printSteps(ctx, [{ name, steps }]);
      if (steps.some((s) => s.data?.skipped)) ctx.note('no password given: the login was not tested (pass --password-env VAR, --password-file FILE, --password-stdin or --password-cmd CMD)');
      explainFailures(ctx, name, diagnosis);
    }
    return failure ? exitCodeFor(failure.errorCode) : 0;
  });
}

/** The password from the flags; else the repaired account's own; else none (the login is skipped). */
async function credentialsFor(ctx: CliContext, options: Options, user: string, stored: (() => Promise<Credentials>) | null): Promise<Credentials | null> {
  const io = { stdin: ctx.io.stdin, env: ctx.env, warn: (m: string) => ctx.warn(m) };
  let password: string | null = null;
  if (options.passwordCmd !== undefined) {
    const { runPasswordCommand } = await import('../../secrets/password-command.js');
    password = await runPasswordCommand(options.passwordCmd, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
  } else if (options.passwordEnv !== undefined || options.passwordFile !== undefined || options.passwordStdin) {
    const { readPasswordFromSource } = await import('../../secrets/password-input.js');
    const source =
      options.passwordEnv !== undefined
        ? ({ kind: 'env', name: options.passwordEnv } as const)
        : options.passwordFile !== undefined
          ? ({ kind: 'file', path: options.passwordFile } as const)
          : ({ kind: 'stdin' } as const);
    password = await readPasswordFromSource(source, io);
  } else if (stored) {
    return stored();
  }
  if (password === null) return null;
  ctx.redactor.add(password);
  return { kind: 'password', user, password };
}

function discoveryJson(d: Discovery) {
  const server = (s: Discovery['imap']) => (s ? { host: s.host, port: s.port, tls: s.tls, source: s.source, user: s.user } : null);
  return { email: d.email, domain: d.domain, provider: d.provider, imap: server(d.imap), smtp: server(d.smtp), sources: d.sources };
}

async function printSources(ctx: CliContext, d: Discovery): Promise<void> {
  await printRows(
    ctx,
    [{ header: 'SOURCE' }, { header: 'QUERY' }, { header: 'FOUND' }, { header: 'MS' }, { header: 'SAID', maxWidth: 100 }],
    d.sources.map((s) => [s.source, s.query, s.found ? 'yes' : 'no', String(s.ms), s.said]),
  );
}

async function printDiscovery(ctx: CliContext, d: Discovery, want: { imap: boolean; smtp: boolean }): Promise<number> {
  if (ctx.isMachineOutput) printJson(ctx, { discovery: discoveryJson(d) });
  else {
    await printSources(ctx, d);
    for (const p of ['imap', 'smtp'] as const) {
      const s = d[p];
      ctx.note(s ? `${p.toUpperCase()}: ${s.host}:${s.port} (${s.tls}), from ${s.source}${s.user ? `, user ${s.user}` : ''}` : `${p.toUpperCase()}: not found`);
    }
    if (d.provider) ctx.note(`the domain's mail is hosted by ${d.provider === 'gmail' ? 'Google' : 'Microsoft'}: --provider ${d.provider} may suit it better`);
  }
  const missing = (['imap', 'smtp'] as const).filter((p) => want[p] && !d[p]);
  return missing.length ? exitCodeFor('DISCOVERY_FAILED') : 0;
}
