/**
 * Parses the Date header strictly. mailparser replaces an unparseable Date with
 * the current time, and V8's Date.parse guesses (a bare "1" is 2001, a missing
 * zone is local time), so `read` would show a date the message never had. Here a
 * date that cannot be read is null, and the raw header stays visible in --headers.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 5322 section 4.3 obsolete zone names, in minutes east of UTC. Military letters are ignored (treated as -0000), as the RFC advises. */
const ZONES: Record<string, number> = {
  ut: 0, gmt: 0, z: 0,
  edt: -4 * 60, est: -5 * 60,
  cdt: -5 * 60, cst: -6 * 60,
  mdt: -6 * 60, mst: -7 * 60,
  pdt: -7 * 60, pst: -8 * 60,
};

// [day-of-week ,] day month year hour:minute[:second] [zone], with CFWS comments already removed.
const RFC5322 =
  /^(?:[a-z]{3,9}\s*,?\s*)?(\d{1,2})[\s-]+([a-z]{3,9})[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([+-]\d{4}|[a-z]{1,5}))?$/i;

// 2025-01-09T10:30:00Z or with an offset; some generators write this instead.
const ISO8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$/i;

export function parseMailDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const text = value.replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  return parseRfc5322(text) ?? parseIso8601(text);
}

function parseRfc5322(text: string): Date | null {
  const m = RFC5322.exec(text);
  if (!m) return null;
  const [, day, monthName, yearText, hour, minute, second, zone] = m;
  const month = MONTHS.indexOf((monthName ?? '').slice(0, 3).toLowerCase());
  if (month < 0) return null;
  let year = Number(yearText);
  // RFC 5322 4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
  if (yearText!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText!.length === 3) year += 1900;
  const offset = zoneOffsetMinutes(zone);
  if (offset === undefined) return null;
  return build(year, month, Number(day), Number(hour), Number(minute), Number(second ?? 0), offset);
}

function parseIso8601(text: string): Date | null {
  const m = ISO8601.exec(text);
  if (!m) return null;
  const [, year, month, day, hour, minute, second, zone] = m;
  const offset = zoneOffsetMinutes(zone === 'Z' || zone === 'z' ? 'Z' : zone!.replace(':', ''));
  if (offset === undefined) return null;
  return build(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second ?? 0), offset);
}

/** Minutes east of UTC; a missing or unknown zone counts as UTC (RFC 5322 says "-0000": unknown). */
function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (zone === undefined) return 0;
  const numeric = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (numeric) {
    const minutes = Number(numeric[3]);
    if (minutes > 59) return undefined;
    const total = Number(numeric[2]) * 60 + minutes;
    return numeric[1] === '-' ? -total : total;
  }
  return ZONES[zone.toLowerCase()] ?? 0;
}

function build(year: number, month: number, day: number, hour: number, minute: number, second: number, offset: number): Date | null {
  // second 60 is a leap second; Date cannot hold it, so it rolls over like other mail readers do.
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const utc = Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
  const date = new Date(utc);
  // Date.UTC silently rolls 31 Feb over to March; such a date is not a date.
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCMonth() !== month) return null;
  return Number.isNaN(date.getTime()) ? null : date;
}
