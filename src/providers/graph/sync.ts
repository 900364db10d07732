/**
 * The Microsoft Graph change feed: one delta link per folder (each folder id is a scope).
 *
 * - A folder's first sync (or --full) walks `messages/delta` from the start, page by page; each
 *   page's new messages are fetched (`/$value`, four at a time at most: the pacer's cap) and
 *   stored with a token saying where the walk is (its next link), so a killed run goes on from
 *   that page. The last page gives the delta link: the token from then on.
 * - Later runs call the delta link: new and changed messages, and `@removed` entries. A folder
 *   with no change is that one request.
 * - A move between folders is a removal in one folder and an addition in the other, with the same
 *   immutable id: the addition of a message the cache has is a membership and flag change, never
 *   a refetch. So that the removal cannot come first and take the message out of the cache, every
 *   folder's additions are applied before any folder's removals; a folder with removals keeps its
 *   old token until they are applied (a killed run replays its delta, which changes nothing twice).
 * - A delta link Graph no longer knows (410 Gone, syncStateNotFound) means that folder is walked
 *   again from the start and reconciled by id: only messages the cache lacks are fetched, and
 *   what the walk no longer lists leaves the folder. The old token stays until the walk ends.
 * - The folder list comes first each run: folders created are synced, folders deleted or renamed
 *   are followed (a renamed folder keeps its id; a deleted one's messages leave the cache).
 *
 * Tokens: `{"d": deltaLink}` once caught up; `{"n": nextLink}` while the first walk runs (`"n":
 * null` before its first page); `"s"`: the first sync's --since (epoch ms), kept for later walks.
 */
import type { Message } from '@microsoft/microsoft-graph-types';
import { MailopsError } from '../../domain/errors.js';
import { dayStart } from '../../domain/query.js';
import type { FlagsUpdate, MembershipChange, MessageUpsert, SyncEvent, SyncOptions } from '../../domain/sync.js';
import type { Folder } from '../../domain/types.js';
import { cachedFromRaw } from '../cached-message.js';
import { graphErrorCode, type CallOptions } from './api.js';
import { ENVELOPE_FIELDS, flagsOf, toEnvelope } from './envelope.js';
import type { GraphProvider } from './provider.js';

interface Token {
  /** The delta link: the folder is caught up to it. */
  d?: string;
  /** The first walk's next link (null: not started). */
  n?: string | null;
  /** The first sync's --since, as epoch ms. */
  s?: number;
}

interface DeltaPage {
  value?: Array<Message & { '@removed'?: { reason?: string } }>;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** A folder's walk that ended with removals to apply once every folder's additions are in. */
interface Pending {
  folder: string;
  removed: string[];
  token: string;
}

export async function* graphSyncFeed(provider: GraphProvider, state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
  const folders = await provider.listFolders(signal, options.knownFolders);
  yield { kind: 'folders', folders };
  const wanted = options.folders ? new Set(options.folders) : null;
  const selected = folders.filter((f) => f.selectable && (!wanted || wanted.has(f.id)));
  const pending: Pending[] = [];
  for (const folder of selected) {
    try {
      const left = yield* syncFolder(provider, folder, parseToken(state.get(folder.id)), options, signal);
      if (left) pending.push(left);
    } catch (error) {
      // A folder Graph refuses (gone since the list, no right to read it): the others go on.
      if (error instanceof MailopsError && (error.code === 'FOLDER_NOT_FOUND' || error.code === 'AUTH_FAILED')) {
        yield { kind: 'failed', scope: folder.id, error: error.message };
        continue;
      }
      throw error;
    }
  }
  // Removals last: a message moved between two folders was added to its new one by now.
  for (const { folder, removed, token } of pending) {
    yield { kind: 'membership', scope: folder, changes: removed.map((id) => ({ id, added: [], removed: [folder] })), checkpoint: token };
    yield { kind: 'checkpoint', scope: folder, token, complete: true };
  }
}

/**
 * One folder's delta walk. Returns the removals it found (with the token that covers them) for
 * the caller to apply after every folder's additions; null when it had none (its token is stored).
 */
async function* syncFolder(provider: GraphProvider, folder: Folder, stored: Token | null, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent, Pending | null> {
  const call: CallOptions = { signal, deadline: null, notFound: () => new MailopsError('FOLDER_NOT_FOUND', `folder ${folder.path} is gone`) };
  let token: Token;
  let reconcile = false;
  if (!stored || options.full) {
    token = { n: null, ...(options.since ? { s: dayStart(options.since).getTime() } : {}) };
    yield { kind: 'reset', scope: folder.id, reason: stored ? 'full' : 'new', checkpoint: writeToken(token) };
    // For the progress bar: the folder's count (with --since, what comes is less).
    if (folder.totalCount) yield { kind: 'plan', scope: folder.id, messages: folder.totalCount };
  } else token = stored;

  let url: string | null = token.d ?? token.n ?? null;
  // Messages listed by a reconciling walk: the folder keeps exactly these.
  const listed = new Set<string>();
  const removed: string[] = [];
  // Entries the walk has seen: none on a delta link is a folder unchanged.
  let seen = 0;
  for (;;) {
    const response = await provider.api.send(url ? { method: 'GET', path: url, prefer: [maxPageSize(options)], what: 'messages.delta' } : startRequest(folder, token, options), call);
    if (response.status === 410 || (response.status >= 400 && /syncstate/i.test(graphErrorCode(response.body)))) {
      if (reconcile) throw new MailopsError('FAILED', `Microsoft Graph refused a fresh delta walk of ${folder.path}`, { hint: 'run again with --trace' });
      // The delta link is void: walk the folder again from the start and keep what it lists.
      reconcile = true;
      url = null;
      seen = 0;
      token = { n: null, ...(token.s !== undefined ? { s: token.s } : {}) };
      removed.length = 0;
      continue;
    }
    const page = decodePage(provider, response, call);
    const entries = page.value ?? [];
    seen += entries.length;
    const present = entries.filter((m) => m.id && !m['@removed']);
    for (const m of entries) if (m.id && m['@removed']) removed.push(m.id);
    if (reconcile) for (const m of present) listed.add(m.id!);

    const known = options.cached?.(present.map((m) => m.id!)) ?? new Set<string>();
    const adds = present.filter((m) => !known.has(m.id!));
    const changed = present.filter((m) => known.has(m.id!));
    const upserts = await fetchMessages(provider, folder.id, adds, options, signal);

    const next = page['@odata.nextLink'];
    const delta = page['@odata.deltaLink'];
    // Where this page leaves the walk. A walk with removals, or a reconciling one, keeps its old
    // token until its end (the removals, or what it did not list, are applied only then).
    const holds = removed.length > 0 || reconcile;
    const at: Token | null = next ? { n: next, ...(token.s !== undefined ? { s: token.s } : {}) } : delta ? { d: delta, ...(token.s !== undefined ? { s: token.s } : {}) } : null;
    if (!at) throw new MailopsError('FAILED', `Microsoft Graph answered a delta page of ${folder.path} with neither a next nor a delta link`, { hint: 'run again with --trace' });
    const checkpoint = holds || !next ? undefined : writeToken(at);
    if (upserts.messages.length) yield { kind: 'upsert', scope: folder.id, messages: upserts.messages, bytes: upserts.bytes, checkpoint };
    if (changed.length) {
      const memberships: MembershipChange[] = changed.map((m) => ({ id: m.id!, added: [{ folder: folder.id, uid: null }], removed: [] }));
      const flags: FlagsUpdate[] = changed.map((m) => ({ id: m.id!, flags: flagsOf(m) }));
      yield { kind: 'membership', scope: folder.id, changes: memberships, checkpoint };
      yield { kind: 'flags', scope: folder.id, updates: flags, checkpoint };
    }
    if (checkpoint && !upserts.messages.length && !changed.length) yield { kind: 'checkpoint', scope: folder.id, token: checkpoint, complete: false };

    if (next) {
      url = next;
      continue;
    }
    // The walk's end: the delta link is the token from now on.
    const done = writeToken(at);
    if (reconcile) {
      yield { kind: 'present', scope: folder.id, ids: [...listed], upTo: null, checkpoint: done };
      yield { kind: 'checkpoint', scope: folder.id, token: done, complete: true };
      return null;
    }
    if (removed.length > 0) return { folder: folder.id, removed, token: done };
    if (seen === 0 && stored?.d && !options.full) {
      yield { kind: 'unchanged', scope: folder.id };
      if (done !== writeToken(stored)) yield { kind: 'checkpoint', scope: folder.id, token: done, complete: false };
      return null;
    }
    yield { kind: 'checkpoint', scope: folder.id, token: done, complete: true };
    return null;
  }
}

/** The first request of a walk: the envelope fields, and --since as Graph's one delta filter. */
function startRequest(folder: Folder, token: Token, options: SyncOptions) {
  return {
    method: 'GET' as const,
    path: `/me/mailFolders/${encodeURIComponent(folder.id)}/messages/delta`,
    query: { $select: ENVELOPE_FIELDS.join(','), $filter: token.s !== undefined ? `receivedDateTime ge ${new Date(token.s).toISOString()}` : undefined },
    prefer: [maxPageSize(options)],
    what: 'messages.delta',
  };
}

function maxPageSize(options: SyncOptions): string {
  return `odata.maxpagesize=${Math.max(1, Math.min(1000, options.batchSize))}`;
}

function decodePage(provider: GraphProvider, response: { status: number; body: Buffer; truncated: boolean }, call: CallOptions): DeltaPage {
  if (response.status >= 200 && response.status < 300 && !response.truncated) {
    try {
      return JSON.parse(response.body.toString('utf8')) as DeltaPage;
    } catch {
      throw new MailopsError('FAILED', 'Microsoft Graph answered a delta page with something that is not JSON', { hint: 'run again with --trace' });
    }
  }
  if (response.truncated) throw new MailopsError('FAILED', 'Microsoft Graph answered a delta page too large to read', { hint: 'run again with --trace' });
  throw provider.api.partError({ status: response.status, body: safeJson(response.body) }, 'messages.delta', call);
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
}

/**
 * The messages of a page the cache lacks, as it keeps them: the MIME of each (`/$value`; the
 * pacer keeps four in flight), or the envelope alone with --headers-only. A message gone since the
 * page was read is left out: the next delta says so.
 */
async function fetchMessages(provider: GraphProvider, folder: string, messages: Message[], options: SyncOptions, signal: AbortSignal): Promise<{ messages: MessageUpsert[]; bytes: number }> {
  const out: MessageUpsert[] = [];
  let bytes = 0;
  const folders = [{ folder, uid: null }];
  if (options.headersOnly) {
    for (const m of messages) {
      const e = toEnvelope(m, folder);
      out.push({
        message: { id: e.ref.id, messageId: e.messageId, subject: e.subject, from: e.from, to: e.to, cc: e.cc, bcc: [], replyTo: [], inReplyTo: null, references: [], date: e.date, internalDate: e.received, size: e.size, flags: e.flags, hasAttachments: e.hasAttachments, raw: null, bodyText: null },
        folders,
      });
    }
    return { messages: out, bytes };
  }
  const raws = await Promise.all(
    messages.map((m) =>
      provider.api.mime(m.id!, { signal, deadline: null, notFound: () => new MailopsError('MESSAGE_NOT_FOUND', `message ${m.id} is gone`) }).catch((error: unknown) => {
        if (error instanceof MailopsError && error.code === 'MESSAGE_NOT_FOUND') return null;
        throw error;
      }),
    ),
  );
  messages.forEach((m, i) => {
    const raw = raws[i];
    if (!raw) return;
    bytes += raw.length;
    const received = m.receivedDateTime ? new Date(m.receivedDateTime) : null;
    out.push({ message: cachedFromRaw(raw, { id: m.id!, received, flags: flagsOf(m), hasAttachments: m.hasAttachments ?? undefined }, options.bodyLimit), folders });
  });
  return { messages: out, bytes };
}

function parseToken(text: string | undefined): Token | null {
  if (!text) return null;
  try {
    const token = JSON.parse(text) as Token;
    return token && typeof token === 'object' && (typeof token.d === 'string' || token.n === null || typeof token.n === 'string') ? token : null;
  } catch {
    return null;
  }
}

function writeToken(token: Token): string {
  return JSON.stringify(token);
}
