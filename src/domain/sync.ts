/**
 * What a sync moves between a backend's change feed and the local cache, in words every backend
 * can say: IMAP from STATUS/CONDSTORE/QRESYNC, Gmail from its history, Graph from delta links.
 *
 * Sync state is an opaque token per scope: `ACCOUNT_SCOPE` ('') for a feed that covers the whole
 * account (Gmail's one historyId), else a folder id (IMAP's UIDVALIDITY/UIDNEXT/MODSEQ, Graph's
 * delta link). Only the backend that wrote a token reads it; the cache stores it and hands it back.
 *
 * Messages are keyed by their opaque id, unique in the account. A message is in one or more
 * folders (memberships); IMAP's UID is data of the membership, null where a backend has none.
 *
 * Every event is applied in one transaction with its `checkpoint` (when it has one): a token never
 * moves past changes that were not applied, and stopping between any two events loses nothing.
 */
import type { Address, Folder, MessageFlags } from './types.js';

/** The scope of a feed that covers the whole account rather than one folder. */
export const ACCOUNT_SCOPE = '';

/** One folder holding a message; `uid` is the backend's number for it there (IMAP), else null. */
export interface Membership {
  folder: string;
  uid: number | null;
}

export interface CachedMessage {
  /** The backend's opaque id: what `ls` prints. */
  id: string;
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
  flags: MessageFlags;
  hasAttachments: boolean;
  /** The stored RFC 5322 bytes; null when over the size limit or synced with --headers-only. */
  raw: Buffer | null;
  /** Text for the index (and offline reading when raw is absent). */
  bodyText: string | null;
}

/**
 * A message as a feed delivers it: the message and the folders it is in (added to those the cache
 * knows; leaving one is a membership change). A message in no folder is not kept.
 */
export interface MessageUpsert {
  message: CachedMessage;
  folders: Membership[];
}

export interface FlagsUpdate {
  id: string;
  flags: MessageFlags;
}

/** A message added to or removed from folders (a Gmail label change): not a delete plus a refetch. */
export interface MembershipChange {
  id: string;
  added: Membership[];
  /** Folder ids. A message that leaves its last folder is gone from the cache. */
  removed: string[];
}

export interface SyncOptions {
  /** Only these folder ids (null: every selectable folder). */
  folders: string[] | null;
  /** Ignore the stored state: refetch everything. */
  full: boolean;
  /** First sync of a scope: only messages that arrived on or after this day (YYYY-MM-DD). */
  since: string | null;
  /** Envelopes and flags only; no bodies. */
  headersOnly: boolean;
  /** Bodies larger than this are not stored (fetched live when read). */
  bodyLimit: number;
  /** Messages per committed batch. */
  batchSize: number;
  /**
   * Which of these ids the cache holds: a resync reconciled by id (Gmail's expired history)
   * fetches the bodies only of the others. Absent: none (the feed fetches everything).
   */
  cached?: ((ids: readonly string[]) => ReadonlySet<string>) | undefined;
  /**
   * The folder list the cache holds from the last run (empty: none yet): a backend that asks for
   * something apart from the list (Graph's roles, one request per well-known name) can reuse it.
   */
  knownFolders?: readonly Folder[] | undefined;
}

/**
 * `checkpoint` on a change event: the scope's token once that event is applied, committed with it
 * (absent: the token stays). A scope's first token comes with its `reset`.
 */
export type SyncEvent =
  /** The backend's folder list; cached folders missing from it (deleted, renamed) are dropped. */
  | { kind: 'folders'; folders: Folder[] }
  /** Nothing changed in the scope since its token: nothing to do. */
  | { kind: 'unchanged'; scope: string }
  /**
   * First sync of the scope, or its old state is void (IMAP UIDVALIDITY changed, Gmail history
   * expired, Graph syncStateNotFound, --full): what the cache holds for it goes (a folder scope:
   * its memberships; the account scope: every message), and `checkpoint` is its token from now on.
   */
  | { kind: 'reset'; scope: string; reason: 'new' | 'invalidated' | 'full'; checkpoint: string }
  /** New or changed messages, with the folders holding them. `bytes`: what the feed fetched. */
  | { kind: 'upsert'; scope: string; messages: MessageUpsert[]; bytes: number; checkpoint?: string }
  | { kind: 'flags'; scope: string; updates: FlagsUpdate[]; checkpoint?: string }
  | { kind: 'membership'; scope: string; changes: MembershipChange[]; checkpoint?: string }
  /** Messages deleted from the account (IMAP: expunged; every backend: deleted for good). */
  | { kind: 'gone'; scope: string; ids: string[]; checkpoint?: string }
  /**
   * A listing of what still exists, for a backend that cannot tell deletions (IMAP without
   * QRESYNC, a full resync reconciled by id): in a folder scope, every message of the folder
   * whose membership number is at most `upTo` (every one when null) and whose id is not listed
   * has left it; in the account scope, every unlisted message of the account is gone.
   */
  | { kind: 'present'; scope: string; ids: string[]; upTo: number | null; checkpoint?: string }
  /** The scope's token; `complete`: the scope is caught up (the cache's age is this moment). */
  | { kind: 'checkpoint'; scope: string; token: string; complete: boolean }
  /**
   * What the feed is about to fetch in the scope (a first sync's whole mailbox, a folder's new
   * mail): for the progress bar's total. An estimate; nothing is stored.
   */
  | { kind: 'plan'; scope: string; messages: number }
  /** The backend refused this scope (no right to read it, gone since the list): the others go on. */
  | { kind: 'failed'; scope: string; error: string };
