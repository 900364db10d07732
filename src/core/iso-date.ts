/** The one date format of JSON output, shared by core's JSON builders and the CLI's printers. */

/** ISO 8601 UTC without milliseconds: 2025-01-09T10:30:00Z. */
export function isoDate(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  const d = typeof date === 'string' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
