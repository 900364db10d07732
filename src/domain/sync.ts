/**
 * What a sync moves between a provider's change feed and the local cache.
 * The engine (src/core/sync) is provider-neutral: IMAP emits these events from
 * STATUS/CONDSTORE/QRESYNC today; Gmail history and Graph delta feeds will
 * emit the same ones.
 */
import type { Address, Folder } from './types.js';

/** Where a folder's sync stands. 64-bit values are decimal strings, kept exactly. */
export interface FolderCursor {
  uidValidity: string;
  uidNext: number | null;
  highestModseq: string | null;
  /** Every UID up to this one has been fetched. */
  lastUid: number;
  messageCount: number | null;
  syncedAt: string | null;
}

export interface CachedMessage {
  folder: string;
  uidValidity: string;
  uid: number;
  messageId: string | null;
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  inReplyTo: string | null;
  references: string[];
  date: Date | null;
  internalDate: Date | null;
  size: number;
  flags: string[];
  hasAttachments: boolean;
  modseq: string | null;
  /** The stored RFC 5322 bytes; null when over the size limit or synced with --headers-only. */
  raw: Buffer | null;
  /** Text for the index (and offline reading when raw is absent). */
  bodyText: string | null;
}

export interface FlagUpdate {
  uid: number;
  flags: string[];
  modseq: string | null;
}

/** The server's state of a folder as the sync saw it when it started on that folder. */
export interface RemoteFolderState {
  uidValidity: string;
  uidNext: number | null;
  highestModseq: string | null;
  messageCount: number;
}

export interface SyncOptions {
  /** Only these folder paths (null: every selectable folder). */
  folders: string[] | null;
  /** Ignore cursors: refetch everything. */
  full: boolean;
  /** First sync of a folder: only messages that arrived on or after this day (YYYY-MM-DD). */
  since: string | null;
  /** Envelopes and flags only; no bodies. */
  headersOnly: boolean;
  /** Bodies larger than this are not stored (fetched live when read). */
  bodyLimit: number;
  /** Messages per committed batch. */
  batchSize: number;
}

export type SyncEvent =
  /** The server's folder list; folders missing from it are dropped from the cache. */
  | { kind: 'folder_list'; folders: Folder[] }
  | { kind: 'folder_unchanged'; path: string }
  /** First sync, or the old state is void (UIDVALIDITY changed, --full): forget the folder's cache. */
  | { kind: 'folder_reset'; path: string; uidValidity: string; reason: 'new' | 'uidvalidity' | 'full' }
  /** New messages and the cursor that covers them (every UID up to lastUid handled). */
  | { kind: 'messages'; path: string; messages: CachedMessage[]; lastUid: number; bytes: number }
  | { kind: 'flags'; path: string; updates: FlagUpdate[] }
  | { kind: 'expunged'; path: string; uids: number[] }
  /** Every UID up to `upTo` that still exists: cached ones not in the list are gone. */
  | { kind: 'present'; path: string; uids: number[]; upTo: number }
  | { kind: 'folder_done'; path: string; state: RemoteFolderState }
  /** The server refused this folder (no right to read it, gone since the list): the others go on. */
  | { kind: 'folder_failed'; path: string; error: string };
