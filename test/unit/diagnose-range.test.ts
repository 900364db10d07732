// The monitoring-plugins threshold range syntax (guidelines, "Threshold and ranges").
import { describe, expect, it } from 'vitest';
import { alerts, parseRange } from '../../src/diagnose/nagios/range.js';

describe('parseRange', () => {
  it('reads the five forms of the guidelines', () => {
    expect(parseRange('10')).toEqual({ text: '10', start: 0, end: 10, inside: false });
    expect(parseRange('10:')).toEqual({ text: '10:', start: 10, end: Infinity, inside: false });
    expect(parseRange('~:10')).toEqual({ text: '~:10', start: -Infinity, end: 10, inside: false });
    expect(parseRange('10:20')).toEqual({ text: '10:20', start: 10, end: 20, inside: false });
    expect(parseRange('@10:20')).toEqual({ text: '@10:20', start: 10, end: 20, inside: true });
    expect(parseRange('-5.5:0.25')).toMatchObject({ start: -5.5, end: 0.25 });
  });

  it('alerts outside the range, or inside it with @ (inclusive ends)', () => {
    const cases: Array<[string, number, boolean]> = [
      ['10', -1, true], ['10', 0, false], ['10', 10, false], ['10', 11, true],
      ['10:', 9.9, true], ['10:', 10, false], ['10:', 1e9, false],
      ['~:10', -1e9, false], ['~:10', 10.1, true],
      ['10:20', 9, true], ['10:20', 15, false], ['10:20', 21, true],
      ['@10:20', 10, true], ['@10:20', 20, true], ['@10:20', 9, false], ['@10:20', 21, false],
    ];
    for (const [range, value, expected] of cases) expect(alerts(parseRange(range), value), `${range} with ${value}`).toBe(expected);
  });

  it('rejects what is not a range', () => {
    for (const bad of ['', 'abc', '10:5', '1:2:3', '@', '~', 'ten:20', '10:x']) expect(() => parseRange(bad), bad).toThrow(/not a threshold range/);
  });
});
