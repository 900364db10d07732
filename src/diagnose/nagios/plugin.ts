/**
 * The monitoring-plugins side of `status --nagios`: thresholds per metric,
 * the state they give, and the one line Nagios, Icinga, Naemon or Zabbix
 * read: `MAILOPS OK - summary | 'label'=value[uom];warn;crit;min;max ...`.
 */
import { alerts, parseRange, RangeSyntaxError, type Range } from './range.js';

export const NagiosState = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type NagiosStateValue = (typeof NagiosState)[keyof typeof NagiosState];
const NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

export interface Metric {
  label: string;
  value: number;
  /** Perfdata unit: '' (a number), 's', 'ms', '%', 'B', 'c'. */
  uom: '' | 's' | 'ms' | '%' | 'B' | 'c';
  min?: number;
  /** How people read it in the summary, e.g. "IMAP 0.045 s". */
  describe: string;
}

/** The metrics thresholds can name; `time` and `cert_days` stand for both protocols' metrics. */
export const METRICS = ['imap_time', 'smtp_time', 'imap_cert_days', 'smtp_cert_days', 'unseen', 'unseen_age', 'messages', 'delivery'] as const;
const ALIASES: Record<string, string[]> = { time: ['imap_time', 'smtp_time'], cert_days: ['imap_cert_days', 'smtp_cert_days'] };

export class ThresholdError extends Error {}

export interface Thresholds {
  warning: Map<string, Range>;
  critical: Map<string, Range>;
}

/**
 * `--warning time=2 --critical cert_days=7:` (repeatable, or comma-separated:
 * `time=2,cert_days=30:`). A bare range means `time`, as check_imap's -w/-c.
 */
export function parseThresholds(warning: string[] = [], critical: string[] = []): Thresholds {
  return { warning: parseSide(warning, '--warning'), critical: parseSide(critical, '--critical') };
}

function parseSide(values: string[], flag: string): Map<string, Range> {
  const out = new Map<string, Range>();
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq).trim().toLowerCase() : 'time';
    const text = eq >= 0 ? item.slice(eq + 1) : item;
    const targets = ALIASES[name] ?? ((METRICS as readonly string[]).includes(name) ? [name] : null);
    if (!targets) throw new ThresholdError(`${flag} ${item}: unknown metric ${name} (use ${[...Object.keys(ALIASES), ...METRICS].join(', ')})`);
    let range: Range;
    try {
      range = parseRange(text);
    } catch (err) {
      throw new ThresholdError(`${flag} ${item}: ${err instanceof RangeSyntaxError ? err.message : String(err)}`);
    }
    for (const target of targets) out.set(target, range);
  }
  return out;
}

export interface Evaluation {
  state: NagiosStateValue;
  /** The metrics that crossed a threshold, for the summary: "imap_time 3.2 s > 2 (CRITICAL)". */
  breaches: string[];
}

export function evaluate(metrics: Metric[], thresholds: Thresholds): Evaluation {
  let state: NagiosStateValue = NagiosState.OK;
  const breaches: string[] = [];
  for (const m of metrics) {
    const critical = thresholds.critical.get(m.label);
    const warning = thresholds.warning.get(m.label);
    if (critical && alerts(critical, m.value)) {
      state = NagiosState.CRITICAL;
      breaches.push(`${m.describe} (critical ${critical.text})`);
    } else if (warning && alerts(warning, m.value)) {
      if (state === NagiosState.OK) state = NagiosState.WARNING;
      breaches.push(`${m.describe} (warning ${warning.text})`);
    }
  }
  return { state, breaches };
}

/** `label=value[uom];warn;crit;min;max` for each metric; quotes where the label needs them. */
export function perfdata(metrics: Metric[], thresholds: Thresholds): string {
  return metrics
    .map((m) => {
      const label = /^[A-Za-z0-9_.-]+$/.test(m.label) ? m.label : `'${m.label.replace(/'/g, "''")}'`;
      const fields = [thresholds.warning.get(m.label)?.text ?? '', thresholds.critical.get(m.label)?.text ?? '', m.min === undefined ? '' : String(m.min), ''];
      return `${label}=${formatValue(m.value)}${m.uom};${fields.join(';')}`.replace(/;+$/, '');
    })
    .join(' ');
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

/** The plugin's output line: service name, state, summary, perfdata. Text may not contain '|' (it separates perfdata). */
export function pluginLine(state: NagiosStateValue, summary: string, perf: string): string {
  const text = summary.replace(/\|/g, '/').replace(/[\r\n]+/g, ' ');
  return `MAILOPS ${NAMES[state]} - ${text}${perf ? ` | ${perf}` : ''}`;
}

export function stateName(state: NagiosStateValue): string {
  return NAMES[state];
}
