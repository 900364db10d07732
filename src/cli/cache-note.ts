/** The stderr line that tells how old cached data is. */
export function cacheAgeNote(syncedAt: string | null, now: Date = new Date()): string {
  if (!syncedAt) return 'cache is empty: run the command without --offline (or mailops sync) first';
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(syncedAt).getTime()) / 1000));
  return `from the cache, ${humanAge(seconds)} old`;
}

export function humanAge(seconds: number): string {
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
