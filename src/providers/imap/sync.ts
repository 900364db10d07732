/**
 * The IMAP change feed for `sync` (see src/domain/sync.ts for the events).
 *
 * Per folder: STATUS first (from LIST-STATUS), and an unchanged folder (UIDVALIDITY, UIDNEXT,
 * HIGHESTMODSEQ and count as last seen) costs nothing more. Otherwise:
 * changes to known messages by CHANGEDSINCE (with VANISHED under QRESYNC),
 * or a full FLAGS fetch without CONDSTORE; expunges by VANISHED, or by
 * comparing UID SEARCH with the cache; new mail by UID FETCH last+1:N,
 * streamed and handed over in batches. UIDVALIDITY changed: reset.
 * Nothing else runs inside a fetch loop (imapflow would deadlock).
 */
import type { FetchMessageObject, FetchQueryObject, ImapFlow, MailboxObject, StatusObject } from 'imapflow';
import type { CachedMessage, FlagUpdate, FolderCursor, SyncEvent, SyncOptions } from '../../domain/sync.js';
import { extractIndexText, parseReferences } from '../../core/message/index-text.js';
import { headerValue, readHeaderBlock } from '../../core/message/headers.js';
import { hasAttachments, toAddresses, validDate } from './envelope.js';
import { toFolders } from './folders.js';

function same(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? null) === (b ?? null);
}

function toCached(message: FetchMessageObject, folder: string, uidValidity: string, options: SyncOptions): { cached: CachedMessage; bytes: number } {
  const envelope = message.envelope;
  const source = message.source ?? message.headers ?? null;
  const complete = message.source !== undefined && message.size !== undefined && message.source.length >= message.size;
  const headers = source ? readHeaderBlock(source).headers : [];
  return {
    cached: {
      folder,
      uidValidity,
      uid: message.uid,
      messageId: envelope?.messageId ?? null,
      subject: envelope?.subject ?? '',
      from: toAddresses(envelope?.from)[0] ?? null,
      to: toAddresses(envelope?.to),
      cc: toAddresses(envelope?.cc),
      bcc: toAddresses(envelope?.bcc),
      replyTo: toAddresses(envelope?.replyTo),
      inReplyTo: envelope?.inReplyTo ?? null,
      references: parseReferences(headerValue(headers, 'references')),
      date: validDate(envelope?.date) ?? validDate(message.internalDate),
      internalDate: validDate(message.internalDate),
      size: message.size ?? 0,
      flags: [...(message.flags ?? [])].filter((f) => f !== '\\Recent'),
      hasAttachments: hasAttachments(message.bodyStructure),
      modseq: message.modseq !== undefined ? message.modseq.toString() : null,
      // Only whole messages are stored: a partial one is fetched live when read.
      raw: complete && !options.headersOnly ? message.source! : null,
      bodyText: message.source ? extractIndexText(message.source) : null,
    },
    bytes: source?.length ?? 0,
  };
}

function newMessageQuery(options: SyncOptions): FetchQueryObject {
  const query: FetchQueryObject = { uid: true, envelope: true, flags: true, size: true, internalDate: true, bodyStructure: true };
  if (options.headersOnly) query.headers = ['references'];
  // A partial fetch: messages up to the limit arrive whole; bigger ones give their start, for the index.
  else query.source = { start: 0, maxLength: options.bodyLimit };
  return query;
}

export async function* imapSyncFeed(
  client: ImapFlow,
  cursors: ReadonlyMap<string, FolderCursor>,
  options: SyncOptions,
  signal: AbortSignal,
): AsyncGenerator<SyncEvent> {
  // One LIST-STATUS round trip (imapflow falls back to STATUS per folder): the folder list
  // with roles and counts, and the state each folder is compared with.
  const listed = await client.list({
    statusQuery: { messages: true, unseen: true, uidNext: true, uidValidity: true, highestModseq: true },
  });
  const folders = toFolders(listed);
  const statuses = new Map(listed.map((entry) => [entry.path, entry.status]));
  yield { kind: 'folder_list', folders };

  const wanted = options.folders ? new Set(options.folders) : null;
  for (const folder of folders) {
    if (!folder.selectable || (wanted && !wanted.has(folder.path))) continue;
    if (signal.aborted) return;
    yield* syncFolder(client, folder.path, statuses.get(folder.path), cursors.get(folder.path) ?? null, options, signal);
  }
}

async function* syncFolder(
  client: ImapFlow,
  path: string,
  listedStatus: StatusObject | undefined,
  cursor: FolderCursor | null,
  options: SyncOptions,
  signal: AbortSignal,
): AsyncGenerator<SyncEvent> {
  const status =
    listedStatus?.uidValidity !== undefined
      ? listedStatus
      : await client.status(path, { messages: true, uidNext: true, uidValidity: true, highestModseq: true });
  const uidValidity = String(status.uidValidity ?? '');
  const highestModseq = status.highestModseq !== undefined ? status.highestModseq.toString() : null;
  if (
    cursor &&
    !options.full &&
    cursor.syncedAt !== null &&
    cursor.uidValidity === uidValidity &&
    cursor.uidNext === (status.uidNext ?? null) &&
    same(cursor.highestModseq, highestModseq) &&
    cursor.messageCount === (status.messages ?? null)
  ) {
    yield { kind: 'folder_unchanged', path };
    return;
  }

  let lastUid = cursor?.lastUid ?? 0;
  let knownModseq = cursor?.highestModseq ?? null;
  if (!cursor || cursor.uidValidity !== uidValidity || options.full) {
    yield { kind: 'folder_reset', path, uidValidity, reason: !cursor ? 'new' : options.full ? 'full' : 'uidvalidity' };
    lastUid = 0;
    knownModseq = null;
  }

  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const mailbox = client.mailbox as MailboxObject;
    // The folder as SELECT saw it: everything below is relative to this state.
    const uidNext = mailbox.uidNext;
    const state = {
      uidValidity: String(mailbox.uidValidity),
      uidNext,
      highestModseq: mailbox.highestModseq !== undefined ? mailbox.highestModseq.toString() : null,
      messageCount: mailbox.exists,
    };
    if (state.uidValidity !== uidValidity) {
      // Changed between STATUS and SELECT: the next run starts this folder over.
      return;
    }

    if (lastUid > 0) yield* knownMessageChanges(client, path, lastUid, knownModseq, mailbox);

    if (uidNext - 1 > lastUid) {
      let range = `${lastUid + 1}:${uidNext - 1}`;
      if (lastUid === 0 && options.since) {
        const since = await client.search({ uid: range, since: new Date(`${options.since}T00:00:00Z`) }, { uid: true });
        const uids = since === false ? [] : since;
        range = uids.length ? uids.join(',') : '';
      }
      if (range) yield* fetchNew(client, path, range, state.uidValidity, options, signal);
      // Every UID below UIDNEXT is now handled (fetched, or outside the --since window).
      yield { kind: 'messages', path, messages: [], lastUid: uidNext - 1, bytes: 0 };
    }
    yield { kind: 'folder_done', path, state };
  } finally {
    lock.release();
  }
}

async function* knownMessageChanges(
  client: ImapFlow,
  path: string,
  lastUid: number,
  knownModseq: string | null,
  mailbox: MailboxObject,
): AsyncGenerator<SyncEvent> {
  const updates: FlagUpdate[] = [];
  const condstore = knownModseq !== null && client.enabled.has('CONDSTORE') && !mailbox.noModseq;
  const qresync = condstore && client.enabled.has('QRESYNC');
  const vanished: number[] = [];
  const onExpunge = (event: { uid?: number; vanished: boolean }) => {
    if (event.vanished && event.uid !== undefined && event.uid <= lastUid) vanished.push(event.uid);
  };
  if (qresync) client.on('expunge', onExpunge);
  const seen: number[] = [];
  try {
    const fetchOptions = condstore ? { uid: true, changedSince: BigInt(knownModseq!) } : { uid: true };
    for await (const message of client.fetch(`1:${lastUid}`, { uid: true, flags: true }, fetchOptions)) {
      if (message.uid > lastUid) continue;
      seen.push(message.uid);
      updates.push({
        uid: message.uid,
        flags: [...(message.flags ?? [])].filter((f) => f !== '\\Recent'),
        modseq: message.modseq !== undefined ? message.modseq.toString() : null,
      });
    }
  } finally {
    if (qresync) client.off('expunge', onExpunge);
  }
  if (updates.length) yield { kind: 'flags', path, updates };
  if (qresync) {
    if (vanished.length) yield { kind: 'expunged', path, uids: vanished };
  } else if (condstore) {
    // CONDSTORE without QRESYNC says nothing about expunges: compare the UIDs that still exist.
    const present = await client.search({ uid: `1:${lastUid}` }, { uid: true });
    yield { kind: 'present', path, uids: present === false ? [] : present, upTo: lastUid };
  } else {
    // The full FLAGS fetch listed every message that still exists.
    yield { kind: 'present', path, uids: seen, upTo: lastUid };
  }
}

async function* fetchNew(
  client: ImapFlow,
  path: string,
  range: string,
  uidValidity: string,
  options: SyncOptions,
  signal: AbortSignal,
): AsyncGenerator<SyncEvent> {
  let batch: CachedMessage[] = [];
  let bytes = 0;
  let maxUid = 0;
  for await (const message of client.fetch(range, newMessageQuery(options), { uid: true })) {
    if (signal.aborted) break;
    const { cached, bytes: size } = toCached(message, path, uidValidity, options);
    batch.push(cached);
    bytes += size;
    maxUid = Math.max(maxUid, message.uid);
    // Bounded by bytes too, so a run of large messages does not grow the heap.
    if (batch.length >= options.batchSize || bytes >= 8 * 1024 * 1024) {
      // UIDs arrive in ascending order, so the batch covers everything up to maxUid.
      yield { kind: 'messages', path, messages: batch, lastUid: maxUid, bytes };
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length) yield { kind: 'messages', path, messages: batch, lastUid: maxUid, bytes };
}
