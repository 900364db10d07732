// One user's mailbox as Exchange keeps it, for the Graph fake: a folder tree with the default
// folders (well-known names), messages stored as their raw MIME plus the state Graph exposes
// (isRead, flag, isDraft, received time, changeKey), the two kinds of ids, and a change sequence
// that delta queries read.
//
// Ids. Every message has an immutable id (`Prefer: IdType="ImmutableId"`), fixed for its life,
// and a regular id that encodes its folder and a move counter, so a move gives it a new one and
// the old one stops resolving (as Exchange's entry ids do). Both kinds resolve in a URL. Ids are
// Graph-looking base64 ('-' and '_' for '+' and '/', '=' padding kept) and carry a per-mailbox
// salt, so an id of another mailbox is told apart from a made-up one.
import { randomBytes } from 'node:crypto';
import { idMalformed, itemNotFound, otherMailboxId, GraphError } from './errors.js';
import { isoSeconds, mimeFacts, type MimeFacts } from './mime.js';

export const WELL_KNOWN = {
  msgfolderroot: 'Top of Information Store',
  inbox: 'Inbox',
  drafts: 'Drafts',
  sentitems: 'Sent Items',
  deleteditems: 'Deleted Items',
  junkemail: 'Junk Email',
  archive: 'Archive',
  outbox: 'Outbox',
  conversationhistory: 'Conversation History',
  searchfolders: 'Finder',
} as const;
export type WellKnownName = keyof typeof WELL_KNOWN;

export type FlagStatus = 'notFlagged' | 'flagged' | 'complete';

export interface StoredFolder {
  id: string;
  displayName: string;
  /** null for the roots (msgfolderroot, and the search-folder root outside it). */
  parentId: string | null;
  wellKnownName: WellKnownName | null;
  isHidden: boolean;
  /** A mailSearchFolder: listed under searchfolders only, holds no messages of its own here. */
  isSearchFolder: boolean;
}

export interface StoredAttachment {
  id: string;
  name: string;
  contentType: string;
  content: Buffer;
  isInline: boolean;
  lastModifiedDateTime: string;
}

export interface StoredMessage {
  immutableId: string;
  /** The current regular id; changes on every move. */
  regularId: string;
  folderId: string;
  /** The MIME exactly as given (seed, sendMail, createMessage): what `$value` returns. */
  raw: Buffer;
  facts: MimeFacts;
  isRead: boolean;
  isDraft: boolean;
  flagStatus: FlagStatus;
  receivedDateTime: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  changeKey: string;
  /** Mailbox sequence number of its last change (add, update, move). */
  seq: number;
  /** Added to a draft through the API (attachments, upload sessions); part of the MIME once sent. */
  attachments: StoredAttachment[];
  conversationId: string;
  /** Its number in the mailbox and how often it moved: what its regular id encodes. */
  ordinal: number;
  moves: number;
}

/** A message that left a folder (moved out or deleted), for that folder's delta. */
export interface Removal {
  seq: number;
  folderId: string;
  immutableId: string;
  /** Its regular id while it was in the folder: what a regular-id delta client knew it by. */
  regularId: string;
}

export interface SeedOptions {
  /** Folder id or well-known name (default inbox). */
  folder?: string;
  isRead?: boolean;
  /** true or 'flagged' to flag, 'complete' for a completed flag. */
  flagged?: boolean | FlagStatus;
  isDraft?: boolean;
  receivedDateTime?: Date | string | number;
}

const PREFIX = { folder: 'AQMkA', regular: 'AAMkA', immutable: 'AAkAL', attachment: 'ABEkA', changeKey: 'CQAAABYAAA' } as const;
type IdKind = keyof typeof PREFIX;

/** Graph's id alphabet: base64 with '-' and '_' (its REST ids are "URL-safe"), padding kept. */
function graphBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export class Mailbox {
  readonly folders = new Map<string, StoredFolder>();
  /** By immutable id. */
  readonly messages = new Map<string, StoredMessage>();
  readonly removals: Removal[] = [];
  /** Current regular id → message. */
  private readonly regular = new Map<string, StoredMessage>();
  private readonly salt = randomBytes(6);
  private ordinal = 0;
  seq = 0;
  /** The parent Graph names for the roots (the store's own root, not a mail folder). */
  readonly storeRootId: string;

  constructor(readonly email: string) {
    this.storeRootId = this.makeId('folder', Buffer.from('store-root'));
    const root = this.newFolder(null, WELL_KNOWN.msgfolderroot, 'msgfolderroot');
    for (const name of ['inbox', 'drafts', 'sentitems', 'deleteditems', 'junkemail', 'archive', 'outbox', 'conversationhistory'] as const) {
      this.newFolder(root.id, WELL_KNOWN[name], name);
    }
    // Real mailboxes have hidden folders under the root (Yammer's, quick-step settings...):
    // listed only with includeHiddenFolders=true.
    this.newFolder(root.id, 'Yammer Root', null).isHidden = true;
    // The search-folder root is outside the IPM subtree: reachable by its well-known name only.
    const finder = this.newFolder(null, WELL_KNOWN.searchfolders, 'searchfolders');
    this.newFolder(finder.id, 'Unread Mail', null).isSearchFolder = true;
  }

  // ---- ids

  private makeId(kind: IdKind, payload: Buffer): string {
    // One '=' of padding at the end, as most of Exchange's ids have.
    const bytes = Buffer.concat([this.salt, payload]);
    const padded = bytes.length % 3 === 2 ? bytes : Buffer.concat([bytes, Buffer.alloc(((2 - (bytes.length % 3)) + 3) % 3)]);
    return PREFIX[kind] + graphBase64(padded);
  }

  /** Checks an id's form and owner; returns its kind. Well-known names are handled by the caller. */
  private idKind(id: string): IdKind {
    const kind = (Object.keys(PREFIX) as IdKind[]).find((k) => id.startsWith(PREFIX[k]) && k !== 'changeKey');
    if (!kind || !/^[A-Za-z0-9_-]+=*$/.test(id.slice(PREFIX[kind].length)) || id.length < 16) throw idMalformed();
    const bytes = Buffer.from(id.slice(PREFIX[kind].length).replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (!bytes.subarray(0, 6).equals(this.salt)) throw otherMailboxId();
    return kind;
  }

  private regularIdFor(folderId: string, ordinal: number, moves: number): string {
    return this.makeId('regular', Buffer.from(`${this.folderOrdinal(folderId)}.${ordinal}.${moves}`));
  }

  private folderOrdinal(folderId: string): number {
    return [...this.folders.keys()].indexOf(folderId);
  }

  // ---- folders

  private newFolder(parentId: string | null, displayName: string, wellKnownName: WellKnownName | null): StoredFolder {
    const folder: StoredFolder = {
      id: this.makeId('folder', Buffer.concat([Buffer.from(`f${this.folders.size}`), randomBytes(4)])),
      displayName,
      parentId,
      wellKnownName,
      isHidden: false,
      isSearchFolder: false,
    };
    this.folders.set(folder.id, folder);
    return folder;
  }

  wellKnown(name: WellKnownName): StoredFolder {
    return [...this.folders.values()].find((f) => f.wellKnownName === name)!;
  }

  /** A folder by id or well-known name (any case, as Graph takes `Inbox`); 404 or 400 as Graph answers. */
  folder(idOrName: string): StoredFolder {
    const name = idOrName.toLowerCase();
    if (name in WELL_KNOWN) return this.wellKnown(name as WellKnownName);
    if (this.idKind(idOrName) !== 'folder') throw idMalformed();
    const folder = this.folders.get(idOrName);
    if (!folder) throw itemNotFound();
    return folder;
  }

  children(parentId: string): StoredFolder[] {
    return [...this.folders.values()]
      .filter((f) => f.parentId === parentId)
      .sort((a, b) => a.displayName.localeCompare(b.displayName, 'en', { sensitivity: 'base' }));
  }

  /** A user folder under `parent` (id or well-known name); any characters, '/' included, as Exchange allows. */
  addFolder(parent: string, displayName: string): StoredFolder {
    const parentFolder = this.folder(parent);
    if (this.children(parentFolder.id).some((f) => f.displayName.toLowerCase() === displayName.toLowerCase())) {
      throw new GraphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
    }
    return this.newFolder(parentFolder.id, displayName, null);
  }

  renameFolder(id: string, displayName: string): StoredFolder {
    const folder = this.folder(id);
    folder.displayName = displayName;
    return folder;
  }

  /** Deletes a folder, its subfolders and their messages (those show as removed in their folders' delta). */
  deleteFolder(id: string): void {
    const folder = this.folder(id);
    if (folder.wellKnownName) throw new GraphError(403, 'ErrorDeleteDistinguishedFolder', 'Distinguished folders cannot be deleted.');
    for (const child of this.children(folder.id)) this.deleteFolder(child.id);
    for (const m of this.inFolder(folder.id)) this.remove(m);
    this.folders.delete(folder.id);
  }

  /** A folder's path from the root, as the tests name folders ("Inbox/Projects"). */
  folderByPath(path: string[]): StoredFolder {
    let current = this.wellKnown('msgfolderroot');
    for (const name of path) {
      const next = this.children(current.id).find((f) => f.displayName.toLowerCase() === name.toLowerCase());
      if (!next) throw new Error(`graph fake: no folder ${path.join(' / ')} in ${this.email}`);
      current = next;
    }
    return current;
  }

  counts(folderId: string): { total: number; unread: number } {
    const messages = this.inFolder(folderId);
    return { total: messages.length, unread: messages.filter((m) => !m.isRead).length };
  }

  // ---- messages

  inFolder(folderId: string): StoredMessage[] {
    return [...this.messages.values()].filter((m) => m.folderId === folderId);
  }

  /** A message by either kind of id (current regular ids only). */
  message(id: string): StoredMessage {
    const kind = this.idKind(id);
    if (kind !== 'immutable' && kind !== 'regular') throw idMalformed();
    const found = kind === 'immutable' ? this.messages.get(id) : this.regular.get(id);
    if (!found) throw itemNotFound();
    return found;
  }

  add(raw: Buffer, opts: SeedOptions = {}): StoredMessage {
    const folder = this.folder(opts.folder ?? 'inbox');
    if (folder.isSearchFolder || folder.wellKnownName === 'msgfolderroot' || folder.wellKnownName === 'searchfolders') {
      throw new GraphError(400, 'ErrorInvalidOperation', 'Messages cannot be created in this folder.');
    }
    const ordinal = ++this.ordinal;
    const now = isoSeconds(Date.now());
    const facts = mimeFacts(raw);
    const received = opts.receivedDateTime !== undefined ? isoSeconds(new Date(opts.receivedDateTime)) : now;
    const flag = opts.flagged === true ? 'flagged' : opts.flagged === false || opts.flagged === undefined ? 'notFlagged' : opts.flagged;
    const message: StoredMessage = {
      immutableId: this.makeId('immutable', Buffer.concat([Buffer.from(`m${ordinal}.`), randomBytes(8)])),
      regularId: this.regularIdFor(folder.id, ordinal, 0),
      folderId: folder.id,
      raw,
      facts,
      isRead: opts.isRead ?? false,
      isDraft: opts.isDraft ?? false,
      flagStatus: flag,
      receivedDateTime: received,
      createdDateTime: now,
      lastModifiedDateTime: now,
      changeKey: '',
      seq: 0,
      attachments: [],
      conversationId: this.conversationId(facts.threadRoot),
      ordinal,
      moves: 0,
    };
    this.messages.set(message.immutableId, message);
    this.regular.set(message.regularId, message);
    this.touch(message);
    return message;
  }

  private conversationId(root: string): string {
    const known = [...this.messages.values()].find((m) => m.facts.threadRoot === root || m.facts.internetMessageId === root);
    return known?.conversationId ?? 'AAQkA' + graphBase64(Buffer.concat([this.salt, randomBytes(16)]));
  }

  /** A change: new changeKey and lastModifiedDateTime, a new sequence number for delta. */
  touch(message: StoredMessage): void {
    message.seq = ++this.seq;
    message.changeKey = PREFIX.changeKey + graphBase64(Buffer.concat([this.salt, Buffer.from(`v${message.seq}`), randomBytes(2)]));
    message.lastModifiedDateTime = isoSeconds(Date.now());
  }

  update(message: StoredMessage, patch: { isRead?: boolean; flagStatus?: FlagStatus }): void {
    if (patch.isRead !== undefined) message.isRead = patch.isRead;
    if (patch.flagStatus !== undefined) message.flagStatus = patch.flagStatus;
    this.touch(message);
  }

  /** Moves to another folder: a removal in the old folder, a new regular id, a change in the new one. */
  move(message: StoredMessage, destination: StoredFolder): StoredMessage {
    if (destination.isSearchFolder || destination.wellKnownName === 'msgfolderroot' || destination.wellKnownName === 'searchfolders') {
      throw new GraphError(400, 'ErrorMoveCopyFailed', 'The move or copy operation failed.');
    }
    if (destination.id === message.folderId) return message;
    this.logRemoval(message);
    this.regular.delete(message.regularId);
    message.folderId = destination.id;
    message.regularId = this.regularIdFor(destination.id, message.ordinal, ++message.moves);
    this.regular.set(message.regularId, message);
    this.touch(message);
    return message;
  }

  /** Gone for good (permanentDelete, or a delete in Deleted Items). */
  remove(message: StoredMessage): void {
    this.logRemoval(message);
    this.messages.delete(message.immutableId);
    this.regular.delete(message.regularId);
  }

  private logRemoval(message: StoredMessage): void {
    this.removals.push({ seq: ++this.seq, folderId: message.folderId, immutableId: message.immutableId, regularId: message.regularId });
  }

  newAttachmentId(): string {
    return this.makeId('attachment', randomBytes(12));
  }

  /** The message's id in the kind the request asked for. */
  static idOf(message: StoredMessage, immutable: boolean): string {
    return immutable ? message.immutableId : message.regularId;
  }
}
