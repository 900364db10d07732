/**
 * The Gmail change feed: one historyId for the whole account (the scope ACCOUNT_SCOPE).
 *
 * - First sync (or --full): the profile's historyId is taken first, as the baseline, so nothing
 *   that happens during the listing is missed; then the folder list, then messages.list, page by
 *   page, each page's messages fetched through the batch endpoint and stored with a token saying
 *   where the listing is (a killed run goes on from that page). When the listing ends, the token
 *   becomes the baseline: the next run replays what happened meanwhile (messages the cache already
 *   has are not fetched again).
 * - Then users.history from the stored historyId: new messages fetched, label changes as
 *   membership and flag changes (never a delete and a refetch), deletions gone. A sync that finds
 *   nothing new is that one history.list request.
 * - History Google no longer has (404) means a resync reconciled by id: everything the cache
 *   covers is listed again, only messages the cache lacks are fetched whole, the others get their
 *   labels (format=minimal), and what is not listed any more goes. Nothing stale is served
 *   meanwhile: the old token stays until the resync ends, so a killed resync starts over.
 *
 * What the cache covers is in the token too: the first sync's --folders and --since. History
 * keeps that coverage up to date whatever a later run's --folders says (it is one feed for the
 * account); a later run that asks for more folders lists what it lacks of them first, so a
 * `sync --folders INBOX` followed by a plain `sync` misses nothing.
 *
 * The token is JSON: `{"h": historyId, "f": folder ids}` once caught up, plus `"c"` (the folder
 * ids covered; absent: all) and `"w"` (after this epoch second; absent: all time), and `"l":
 * {"i": listing target, "p": pageToken}` while the first listing runs. The folder ids let a run
 * notice a label it has not seen (a new user label) and refresh the folder list only then.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import { MailopsError, isMailopsError } from '../../domain/errors.js';
import { dayStart } from '../../domain/query.js';
import { ACCOUNT_SCOPE, type CachedMessage, type MembershipChange, type MessageUpsert, type SyncEvent, type SyncOptions } from '../../domain/sync.js';
import type { Folder } from '../../domain/types.js';
import { parseReferences } from '../../mime/index-text.js';
import { cachedFromRaw } from '../cached-message.js';
import { flagsOf, toEnvelope } from './envelope.js';
import { ALL_MAIL, membershipsOf } from './folders.js';
import { metadataCall, type GmailProvider } from './provider.js';
import type { ApiCall } from './api.js';

interface Token {
  /** The historyId the cache is caught up to (or, while listing, the listing's baseline). */
  h: string;
  /** Folder ids the cache knows. */
  f: string[];
  /** Folder ids the cache covers (the first sync's --folders); absent: every folder. */
  c?: string[];
  /** Messages after this epoch second (the first sync's --since); absent: all time. */
  w?: number;
  /** First listing in progress: the listing target `i` (of `c`, or the whole mailbox), its next page. */
  l?: { i?: number; p: string | null };
}

/** What one messages.list walk lists: a folder id, or null for the whole mailbox (Spam and Trash too). */
type Target = string | null;

const HISTORY_TYPES = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'] as const;
/** messages.list and history.list return at most 500 a page. */
const PAGE_LIMIT = 500;

export async function* gmailSyncFeed(provider: GmailProvider, state: ReadonlyMap<string, string>, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
  const stored = parseToken(state.get(ACCOUNT_SCOPE));
  if (!stored || options.full) {
    yield* firstSync(provider, null, options, signal, options.full && stored ? 'full' : 'new');
    return;
  }
  if (stored.l) {
    yield* firstSync(provider, stored, options, signal, 'new');
    return;
  }
  let history: Array<gmail_v1.Schema$History>;
  let latest: string;
  try {
    const notFound = () => new MailopsError('NOT_FOUND', `Gmail no longer has the history since ${stored.h}`);
    const answer = await provider.api.listHistory(stored.h, { historyTypes: [...HISTORY_TYPES] }, { signal, deadline: null, notFound });
    history = answer.history;
    latest = answer.historyId ?? stored.h;
  } catch (error) {
    if (!isMailopsError(error) || error.code !== 'NOT_FOUND') throw error;
    yield* reconcile(provider, stored, options, signal);
    return;
  }
  const wider = widening(stored, options);
  if (history.length === 0 && !wider) {
    yield { kind: 'unchanged', scope: ACCOUNT_SCOPE };
    // The mailbox's historyId may move on without a change of the kinds asked for.
    if (latest !== stored.h) yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ ...stored, h: latest }), complete: false };
    return;
  }
  let token: Token = { ...stored, h: latest };
  if (history.length > 0) token = yield* applyHistory(provider, stored, history, latest, options, signal, !wider);
  if (wider) yield* widen(provider, token, wider, options, signal);
}

/** What the cache covers, as the folder ids to check a message against (null: everything). */
function coverageOf(token: Pick<Token, 'c'>): ReadonlySet<string> | null {
  return token.c ? new Set(token.c) : null;
}

function covers(coverage: ReadonlySet<string> | null, folders: readonly string[]): boolean {
  return coverage === null || folders.some((f) => coverage.has(f));
}

/** What history says happened to each message, in order: its labels now, and whether it is new or gone. */
interface Change {
  added: boolean;
  deleted: boolean;
  labels: Set<string> | null;
}

/** Applies history; returns the token it leaves (checkpointed, complete unless more follows). */
async function* applyHistory(
  provider: GmailProvider,
  stored: Token,
  history: gmail_v1.Schema$History[],
  latest: string,
  options: SyncOptions,
  signal: AbortSignal,
  complete: boolean,
): AsyncGenerator<SyncEvent, Token> {
  const changes = new Map<string, Change>();
  const change = (id: string): Change => {
    let c = changes.get(id);
    if (!c) changes.set(id, (c = { added: false, deleted: false, labels: null }));
    return c;
  };
  const mentioned = new Set<string>();
  for (const record of history) {
    for (const { message } of record.messagesAdded ?? []) {
      if (!message?.id) continue;
      const c = change(message.id);
      c.added = true;
      c.deleted = false;
      c.labels = new Set(message.labelIds ?? []);
      for (const l of message.labelIds ?? []) mentioned.add(l);
    }
    for (const { message } of record.messagesDeleted ?? []) if (message?.id) change(message.id).deleted = true;
    for (const entry of [...(record.labelsAdded ?? []), ...(record.labelsRemoved ?? [])]) {
      if (!entry.message?.id) continue;
      // The record carries the message's labels after the change: the last one says where it is now.
      change(entry.message.id).labels = new Set(entry.message.labelIds ?? []);
      for (const l of entry.labelIds ?? []) mentioned.add(l);
    }
  }

  // A label this cache has not seen (a new user label): the folder list first.
  let folderIds = new Set(stored.f);
  if ([...mentioned].some((l) => !folderIds.has(l) && isUserLabel(l))) {
    const folders = await provider.listFolders(signal);
    yield { kind: 'folders', folders };
    folderIds = selectableIds(folders);
  }
  const coverage = coverageOf(stored);

  const gone = [...changes].filter(([, c]) => c.deleted).map(([id]) => id);
  const living = [...changes].filter(([, c]) => !c.deleted && c.labels !== null);
  // Messages the cache has get their labels (a message added during the first listing is listed
  // and replayed here: not fetched twice); the others are fetched when a covered folder holds them.
  const known = options.cached?.(living.map(([id]) => id)) ?? new Set(living.filter(([, c]) => !c.added).map(([id]) => id));
  const relabelled = living.filter(([id]) => known.has(id));
  // A message the cache lacks that was not added meanwhile is older than the first sync: with a
  // --since window over every folder, older than the window (left out); else it came into a
  // covered folder from one that is not.
  const wanted = ([, c]: [string, Change]) => (c.added || stored.w === undefined || stored.c !== undefined) && covers(coverage, membershipsOf([...c.labels!], folderIds));
  const fresh = living.filter((entry) => !known.has(entry[0]) && wanted(entry)).map(([id]) => id);

  if (fresh.length) yield { kind: 'plan', scope: ACCOUNT_SCOPE, messages: fresh.length };
  for (let i = 0; i < fresh.length; i += options.batchSize) {
    const { messages, bytes } = await fetchMessages(provider, fresh.slice(i, i + options.batchSize), folderIds, coverage, options, signal);
    if (messages.length) yield { kind: 'upsert', scope: ACCOUNT_SCOPE, messages, bytes };
  }
  if (relabelled.length) {
    yield {
      kind: 'membership',
      scope: ACCOUNT_SCOPE,
      // The message's labels after the change are in the record: it is in exactly those folders.
      changes: relabelled.map(([id, c]) => membershipChange(id, c.labels!, folderIds)),
    };
    yield { kind: 'flags', scope: ACCOUNT_SCOPE, updates: relabelled.map(([id, c]) => ({ id, flags: flagsOf([...c.labels!]) })) };
  }
  if (gone.length) yield { kind: 'gone', scope: ACCOUNT_SCOPE, ids: gone };
  const token: Token = { ...stored, h: latest, f: [...folderIds] };
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken(token), complete };
  return token;
}

/**
 * The first listing (resumed from `resume.l` when a killed run left one), or --full. The
 * baseline historyId comes before everything else, so history replays whatever the listing missed.
 */
async function* firstSync(provider: GmailProvider, resume: Token | null, options: SyncOptions, signal: AbortSignal, reason: 'new' | 'full'): AsyncGenerator<SyncEvent> {
  const profile = resume ? null : await provider.api.getProfile({ signal, deadline: null });
  const folders = await provider.listFolders(signal);
  yield { kind: 'folders', folders };
  const folderIds = selectableIds(folders);
  let token: Token;
  if (resume?.l) {
    token = { ...resume, f: [...folderIds] };
  } else {
    token = { h: profile?.historyId ?? '0', f: [...folderIds], l: { i: 0, p: null } };
    if (options.folders) token.c = [...new Set(options.folders)];
    if (options.since) token.w = Math.floor(dayStart(options.since).getTime() / 1000) - 1;
    yield { kind: 'reset', scope: ACCOUNT_SCOPE, reason, checkpoint: writeToken(token) };
    // The whole mailbox: the profile says how much; else each listing's estimate as it starts.
    if (!token.c && token.w === undefined) yield { kind: 'plan', scope: ACCOUNT_SCOPE, messages: profile?.messagesTotal ?? 0 };
  }
  const done: Token = { h: token.h, f: token.f, c: token.c, w: token.w };
  const targets: Target[] = token.c ?? [null];
  yield* listTargets(provider, targets, token.l ?? { p: null }, { window: token.w, folderIds, coverage: coverageOf(token), plan: Boolean(token.c || token.w !== undefined) }, options, signal, (at) =>
    writeToken(at ? { ...done, l: at } : done),
  );
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken(done), complete: true };
}

/** Folders a run asks for that the cache does not cover yet (null: all of them); undefined: none. */
function widening(stored: Token, options: SyncOptions): Target[] | undefined {
  if (!stored.c) return undefined;
  if (!options.folders) return [null];
  const more = options.folders.filter((f) => !stored.c!.includes(f));
  return more.length ? more : undefined;
}

/**
 * A run asks for folders the first sync left out: list them (what the cache has is not fetched
 * again), then cover them. Not resumable by page: a killed run lists them again, cheaply.
 */
async function* widen(provider: GmailProvider, token: Token, targets: Target[], options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
  const folderIds = new Set(token.f);
  const all = targets.includes(null);
  const coverage = all ? null : new Set(targets as string[]);
  // No plan: the listing's estimate counts what the cache has too.
  yield* listTargets(provider, all ? [null] : targets, { p: null }, { window: token.w, folderIds, coverage, plan: false }, options, signal, () => undefined);
  const c = all ? undefined : [...new Set([...token.c!, ...(targets as string[])])];
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ ...token, c }), complete: true };
}

/**
 * messages.list over the targets from `at` (target index, page), fetching through the batch
 * endpoint what the cache lacks and keeping what a covered folder holds; each page is stored with
 * `checkpoint(where the listing goes on, or null at its end)`.
 */
async function* listTargets(
  provider: GmailProvider,
  targets: Target[],
  at: { i?: number; p: string | null },
  scope: { window: number | undefined; folderIds: ReadonlySet<string>; coverage: ReadonlySet<string> | null; plan: boolean },
  options: SyncOptions,
  signal: AbortSignal,
  checkpoint: (next: { i: number; p: string | null } | null) => string | undefined,
): AsyncGenerator<SyncEvent> {
  const pageSize = Math.max(1, Math.min(PAGE_LIMIT, options.batchSize));
  for (let i = at.i ?? 0; i < targets.length; i++) {
    let pageToken = i === (at.i ?? 0) ? at.p : null;
    let first = pageToken === null;
    do {
      const page = await listPage(provider, targets[i]!, pageToken, pageSize, scope.window, signal);
      if (first && scope.plan) yield { kind: 'plan', scope: ACCOUNT_SCOPE, messages: page.resultSizeEstimate ?? page.messages?.length ?? 0 };
      first = false;
      const ids = (page.messages ?? []).map((m) => m.id!).filter(Boolean);
      // Listed under another target already, or a run killed after its page was stored.
      const known = options.cached?.(ids) ?? new Set<string>();
      const { messages, bytes } = await fetchMessages(provider, ids.filter((id) => !known.has(id)), scope.folderIds, scope.coverage, options, signal);
      pageToken = page.nextPageToken ?? null;
      const next = pageToken ? { i, p: pageToken } : i + 1 < targets.length ? { i: i + 1, p: null } : null;
      yield { kind: 'upsert', scope: ACCOUNT_SCOPE, messages, bytes, checkpoint: checkpoint(next) };
    } while (pageToken);
  }
}

/**
 * History expired: list what the cache covers again; fetch whole only what the cache lacks,
 * refresh the labels of the rest, and drop what is no longer listed. The old token stays until the end.
 */
async function* reconcile(provider: GmailProvider, stored: Token, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
  const profile = await provider.api.getProfile({ signal, deadline: null });
  const folders = await provider.listFolders(signal);
  yield { kind: 'folders', folders };
  const folderIds = selectableIds(folders);
  const coverage = coverageOf(stored);
  const listed = new Set<string>();
  const pageSize = Math.max(1, Math.min(PAGE_LIMIT, options.batchSize));
  for (const target of stored.c ?? [null]) {
    let pageToken: string | null = null;
    do {
      const page = await listPage(provider, target, pageToken, pageSize, stored.w, signal);
      // A message in two covered folders is seen once.
      const ids = (page.messages ?? []).map((m) => m.id!).filter((id) => id && !listed.has(id));
      for (const id of ids) listed.add(id);
      const known = options.cached?.(ids) ?? new Set<string>();
      const { messages, bytes } = await fetchMessages(provider, ids.filter((id) => !known.has(id)), folderIds, coverage, options, signal);
      if (messages.length) yield { kind: 'upsert', scope: ACCOUNT_SCOPE, messages, bytes };
      const kept = ids.filter((id) => known.has(id));
      if (kept.length) {
        const answers = await provider.api.batch<gmail_v1.Schema$Message>(kept.map((id) => minimalCall(id)), { signal, deadline: null });
        const current = answers.flatMap((a) => (a.ok && a.value.id ? [a.value] : []));
        yield {
          kind: 'membership',
          scope: ACCOUNT_SCOPE,
          changes: current.map((m) => membershipChange(m.id!, m.labelIds ?? [], folderIds)),
        };
        yield { kind: 'flags', scope: ACCOUNT_SCOPE, updates: current.map((m) => ({ id: m.id!, flags: flagsOf(m.labelIds) })) };
      }
      pageToken = page.nextPageToken ?? null;
    } while (pageToken);
  }
  yield { kind: 'present', scope: ACCOUNT_SCOPE, ids: [...listed], upTo: null };
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ ...stored, h: profile.historyId ?? '0', f: [...folderIds] }), complete: true };
}

/**
 * One page of a target: a label's messages, All Mail's (Gmail's list without Spam and Trash), or
 * the whole mailbox (Spam and Trash are folders too); `window` as `after:` in epoch seconds.
 */
function listPage(provider: GmailProvider, target: Target, pageToken: string | null, pageSize: number, window: number | undefined, signal: AbortSignal): Promise<gmail_v1.Schema$ListMessagesResponse> {
  return provider.api.listMessages(
    {
      maxResults: pageSize,
      pageToken: pageToken ?? undefined,
      labelIds: target && target !== ALL_MAIL ? [target] : undefined,
      includeSpamTrash: target === ALL_MAIL ? undefined : true,
      q: window === undefined ? undefined : `after:${window}`,
    },
    { signal, deadline: null },
  );
}

/** Messages as the cache keeps them, through the batch endpoint: raw (or metadata with --headers-only). */
async function fetchMessages(
  provider: GmailProvider,
  ids: string[],
  folderIds: ReadonlySet<string>,
  coverage: ReadonlySet<string> | null,
  options: SyncOptions,
  signal: AbortSignal,
): Promise<{ messages: MessageUpsert[]; bytes: number }> {
  if (ids.length === 0) return { messages: [], bytes: 0 };
  const calls: ApiCall[] = ids.map((id) => (options.headersOnly ? metadataCall(id) : rawCall(id)));
  const answers = await provider.api.batch<gmail_v1.Schema$Message>(calls, { signal, deadline: null });
  const messages: MessageUpsert[] = [];
  let bytes = 0;
  for (const answer of answers) {
    // Gone since it was listed: history will say so.
    if (!answer.ok || !answer.value.id) continue;
    const m = answer.value;
    const folders = membershipsOf(m.labelIds, folderIds);
    if (!covers(coverage, folders)) continue;
    const cached = options.headersOnly ? fromMetadata(m) : fromRaw(m, options.bodyLimit);
    bytes += cached.bytes;
    messages.push({ message: cached.message, folders: folders.map((folder) => ({ folder, uid: null })) });
  }
  return { messages, bytes };
}

/** In the folders its labels say, and out of every other one. */
function membershipChange(id: string, labels: Iterable<string>, folderIds: ReadonlySet<string>): MembershipChange {
  const now = membershipsOf([...labels], folderIds);
  return { id, added: now.map((folder) => ({ folder, uid: null })), removed: [...folderIds, ALL_MAIL].filter((f) => !now.includes(f)) };
}

function rawCall(id: string): ApiCall {
  return { method: 'messages.get', http: 'GET', path: `/messages/${encodeURIComponent(id)}`, query: { format: 'raw' } };
}

function minimalCall(id: string): ApiCall {
  return { method: 'messages.get', http: 'GET', path: `/messages/${encodeURIComponent(id)}`, query: { format: 'minimal' } };
}

/** A raw message read the way the live envelope reads its headers (envelope.ts), so offline and live agree. */
function fromRaw(m: gmail_v1.Schema$Message, bodyLimit: number): { message: CachedMessage; bytes: number } {
  const raw = Buffer.from(m.raw ?? '', 'base64url');
  const received = m.internalDate ? new Date(Number(m.internalDate)) : null;
  return { message: cachedFromRaw(raw, { id: m.id!, received, flags: flagsOf(m.labelIds), size: m.sizeEstimate ?? raw.length }, bodyLimit), bytes: raw.length };
}

function fromMetadata(m: gmail_v1.Schema$Message): { message: CachedMessage; bytes: number } {
  const envelope = toEnvelope(m, '');
  const header = (name: string) => m.payload?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? null;
  return {
    message: {
      id: m.id!,
      messageId: envelope.messageId,
      subject: envelope.subject,
      from: envelope.from,
      to: envelope.to,
      cc: envelope.cc,
      bcc: [],
      replyTo: [],
      inReplyTo: null,
      references: parseReferences(header('References')),
      date: envelope.date,
      internalDate: envelope.received,
      size: envelope.size,
      flags: envelope.flags,
      hasAttachments: envelope.hasAttachments,
      raw: null,
      bodyText: null,
    },
    bytes: 0,
  };
}

function selectableIds(folders: Folder[]): Set<string> {
  return new Set(folders.filter((f) => f.selectable).map((f) => f.id));
}

function isUserLabel(id: string): boolean {
  return id.startsWith('Label_');
}

function parseToken(text: string | undefined): Token | null {
  if (!text) return null;
  try {
    const token = JSON.parse(text) as Token;
    return typeof token.h === 'string' && Array.isArray(token.f) ? token : null;
  } catch {
    // Not ours (an older format): start afresh.
    return null;
  }
}

function writeToken(token: Token): string {
  return JSON.stringify(token);
}
