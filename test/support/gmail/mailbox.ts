// One Gmail mailbox: labels, messages (the exact raw bytes plus their label set), and the history
// feed. Every change to a message goes through `change()`, which bumps the historyId and records
// one history entry, so history can never miss a mutation the API made.
import type { gmail_v1 } from '@googleapis/gmail';
import { GoogleError, badRequest, notFound } from './errors.js';
import { addresses, bodyText, hasAttachment, header, parseMime, snippet, type MimeNode } from './mime.js';
import { matches, type Query } from './query.js';

export interface StoredMessage {
  id: string;
  threadId: string;
  labelIds: Set<string>;
  /** Milliseconds since the epoch, Gmail's sort key. */
  internalDate: number;
  raw: Buffer;
  mime: MimeNode;
  historyId: bigint;
}

export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

interface HistoryRecord {
  id: bigint;
  type: HistoryType;
  message: { id: string; threadId: string; labelIds: string[] };
  /** The labels added or removed, for the label types. */
  labelIds: string[];
}

// System labels as Gmail lists them. CATEGORY_* and UNREAD are labels, not folders; the client decides.
export const SYSTEM_LABELS = [
  'INBOX', 'SENT', 'DRAFT', 'TRASH', 'SPAM', 'STARRED', 'IMPORTANT', 'UNREAD', 'CHAT',
  'CATEGORY_PERSONAL', 'CATEGORY_SOCIAL', 'CATEGORY_PROMOTIONS', 'CATEGORY_UPDATES', 'CATEGORY_FORUMS',
] as const;

// Gmail message ids are 16 hex digits; one counter for every mailbox keeps them unique across users.
let nextMessageNumber = 0x18c1f00000000000n;
function newMessageId(): string {
  return (nextMessageNumber++).toString(16);
}

export class Mailbox {
  readonly labels = new Map<string, gmail_v1.Schema$Label>();
  readonly messages = new Map<string, StoredMessage>();
  historyId: bigint;
  /** History at or below this id has been forgotten: a startHistoryId under it is a 404. */
  historyFloor: bigint;
  private history: HistoryRecord[] = [];
  private nextLabel = 1;
  // Thread lookups by index rather than by scanning: the benchmark seeds 10,000 messages.
  private threads = new Set<string>();
  private threadOfMessageId = new Map<string, string>();

  constructor(
    readonly email: string,
    /** How many history records are kept before the oldest are forgotten (Google keeps about a week). */
    private historyLimit = Infinity,
    startHistoryId = 1000n,
  ) {
    this.historyId = startHistoryId;
    this.historyFloor = startHistoryId;
    for (const id of SYSTEM_LABELS) this.labels.set(id, { id, name: id, type: 'system' });
  }

  // ---- labels -------------------------------------------------------------------------------

  labelIdFor(name: string): string | undefined {
    const wanted = name.toLowerCase();
    // Gmail's search accepts `-` (and the UI's spaces) for the `/` of nested names, and DRAFTS for DRAFT.
    const loose = (s: string) => s.toLowerCase().replace(/[/ ]/g, '-');
    for (const l of this.labels.values()) {
      if (l.id!.toLowerCase() === wanted || l.name!.toLowerCase() === wanted || loose(l.name!) === loose(name)) return l.id!;
    }
    return wanted === 'drafts' ? 'DRAFT' : undefined;
  }

  label(id: string): gmail_v1.Schema$Label {
    const label = this.labels.get(id);
    if (!label) throw notFound();
    return label;
  }

  /** labels.get: the label with its counts, which labels.list leaves out. */
  labelWithCounts(id: string): gmail_v1.Schema$Label {
    const label = this.label(id);
    const carrying = [...this.messages.values()].filter((m) => m.labelIds.has(id));
    const unread = carrying.filter((m) => m.labelIds.has('UNREAD'));
    const threads = (ms: StoredMessage[]) => new Set(ms.map((m) => m.threadId)).size;
    return { ...label, messagesTotal: carrying.length, messagesUnread: unread.length, threadsTotal: threads(carrying), threadsUnread: threads(unread) };
  }

  createLabel(input: gmail_v1.Schema$Label): gmail_v1.Schema$Label {
    const name = this.checkLabelName(input.name, null);
    const label: gmail_v1.Schema$Label = {
      id: `Label_${this.nextLabel++}`,
      name,
      type: 'user',
      messageListVisibility: input.messageListVisibility ?? 'show',
      labelListVisibility: input.labelListVisibility ?? 'labelShow',
      ...(input.color ? { color: input.color } : {}),
    };
    this.labels.set(label.id!, label);
    return label;
  }

  /** labels.update replaces the writable fields, labels.patch merges the given ones. */
  updateLabel(id: string, input: gmail_v1.Schema$Label, merge: boolean): gmail_v1.Schema$Label {
    const label = this.label(id);
    if (label.type === 'system') throw badRequest('Invalid label: cannot modify system label');
    const next: gmail_v1.Schema$Label = merge ? { ...label } : { id, type: 'user' };
    for (const key of ['name', 'messageListVisibility', 'labelListVisibility', 'color'] as const) {
      if (input[key] !== undefined) Object.assign(next, { [key]: input[key] });
    }
    next.name = this.checkLabelName(next.name, id);
    this.labels.set(id, next);
    return next;
  }

  deleteLabel(id: string): void {
    const label = this.label(id);
    if (label.type === 'system') throw badRequest('Invalid label: cannot delete system label');
    for (const m of this.messages.values()) if (m.labelIds.has(id)) this.modify(m.id, [], [id]);
    this.labels.delete(id);
  }

  private checkLabelName(name: string | null | undefined, self: string | null): string {
    const trimmed = (name ?? '').trim();
    if (!trimmed) throw badRequest('Invalid label name');
    for (const l of this.labels.values()) {
      if (l.id !== self && l.name!.toLowerCase() === trimmed.toLowerCase()) {
        throw new GoogleError(409, 'Label name exists or conflicts', 'duplicate');
      }
    }
    return trimmed;
  }

  /** 400 `Invalid label: X` for an id this mailbox does not have, before anything changes. */
  checkLabels(ids: readonly string[]): void {
    for (const id of ids) if (!this.labels.has(id)) throw badRequest(`Invalid label: ${id}`);
  }

  // ---- messages -----------------------------------------------------------------------------

  message(id: string): StoredMessage {
    const m = this.messages.get(id);
    if (!m) throw notFound();
    return m;
  }

  /**
   * insert, import, send and the test's seed all land here. The thread is the one named (if it
   * exists), else the one of a message this one answers (In-Reply-To/References), else its own.
   */
  add(raw: Buffer, opts: { labelIds?: readonly string[]; internalDate?: number; threadId?: string | null }): StoredMessage {
    const labelIds = [...new Set(opts.labelIds ?? [])];
    this.checkLabels(labelIds);
    const mime = parseMime(raw);
    const id = newMessageId();
    const m: StoredMessage = {
      id,
      threadId: this.threadFor(mime, opts.threadId) ?? id,
      labelIds: new Set(labelIds),
      internalDate: opts.internalDate ?? Date.now(),
      raw,
      mime,
      historyId: 0n,
    };
    this.messages.set(id, m);
    this.threads.add(m.threadId);
    const own = header(mime.headers, 'message-id')?.trim();
    if (own && !this.threadOfMessageId.has(own)) this.threadOfMessageId.set(own, m.threadId);
    this.change('messageAdded', m, []);
    return m;
  }

  private threadFor(mime: MimeNode, threadId: string | null | undefined): string | undefined {
    if (threadId && this.threads.has(threadId)) return threadId;
    const refs = `${header(mime.headers, 'in-reply-to') ?? ''} ${header(mime.headers, 'references') ?? ''}`.match(/<[^>]+>/g) ?? [];
    return refs.map((r) => this.threadOfMessageId.get(r)).find((t) => t !== undefined);
  }

  /** Adds and removes labels; history records only what really changed, as Gmail's does. */
  modify(id: string, add: readonly string[], remove: readonly string[]): StoredMessage {
    const m = this.message(id);
    this.checkLabels([...add, ...remove]);
    const added = add.filter((l) => !m.labelIds.has(l) && !remove.includes(l));
    const removed = remove.filter((l) => m.labelIds.has(l));
    for (const l of added) m.labelIds.add(l);
    for (const l of removed) m.labelIds.delete(l);
    if (added.length) this.change('labelAdded', m, added);
    if (removed.length) this.change('labelRemoved', m, removed);
    return m;
  }

  /** A trash is a label change in Gmail (history shows labelsAdded TRASH), not a deletion. */
  trash(id: string): StoredMessage {
    return this.modify(id, ['TRASH'], []);
  }

  untrash(id: string): StoredMessage {
    return this.modify(id, [], ['TRASH']);
  }

  delete(id: string): void {
    const m = this.message(id);
    this.messages.delete(id);
    this.change('messageDeleted', m, []);
  }

  /** messages.list order: newest internalDate first, ties by id (also newest first). */
  search(query: Query | null, labelIds: readonly string[], includeSpamTrash: boolean): StoredMessage[] {
    return [...this.messages.values()]
      .filter((m) => labelIds.every((l) => m.labelIds.has(l)))
      .filter((m) => includeSpamTrash || !(m.labelIds.has('TRASH') || m.labelIds.has('SPAM')))
      .filter((m) => !query || matches(query, this.searchable(m)))
      .sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  private searchable(m: StoredMessage) {
    return {
      labelIds: [...m.labelIds],
      resolveLabel: (name: string) => this.labelIdFor(name),
      header: (name: string) => header(m.mime.headers, name) ?? '',
      sizeEstimate: m.raw.length,
      internalDate: m.internalDate,
      hasAttachment: hasAttachment(m.mime),
      text: bodyText(m.mime),
    };
  }

  /** Who a message is addressed to (To, Cc, Bcc), for delivery of what this mailbox sends. */
  static recipients(m: StoredMessage): string[] {
    return ['to', 'cc', 'bcc'].flatMap((h) => addresses(header(m.mime.headers, h)));
  }

  static snippet(m: StoredMessage): string {
    return snippet(m.mime);
  }

  // ---- history ------------------------------------------------------------------------------

  private change(type: HistoryType, m: StoredMessage, labelIds: string[]): void {
    this.historyId += 1n + BigInt(Math.floor(Math.random() * 3)); // real ids are increasing, not contiguous
    m.historyId = this.historyId;
    this.history.push({ id: this.historyId, type, message: { id: m.id, threadId: m.threadId, labelIds: [...m.labelIds] }, labelIds });
    while (this.history.length > this.historyLimit) this.historyFloor = this.history.shift()!.id;
  }

  /** Forgets all history up to now, as Google does after about a week: older startHistoryIds get 404. */
  expireHistory(): void {
    this.history = [];
    this.historyFloor = this.historyId;
  }

  /** Records after `start` (the caller checks `historyFloor` first: older is the API's 404). */
  historySince(start: bigint, types: readonly HistoryType[], labelId: string | null): gmail_v1.Schema$History[] {
    return this.history
      .filter((r) => r.id > start)
      .filter((r) => types.length === 0 || types.includes(r.type))
      .filter((r) => !labelId || r.message.labelIds.includes(labelId) || r.labelIds.includes(labelId))
      .map((r) => {
        const message: gmail_v1.Schema$Message = { id: r.message.id, threadId: r.message.threadId, labelIds: r.message.labelIds };
        const entry: gmail_v1.Schema$History = { id: String(r.id), messages: [{ id: r.message.id, threadId: r.message.threadId }] };
        if (r.type === 'messageAdded') entry.messagesAdded = [{ message }];
        if (r.type === 'messageDeleted') entry.messagesDeleted = [{ message: { id: r.message.id, threadId: r.message.threadId } }];
        if (r.type === 'labelAdded') entry.labelsAdded = [{ message, labelIds: r.labelIds }];
        if (r.type === 'labelRemoved') entry.labelsRemoved = [{ message, labelIds: r.labelIds }];
        return entry;
      });
  }
}
