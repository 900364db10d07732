/**
 * The Gmail change feed: one historyId for the whole account (the scope ACCOUNT_SCOPE).
 *
 * - First sync (or --full): the profile's historyId is taken first, as the baseline, so nothing
 *   that happens during the listing is missed; then messages.list, page by page, each page's
 *   messages fetched through the batch endpoint and stored with a token saying where the listing
 *   is (a killed run goes on from that page). When the listing ends, the token becomes the
 *   baseline: the next run replays what happened meanwhile (storing is idempotent).
 * - Then users.history from the stored historyId: new messages fetched, label changes as
 *   membership and flag changes (never a delete and a refetch), deletions gone. A sync that finds
 *   nothing new is that one history.list request.
 * - History Google no longer has (404) means a resync reconciled by id: everything is listed
 *   again, only messages the cache lacks are fetched whole, the others get their labels
 *   (format=minimal), and what is not listed any more goes. Nothing stale is served meanwhile:
 *   the old token stays until the resync ends, so a killed resync starts over.
 *
 * The token is JSON: `{"h": historyId, "f": folder ids}` once caught up, with `"l": {"b":
 * baseline, "p": pageToken}` while the first listing runs. The folder ids let a run notice a
 * label it has not seen (a new user label) and refresh the folder list only then.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import { MailopsError, isMailopsError } from '../../domain/errors.js';
import { dayStart } from '../../domain/query.js';
import { ACCOUNT_SCOPE, type CachedMessage, type MembershipChange, type MessageUpsert, type SyncEvent, type SyncOptions } from '../../domain/sync.js';
import type { Folder } from '../../domain/types.js';
import { parseMailDate } from '../../mime/date.js';
import { headerValue, readHeaderBlock } from '../../mime/headers.js';
import { extractIndexText, parseReferences } from '../../mime/index-text.js';
import { addressesOf, flagsOf, toEnvelope } from './envelope.js';
import { ALL_MAIL, membershipsOf } from './folders.js';
import { metadataCall, type GmailProvider } from './provider.js';
import type { ApiCall } from './api.js';

interface Token {
  /** The historyId the cache is caught up to (or, while listing, the listing's baseline). */
  h: string;
  /** Folder ids the cache knows. */
  f: string[];
  /** First listing in progress: the next page. */
  l?: { p: string | null };
}

const HISTORY_TYPES = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];
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
    ({ history, latest } = await readHistory(provider, stored.h, signal));
  } catch (error) {
    if (!isMailopsError(error) || error.code !== 'NOT_FOUND') throw error;
    yield* reconcile(provider, options, signal);
    return;
  }
  if (history.length === 0) {
    yield { kind: 'unchanged', scope: ACCOUNT_SCOPE };
    // The mailbox's historyId may move on without a change of the kinds asked for.
    if (latest !== stored.h) yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ h: latest, f: stored.f }), complete: false };
    return;
  }
  yield* applyHistory(provider, stored, history, latest, options, signal);
}

/** Every page of history since `start`; 404 (too old) comes out as NOT_FOUND. */
async function readHistory(provider: GmailProvider, start: string, signal: AbortSignal): Promise<{ history: gmail_v1.Schema$History[]; latest: string }> {
  const history: gmail_v1.Schema$History[] = [];
  let pageToken: string | undefined;
  let latest = start;
  const notFound = () => new MailopsError('NOT_FOUND', `Gmail no longer has the history since ${start}`);
  do {
    const page = await provider.api.call<gmail_v1.Schema$ListHistoryResponse>(
      { method: 'history.list', http: 'GET', path: '/history', query: { startHistoryId: start, historyTypes: HISTORY_TYPES, maxResults: PAGE_LIMIT, pageToken } },
      { signal, deadline: null, notFound },
    );
    history.push(...(page.history ?? []));
    if (page.historyId) latest = page.historyId;
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return { history, latest };
}

/** What history says happened to each message, in order: its labels now, and whether it is new or gone. */
interface Change {
  added: boolean;
  deleted: boolean;
  labels: Set<string> | null;
}

async function* applyHistory(
  provider: GmailProvider,
  stored: Token,
  history: gmail_v1.Schema$History[],
  latest: string,
  options: SyncOptions,
  signal: AbortSignal,
): AsyncGenerator<SyncEvent> {
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

  const gone = [...changes].filter(([, c]) => c.deleted).map(([id]) => id);
  const fresh = [...changes].filter(([, c]) => c.added && !c.deleted).map(([id]) => id);
  const relabelled = [...changes].filter(([, c]) => !c.added && !c.deleted && c.labels);

  if (fresh.length) yield { kind: 'plan', scope: ACCOUNT_SCOPE, messages: fresh.length };
  for (let i = 0; i < fresh.length; i += options.batchSize) {
    const { messages, bytes } = await fetchMessages(provider, fresh.slice(i, i + options.batchSize), folderIds, options, signal);
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
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ h: latest, f: [...folderIds] }), complete: true };
}

/**
 * The first listing (resumed from `resume.l.p` when a killed run left one), or --full. The
 * baseline historyId comes before the listing, so history replays whatever the listing missed.
 */
async function* firstSync(provider: GmailProvider, resume: Token | null, options: SyncOptions, signal: AbortSignal, reason: 'new' | 'full'): AsyncGenerator<SyncEvent> {
  const folders = await provider.listFolders(signal);
  yield { kind: 'folders', folders };
  const folderIds = selectableIds(folders);
  let token: Token;
  if (resume?.l) {
    token = { ...resume, f: [...folderIds] };
  } else {
    const profile = await provider.api.call<gmail_v1.Schema$Profile>({ method: 'users.getProfile', http: 'GET', path: '/profile' }, { signal });
    token = { h: profile.historyId ?? '0', f: [...folderIds], l: { p: null } };
    yield { kind: 'reset', scope: ACCOUNT_SCOPE, reason, checkpoint: writeToken(token) };
    yield { kind: 'plan', scope: ACCOUNT_SCOPE, messages: profile.messagesTotal ?? 0 };
  }
  const pageSize = Math.max(1, Math.min(PAGE_LIMIT, options.batchSize));
  let pageToken = token.l?.p ?? null;
  do {
    const page = await listPage(provider, pageToken, pageSize, options, signal);
    const ids = (page.messages ?? []).map((m) => m.id!).filter(Boolean);
    const { messages, bytes } = await fetchMessages(provider, ids, folderIds, options, signal);
    pageToken = page.nextPageToken ?? null;
    const checkpoint = writeToken(pageToken ? { ...token, l: { p: pageToken } } : { h: token.h, f: token.f });
    yield { kind: 'upsert', scope: ACCOUNT_SCOPE, messages, bytes, checkpoint };
  } while (pageToken);
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ h: token.h, f: token.f }), complete: true };
}

/**
 * History expired: list everything again; fetch whole only what the cache lacks, refresh the
 * labels of the rest, and drop what is no longer listed. The old token stays until the end.
 */
async function* reconcile(provider: GmailProvider, options: SyncOptions, signal: AbortSignal): AsyncGenerator<SyncEvent> {
  const profile = await provider.api.call<gmail_v1.Schema$Profile>({ method: 'users.getProfile', http: 'GET', path: '/profile' }, { signal });
  const folders = await provider.listFolders(signal);
  yield { kind: 'folders', folders };
  const folderIds = selectableIds(folders);
  const listed: string[] = [];
  const pageSize = Math.max(1, Math.min(PAGE_LIMIT, options.batchSize));
  let pageToken: string | null = null;
  do {
    const page = await listPage(provider, pageToken, pageSize, options, signal);
    const ids = (page.messages ?? []).map((m) => m.id!).filter(Boolean);
    listed.push(...ids);
    const known = options.cached?.(ids) ?? new Set<string>();
    const missing = ids.filter((id) => !known.has(id));
    const { messages, bytes } = await fetchMessages(provider, missing, folderIds, options, signal);
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
  yield { kind: 'present', scope: ACCOUNT_SCOPE, ids: listed, upTo: null };
  yield { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: writeToken({ h: profile.historyId ?? '0', f: [...folderIds] }), complete: true };
}

function listPage(provider: GmailProvider, pageToken: string | null, pageSize: number, options: SyncOptions, signal: AbortSignal): Promise<gmail_v1.Schema$ListMessagesResponse> {
  const q = options.since ? `after:${Math.floor(dayStart(options.since).getTime() / 1000) - 1}` : undefined;
  // --folders with one label: that label's messages. Several: everything, kept if in one of
  // them (labelIds would ask for messages in all of them at once). None: everything, Spam and
  // Trash included (they are folders too).
  const one = options.folders?.length === 1 ? options.folders[0]! : null;
  return provider.api.call<gmail_v1.Schema$ListMessagesResponse>(
    {
      method: 'messages.list',
      http: 'GET',
      path: '/messages',
      query: {
        maxResults: pageSize,
        pageToken: pageToken ?? undefined,
        labelIds: one && one !== ALL_MAIL ? [one] : undefined,
        includeSpamTrash: one === ALL_MAIL ? undefined : true,
        q,
      },
    },
    { signal, deadline: null },
  );
}

/** Messages as the cache keeps them, through the batch endpoint: raw (or metadata with --headers-only). */
async function fetchMessages(
  provider: GmailProvider,
  ids: string[],
  folderIds: ReadonlySet<string>,
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
    const folders = membershipsOf(m.labelIds, folderIds).map((folder) => ({ folder, uid: null }));
    if (options.folders && !folders.some((f) => options.folders!.includes(f.folder))) continue;
    const cached = options.headersOnly ? fromMetadata(m) : fromRaw(m, options.bodyLimit);
    bytes += cached.bytes;
    messages.push({ message: cached.message, folders });
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
  const { headers } = readHeaderBlock(raw);
  const header = (name: string) => headerValue(headers, name);
  const received = m.internalDate ? new Date(Number(m.internalDate)) : null;
  const mediaType = (header('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  return {
    message: {
      id: m.id!,
      messageId: header('Message-ID')?.trim() || null,
      subject: header('Subject') ?? '',
      from: addressesOf(header('From'))[0] ?? null,
      to: addressesOf(header('To')),
      cc: addressesOf(header('Cc')),
      bcc: addressesOf(header('Bcc')),
      replyTo: addressesOf(header('Reply-To')),
      inReplyTo: header('In-Reply-To')?.trim() || null,
      references: parseReferences(header('References')),
      date: parseMailDate(header('Date')) ?? received,
      internalDate: received,
      size: m.sizeEstimate ?? raw.length,
      flags: flagsOf(m.labelIds),
      hasAttachments: mediaType === 'multipart/mixed',
      // Over the limit: kept without its bytes (read fetches it live), its text still indexed.
      raw: raw.length <= bodyLimit ? raw : null,
      bodyText: extractIndexText(raw),
    },
    bytes: raw.length,
  };
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
