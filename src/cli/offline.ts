/**
 * What every --offline command adds to its output: the age of the cache on
 * stderr, and `cache_synced_at` (null when never synced) in its JSON.
 */
import type { CacheState } from '../core/offline.js';
import { cacheAgeNote } from './cache-note.js';
import type { CliContext } from './context.js';
import { isoDate } from './output.js';

/** Notes the cache's age and returns the JSON field that says it. */
export function noteCache(ctx: CliContext, cache: CacheState): { cache_synced_at: string | null } {
  if (cache.synced && cache.syncedAt === null) {
    // Sync has started on this account but no folder has finished: there may be some messages already.
    ctx.note('from the cache, whose first sync has not finished: run mailops sync');
  } else {
    ctx.note(cacheAgeNote(cache.syncedAt));
  }
  return { cache_synced_at: isoDate(cache.syncedAt) };
}
