/**
 * Threshold ranges in the monitoring-plugins syntax
 * (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT):
 *
 *   10      alert outside 0..10          10:     alert below 10
 *   ~:10    alert above 10               10:20   alert outside 10..20
 *   @10:20  alert inside 10..20 (inclusive)
 *
 * The text is kept as given, because perfdata repeats it verbatim.
 */

export interface Range {
  text: string;
  start: number;
  end: number;
  /** `@`: alert when the value is inside [start, end] instead of outside. */
  inside: boolean;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

export class RangeSyntaxError extends Error {
  constructor(readonly text: string, reason: string) {
    super(`not a threshold range: ${JSON.stringify(text)} (${reason})`);
    this.name = 'RangeSyntaxError';
  }
}

export function parseRange(text: string): Range {
  let body = text.trim();
  if (body === '') throw new RangeSyntaxError(text, 'empty');
  const inside = body.startsWith('@');
  if (inside) body = body.slice(1);
  let start = 0;
  let end = Infinity;
  const colon = body.indexOf(':');
  if (colon === -1) {
    end = number(text, body);
  } else {
    const left = body.slice(0, colon);
    const right = body.slice(colon + 1);
    start = left === '~' ? -Infinity : left === '' ? 0 : number(text, left);
    end = right === '' ? Infinity : number(text, right);
  }
  if (start > end) throw new RangeSyntaxError(text, 'the start is above the end');
  return { text: text.trim(), start, end, inside };
}

function number(text: string, part: string): number {
  if (!NUMBER.test(part)) throw new RangeSyntaxError(text, `${JSON.stringify(part)} is not a number`);
  return Number(part);
}

/** Whether `value` raises an alert under `range`. */
export function alerts(range: Range, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}
