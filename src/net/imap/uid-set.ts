/**
 * IMAP sequence sets of UIDs (RFC 9051 9, `sequence-set`): `1:3,5,9:10`. One module for
 * the sync feed (UID FETCH ranges, VANISHED) and the provider (FETCH, STORE, MOVE):
 * the two copies each had their own way with duplicates.
 */

/** [5, 1, 2, 3, 3] → `1:3,5`: runs collapsed, duplicates dropped, so long selections stay one short command line. */
export function compressUidSet(uids: Iterable<number>): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(',');
}

/**
 * `1:3,5,9:7` → [1, 2, 3, 5, 7, 8, 9]. UIDs above `max` are dropped, so a server's
 * `2:4294967295` never becomes four billion numbers.
 */
export function expandUidSet(set: string, max = Number.MAX_SAFE_INTEGER): number[] {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    const [from, to] = part.split(':').map(Number) as [number, number | undefined];
    if (to === undefined) uids.push(from);
    else for (let uid = Math.min(from, to); uid <= Math.min(Math.max(from, to), max); uid++) uids.push(uid);
  }
  return uids.filter((uid) => Number.isInteger(uid) && uid > 0 && uid <= max);
}
