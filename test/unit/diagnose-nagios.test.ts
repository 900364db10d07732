// Thresholds per metric, the state they give, and the perfdata of status --nagios.
import { describe, expect, it } from 'vitest';
import { NagiosState, ThresholdError, evaluate, parseThresholds, perfdata, pluginLine, type Metric } from '../../src/diagnose/nagios/plugin.js';

const metrics: Metric[] = [
  { label: 'imap_time', value: 0.0456, uom: 's', min: 0, describe: 'IMAP 0.046 s' },
  { label: 'smtp_time', value: 3.2, uom: 's', min: 0, describe: 'SMTP 3.200 s' },
  { label: 'imap_cert_days', value: 12, uom: '', describe: 'IMAP certificate 12 days left' },
  { label: 'unseen', value: 4, uom: '', min: 0, describe: '4 unseen' },
];

describe('thresholds', () => {
  it('reads METRIC=RANGE, comma lists and repeats; time and cert_days cover both protocols; a bare range is time', () => {
    const t = parseThresholds(['time=2,cert_days=30:', 'unseen=10'], ['5']);
    expect([...t.warning.keys()]).toEqual(['imap_time', 'smtp_time', 'imap_cert_days', 'smtp_cert_days', 'unseen']);
    expect(t.critical.get('smtp_time')?.text).toBe('5');
    expect(() => parseThresholds(['latency=2'])).toThrow(ThresholdError);
    expect(() => parseThresholds([], ['unseen=5:1'])).toThrow(/--critical unseen=5:1: .*start is above the end/);
  });

  it('the worst breach sets the state', () => {
    expect(evaluate(metrics, parseThresholds())).toEqual({ state: NagiosState.OK, breaches: [] });
    expect(evaluate(metrics, parseThresholds(['time=2']))).toEqual({ state: NagiosState.WARNING, breaches: ['SMTP 3.200 s (warning 2)'] });
    const both = evaluate(metrics, parseThresholds(['time=2'], ['cert_days=14:']));
    expect(both.state).toBe(NagiosState.CRITICAL);
    expect(both.breaches).toEqual(['SMTP 3.200 s (warning 2)', 'IMAP certificate 12 days left (critical 14:)']);
  });

  it('perfdata: label=value[uom];warn;crit;min, trailing empty fields dropped, labels quoted when needed', () => {
    const t = parseThresholds(['time=2', 'unseen=@0:0'], ['time=5']);
    expect(perfdata(metrics, t)).toBe('imap_time=0.046s;2;5;0 smtp_time=3.2s;2;5;0 imap_cert_days=12 unseen=4;@0:0;;0');
    expect(perfdata([{ label: 'odd label', value: 1, uom: '', describe: '' }], parseThresholds())).toBe("'odd label'=1");
    expect(pluginLine(NagiosState.CRITICAL, 'a | b', 'x=1')).toBe('MAILOPS CRITICAL - a / b | x=1');
    expect(pluginLine(NagiosState.UNKNOWN, 'no data', '')).toBe('MAILOPS UNKNOWN - no data');
  });
});
