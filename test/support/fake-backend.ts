// An in-memory backend shaped like the API ones (Gmail, Graph), for unit tests of the core and the
// commands: folder ids that are not paths, a message in several folders, paging by opaque cursor
// only, estimated totals. It records every call so tests can assert what the core asked for.
import { MailopsError } from '../../src/domain/errors.js';
import type { BackendDefinition, ChangeOutcome, FetchedMessage, ListOptions, MailProvider } from '../../src/domain/provider.js';
import type { BackendKind, Envelope, FlagChange, Folder, MessageFlags, MessageRef, OutgoingMessage, Page, SendReceipt } from '../../src/domain/types.js';

export interface FakeMessage {
  id: string;
  folders: string[];
  subject: string;
  date: Date;
  flags: MessageFlags;
  raw: Buffer;
}

export interface FakeCall {
  method: string;
  args: unknown[];
}

const noFlags = (): MessageFlags => ({ seen: false, flagged: false, answered: false, draft: false, keywords: [] });

export class FakeMailbox {
  readonly calls: FakeCall[] = [];
  readonly messages: FakeMessage[] = [];
  constructor(readonly folders: Folder[]) {}

  add(folderIds: string[], subject: string, date: string, flags: Partial<MessageFlags> = {}): FakeMessage {
    const id = `fk${this.messages.length + 1}`;
    const raw = Buffer.from(`Subject: ${subject}\r\nDate: ${new Date(date).toUTCString()}\r\nMessage-ID: <${id}@fake.test>\r\n\r\nbody of ${subject}\r\n`);
    const message = { id, folders: [...folderIds], subject, date: new Date(date), flags: { ...noFlags(), ...flags }, raw };
    this.messages.push(message);
    return message;
  }

  find(id: string): FakeMessage | undefined {
    return this.messages.find((m) => m.id === id);
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
}

function folderNotFound(id: string): MailopsError {
  return new MailopsError('FOLDER_NOT_FOUND', `no folder with id ${id}`);
}

class FakeProvider implements MailProvider {
  constructor(
    readonly kind: BackendKind,
    private readonly box: FakeMailbox,
  ) {}

  private record(method: string, ...args: unknown[]): void {
    this.box.calls.push({ method, args });
  }

  private folder(id: string): Folder {
    const found = this.box.folders.find((f) => f.id === id);
    if (!found) throw folderNotFound(id);
    return found;
  }

  private envelope(m: FakeMessage, folder: string): Envelope {
    return {
      ref: { id: m.id, folder },
      uid: null,
      messageId: `<${m.id}@fake.test>`,
      subject: m.subject,
      from: { name: 'Fake', address: 'fake@fake.test' },
      to: [],
      cc: [],
      date: m.date,
      received: m.date,
      size: m.raw.length,
      flags: { ...m.flags, keywords: [...m.flags.keywords] },
      hasAttachments: false,
    };
  }

  async verify() {
    return { checks: [], latencyMs: 1, capabilities: [] };
  }

  async verifySend() {
    return { checks: [], latencyMs: 1, capabilities: [] };
  }

  async listFolders(): Promise<Folder[]> {
    this.record('listFolders');
    return this.box.folders.map((f) => ({ ...f }));
  }

  /** Pages by cursor only, as Gmail's pageToken: `c:N` is where page N starts; the number alone means nothing. */
  async list(folder: string, options: ListOptions): Promise<Page<Envelope>> {
    this.record('list', folder, options.page);
    this.folder(folder);
    const { limit, page, cursor } = options.page;
    if (page > 1 && !cursor) throw new Error(`the fake has no random access: page ${page} asked for without a cursor`);
    const start = cursor ? Number(cursor.slice(2)) : 0;
    const all = this.box.messages
      .filter((m) => m.folders.includes(folder))
      .filter((m) => options.query === null || (options.query.kind === 'flag' && options.query.flag === 'unread' ? !m.flags.seen : true))
      .sort((a, b) => b.date.getTime() - a.date.getTime());
    const items = all.slice(start, start + limit).map((m) => this.envelope(m, folder));
    const hasNext = start + limit < all.length;
    // An estimate, as Gmail's resultSizeEstimate: the core must say so, not print it as exact.
    return { items, total: all.length, totalIsEstimate: true, page, pageSize: limit, hasNext, nextCursor: hasNext ? `c:${start + limit}` : null };
  }

  async fetchMessage(ref: MessageRef, options: { peek: boolean }): Promise<FetchedMessage> {
    this.record('fetchMessage', ref, options);
    const m = this.box.find(ref.id);
    if (!m) throw new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${ref.id}`);
    if (!options.peek) m.flags.seen = true;
    return { raw: m.raw, envelope: this.envelope(m, ref.folder) };
  }

  /** Applies `change` to each message the refs name; those it does not have are missing. */
  private each(refs: MessageRef[], change: (m: FakeMessage, ref: MessageRef) => void): ChangeOutcome {
    const outcome: ChangeOutcome = { processed: 0, missing: [] };
    for (const ref of refs) {
      const m = this.box.find(ref.id);
      if (m) (change(m, ref), outcome.processed++);
      else outcome.missing.push(ref);
    }
    return outcome;
  }

  async setFlags(refs: MessageRef[], change: FlagChange): Promise<ChangeOutcome> {
    this.record('setFlags', refs, change);
    return this.each(refs, (m) => {
      for (const key of ['seen', 'flagged', 'answered', 'draft'] as const) if (change[key] !== undefined) m.flags[key] = change[key]!;
    });
  }

  /** Label semantics: the target is added and the folder it was listed in removed. */
  async move(refs: MessageRef[], to: string): Promise<ChangeOutcome> {
    this.record('move', refs, to);
    this.folder(to);
    return this.each(refs, (m, ref) => {
      m.folders = [...m.folders.filter((f) => f !== ref.folder), to].filter((f, i, all) => all.indexOf(f) === i);
    });
  }

  async send(message: OutgoingMessage): Promise<SendReceipt> {
    this.record('send', message.messageId);
    return { messageId: message.messageId, accepted: message.envelope.to, rejected: [], providerSavedCopy: true };
  }

  async close(): Promise<void> {
    this.record('close');
  }
}

/** A backend definition over `box`, registered under `kind` by the test (one the build lacks, e.g. 'graph'). */
export function fakeBackend(kind: BackendKind, box: FakeMailbox): BackendDefinition {
  return {
    kind,
    title: 'the fake backend',
    capabilities: {
      folderIdIsPath: false,
      multipleFolders: true,
      randomAccessPaging: false,
      exactTotals: false,
      move: true,
      deleteForever: false,
      savesSentCopy: true,
      sync: false,
    },
    ids: {
      parse: (id, folder) => (/^fk\d+$/.test(id.trim()) ? { id: id.trim(), folder } : null),
    },
    async create() {
      return new FakeProvider(kind, box);
    },
  };
}
