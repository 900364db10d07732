/**
 * The --offline reads: `ls`, `search`, `read` and `folders` served from the
 * cache `sync` fills, in the same domain types the live provider returns, so
 * the CLI prints them through the same code. Nothing here opens a connection
 * or asks for a secret, and nothing knows a backend: ids are the opaque ids
 * sync stored, folders are folder ids core resolved (src/core/folder-resolver.ts).
 *
 * - Ids are the live ids, so an id from `ls --offline` works with a live
 *   `read`, `mark` or `move`, and back. A bare number is the message's number
 *   in the given folder (an IMAP UID), looked up in the memberships.
 * - An account that was never synced has an empty cache: lists are empty,
 *   not an error. Once it has been synced, a folder the cache does not hold
 *   is FOLDER_NOT_FOUND (exit 5), as it is live.
 * - `read` needs the stored message bytes; a message synced without them
 *   (over the size limit, or --headers-only) is NOT_CACHED (exit 5).
 */
import { MailopsError } from '../domain/errors.js';
import type { FetchedMessage, IdCodec } from '../domain/provider.js';
import type { QueryNode } from '../domain/query.js';
import type { Database } from '../store/db.js';
import type { Envelope, Folder, Page, PageRequest } from '../domain/types.js';
import { CacheQuery, type CachedEnvelope, type CachedFolder } from '../store/cache-query.js';
import { MessageCache } from '../store/cache.js';
import { FolderRepository } from '../store/folders.js';
import { sortFolders } from './folders.js';

/** How old the cache is, for the stderr note and `cache_synced_at`. */
export interface CacheState {
  /** When the account's cache was last caught up in any scope; null when never. */
  syncedAt: string | null;
  /**
   * Whether the cache holds anything for this account: sync has started on it
   * (it then holds at least one folder), or, for the folder list, a live
   * `folders` stored one.
   */
  synced: boolean;
}

export interface Offline<T> {
  result: T;
  cache: CacheState;
}

function cacheState(db: Database, account: string, folders: CachedFolder[]): CacheState {
  return { syncedAt: new MessageCache(db).syncedAt(account), synced: folders.length > 0 };
}

export function toEnvelope(m: CachedEnvelope): Envelope {
  return {
    ref: { id: m.id, folder: m.folder },
    uid: m.uid,
    messageId: m.messageId,
    subject: m.subject,
    from: m.from,
    to: m.to,
    cc: m.cc,
    // As the live envelope: the Date header, else the arrival time.
    date: m.date ?? m.internalDate,
    received: m.internalDate,
    size: m.size,
    flags: m.flags,
    hasAttachments: m.hasAttachments,
  };
}

function folderNotCached(folder: string, folders: CachedFolder[]): MailopsError {
  return new MailopsError('FOLDER_NOT_FOUND', `folder "${folder}" is not in the cache`, {
    hint: `cached folders: ${folders.slice(0, 10).map((f) => f.path).join(', ')}${folders.length > 10 ? ', ...' : ''}; sync this one with mailops sync --folders ${JSON.stringify(folder)}`,
  });
}

function cachedFolder(folders: CachedFolder[], folder: string): CachedFolder {
  const found = folders.find((f) => f.id === folder);
  if (!found) throw folderNotCached(folder, folders);
  return found;
}

function page(items: Envelope[], total: number, request: PageRequest): Page<Envelope> {
  const start = (request.page - 1) * request.limit;
  return {
    items,
    total,
    // The cache counts exactly, and pages by number: no cursors.
    totalIsEstimate: false,
    page: request.page,
    pageSize: request.limit,
    hasNext: start + items.length < total,
    nextCursor: null,
  };
}

/**
 * One folder's messages (`folder` null: every cached folder, merged newest
 * first by date), filtered by `query`, a page at a time. `folder` is a folder id.
 */
export function listOffline(
  db: Database,
  account: string,
  folder: string | null,
  query: QueryNode | null,
  request: PageRequest,
): Offline<Page<Envelope>> {
  const reader = new CacheQuery(db);
  const folders = reader.folders(account);
  const cache = cacheState(db, account, folders);
  if (!cache.synced) return { result: page([], 0, request), cache };
  const scope = folder === null ? null : [cachedFolder(folders, folder).id];
  const { items, total } = reader.page(account, scope, query, request);
  return { result: page(items.map(toEnvelope), total, request), cache };
}

/**
 * One message's stored bytes and its envelope (flags as of the last sync),
 * for `read --offline`. `id` is what `ls` prints, or a bare number (IMAP UID)
 * in `folder`, a folder id. With the backend's codec, an id of a folder the
 * cache does not hold is FOLDER_NOT_FOUND, as it is live.
 */
export function readOffline(db: Database, account: string, id: string, folder: string, ids?: IdCodec): Offline<FetchedMessage> {
  const folders = new CacheQuery(db).folders(account);
  const cache = cacheState(db, account, folders);
  const rerun = 'run the command without --offline to read it from the server, or mailops sync to refresh the cache';
  if (!cache.synced) {
    throw new MailopsError('MESSAGE_NOT_FOUND', `message ${id} is not in the cache: this account has not been synced`, { hint: rerun });
  }
  const store = new MessageCache(db);
  const typed = id.trim();
  let stored: string | null = typed;
  if (/^[0-9]+$/.test(typed)) {
    cachedFolder(folders, folder);
    stored = store.idByUid(account, folder, Number(typed));
  }
  const message = stored === null ? null : store.get(account, stored);
  if (!message) {
    const named = stored === typed ? ids?.parse(typed, folder) : null;
    if (named) {
      cachedFolder(folders, named.folder);
      // A well-formed id of a cached folder: the message went (deleted, moved, or renumbered) since.
      throw new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id} in the cache`, {
        hint: 'it was deleted, moved or renumbered since; get current ids with mailops ls --offline, or run mailops sync',
      });
    }
    throw new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id} in the cache`, { hint: rerun });
  }
  // In the folder it was asked in when it is there (a message in several), else its first one.
  const memberships = store.memberships(account, message.id);
  const membership = memberships.find((m) => m.folder === folder) ?? memberships[0] ?? { folder, uid: null };
  const envelope = toEnvelope({ ...message, ...membership });
  if (message.raw === null) {
    throw new MailopsError(
      'NOT_CACHED',
      `message ${envelope.ref.id} is in the cache without its content (it is over the sync size limit, or was synced with --headers-only)`,
      { hint: 'run the command without --offline to fetch it from the server' },
    );
  }
  return { result: { raw: message.raw, envelope }, cache };
}

/**
 * The folder list as last fetched from the server, by a live `folders` or by
 * `sync`: its age is the later of the two.
 */
export function foldersOffline(db: Database, account: string): Offline<Folder[]> {
  const listed = new FolderRepository(db).list(account);
  const cache = cacheState(db, account, new CacheQuery(db).folders(account));
  const latest = [listed.listedAt, cache.syncedAt].filter((t): t is string => t !== null).sort().at(-1) ?? null;
  return { result: sortFolders(listed.folders), cache: { synced: listed.folders.length > 0 || cache.synced, syncedAt: latest } };
}

/** The SQL `search --offline` runs, for --explain. */
export function explainOffline(db: Database, query: QueryNode | null, folder: string | null): string {
  const { sql, params } = new CacheQuery(db).explain(query, folder);
  return `${sql}\n-- parameters: ${JSON.stringify(params)}`;
}
