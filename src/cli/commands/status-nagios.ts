/**
 * `mailops status --nagios [NAME]`: one account checked as a monitoring
 * plugin. The staged diagnosis gives the response times, certificate days and
 * the folder's counts; --probe adds the delivery time. One line on stdout,
 * `MAILOPS <STATE> - <summary> | <perfdata>`, and the plugin exit codes:
 * 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad arguments and for
 * anything that kept the check from running).
 */
import {
  NagiosState,
  ThresholdError,
  evaluate,
  parseThresholds,
  perfdata,
  pluginLine,
  stateName,
  type Metric,
  type NagiosStateValue,
  type Thresholds,
} from '../../diagnose/nagios/plugin.js';
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson } from '../output.js';
import { diagnoseOne, probeOne, type Options as DiagnoseOptions } from './status-diagnose.js';
import type { DiagnosedStatus } from '../../core/status-diagnose.js';

interface Options extends DiagnoseOptions {
  warning?: string[];
  critical?: string[];
}

interface Outcome {
  state: NagiosStateValue;
  summary: string;
  metrics: Metric[];
}

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  let thresholds: Thresholds = { warning: new Map(), critical: new Map() };
  let outcome: Outcome;
  try {
    thresholds = parseThresholds(options.warning, options.critical);
    outcome = await check(ctx, args, options, thresholds);
  } catch (err) {
    // Anything that kept the check from running is UNKNOWN (3), never another exit code.
    const message = err instanceof Error ? err.message : String(err);
    outcome = { state: NagiosState.UNKNOWN, summary: err instanceof ThresholdError ? `bad threshold: ${message}` : `cannot check: ${message}`, metrics: [] };
  }
  const summary = ctx.redactor.redact(outcome.summary);
  const perf = perfdata(outcome.metrics, thresholds);
  if (ctx.flags.json) {
    printJson(ctx, {
      nagios: {
        state: stateName(outcome.state),
        exit_code: outcome.state,
        summary,
        line: pluginLine(outcome.state, summary, perf),
        metrics: outcome.metrics.map((m) => ({
          label: m.label,
          value: m.value,
          uom: m.uom,
          warning: thresholds.warning.get(m.label)?.text ?? null,
          critical: thresholds.critical.get(m.label)?.text ?? null,
        })),
      },
    });
  } else {
    ctx.out(pluginLine(outcome.state, summary, perf) + '\n');
  }
  return outcome.state;
}

async function check(ctx: CliContext, args: unknown[], options: Options, thresholds: Thresholds): Promise<Outcome> {
  const names = [...((args[0] as string[] | undefined) ?? []), ...(options.account ? [options.account] : [])];
  if (names.length > 1) return { state: NagiosState.UNKNOWN, summary: `--nagios checks one account at a time, not ${names.length}`, metrics: [] };
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(names[0]);
    const name = account.config.name;
    // A path or an @role; a role is looked up in the cached folder list, or on the server (lazily).
    const resolved = await session.folderResolver(account.config, () => session.provider(account.config)).resolve(options.folder ?? 'INBOX');
    const folder = resolved.path;
    const row = await diagnoseOne(ctx, session, account, { folder: resolved.id }, true);
    const d = row.diagnosis;
    if (!d && account.config.backend !== 'imap') return apiOutcome(name, row, thresholds);
    if (!d) return { state: NagiosState.UNKNOWN, summary: `${name}: cannot check: ${row.status.lastError}`, metrics: [] };

    const metrics: Metric[] = [];
    const seconds = (ms: number) => ms / 1000;
    for (const p of [d.imap, d.smtp]) {
      const label = p.protocol.toUpperCase();
      if (!p.failure) metrics.push({ label: `${p.protocol}_time`, value: seconds(p.total_ms), uom: 's', min: 0, describe: `${label} ${seconds(p.total_ms).toFixed(3)} s` });
      if (p.tls) metrics.push({ label: `${p.protocol}_cert_days`, value: p.tls.days_left, uom: '', describe: `${label} certificate ${p.tls.days_left} days left` });
    }
    const mailbox = d.imap.mailbox;
    if (mailbox && !d.imap.failure) {
      metrics.push({ label: 'messages', value: mailbox.messages, uom: '', min: 0, describe: `${mailbox.messages} messages in ${folder}` });
      metrics.push({ label: 'unseen', value: mailbox.unseen, uom: '', min: 0, describe: `${mailbox.unseen} unseen` });
      metrics.push({ label: 'unseen_age', value: mailbox.oldest_unseen_age_s ?? 0, uom: 's', min: 0, describe: `oldest unseen ${mailbox.oldest_unseen_age_s ?? 0} s old` });
    }

    if (d.failure) {
      const failed = d.imap.failure ? d.imap : d.smtp;
      return { state: NagiosState.CRITICAL, summary: `${name}: ${failed.protocol.toUpperCase()} ${failed.failure!.code}: ${failed.failure!.message}`, metrics };
    }

    let probeProblem: string | null = null;
    if (options.probe || options.probeTo) {
      await probeOne(ctx, session, account, options, row);
      const p = row.probe;
      if (p?.delivered && p.delivery_ms !== null) {
        metrics.push({ label: 'delivery', value: seconds(p.delivery_ms), uom: 's', min: 0, describe: `probe delivered in ${seconds(p.delivery_ms).toFixed(3)} s (${p.landed_in})` });
      } else {
        probeProblem = row.status.lastError ?? 'the probe did not arrive';
      }
    }

    const evaluation = evaluate(metrics, thresholds);
    if (probeProblem) return { state: NagiosState.CRITICAL, summary: `${name}: ${probeProblem}`, metrics };
    const said = evaluation.breaches.length ? evaluation.breaches : metrics.filter((m) => m.label !== 'unseen_age' || (mailbox?.unseen ?? 0) > 0).map((m) => m.describe);
    return { state: evaluation.state, summary: `${name}: ${said.join(', ')}`, metrics };
  });
}

/**
 * An API account: its steps' times (the hosts' handshakes, the token refresh, the API call) as
 * perfdata; any failed step is CRITICAL. No mailbox counts: the API call is the profile.
 */
function apiOutcome(name: string, row: DiagnosedStatus, thresholds: Thresholds): Outcome {
  const failed = row.steps.find((s) => !s.ok);
  const metrics: Metric[] = [];
  const total = row.steps.reduce((sum, s) => sum + s.ms, 0) / 1000;
  metrics.push({ label: 'api_time', value: total, uom: 's', min: 0, describe: `API checks ${total.toFixed(3)} s` });
  if (failed) return { state: NagiosState.CRITICAL, summary: `${name}: ${failed.step}: ${failed.detail}`, metrics };
  const evaluation = evaluate(metrics, thresholds);
  const said = evaluation.breaches.length ? evaluation.breaches : metrics.map((m) => m.describe);
  return { state: evaluation.state, summary: `${name}: ${said.join(', ')}`, metrics };
}
