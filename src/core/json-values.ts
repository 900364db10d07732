/** Values as the contract's JSON writes them, for the reports core builds (status) and the CLI. */

/** ISO 8601 UTC without fractions (`2025-01-09T10:30:00Z`); null for no date or an unreadable one. */
export function isoDate(date: Date | string | null | undefined): string | null {
  if (date === null || date === undefined) return null;
  const d = typeof date === 'string' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
