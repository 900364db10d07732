/**
 * INTERNALDATE (RFC 9051 2.3.3, `date-time`): `17-Jul-1996 02:44:25 -0700`, the day
 * possibly space-padded. A fixed format, read here so that diagnose needs no mail-date
 * parser from the layers above.
 */
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The moment, or null when the text is not an INTERNALDATE. */
export function parseInternalDate(value: string | null | undefined): Date | null {
  const m = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(value ?? '');
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  const offsetMinutes = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMinutes * 60_000;
  return Number.isNaN(utc) ? null : new Date(utc);
}
