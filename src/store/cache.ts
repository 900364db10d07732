/**
 * The message cache `sync` fills and the --offline reads use: per-folder sync
 * cursors, message envelopes and bodies, and the FTS5 index over subject,
 * addresses and body text. Every batch of messages commits together with the
 * cursor that covers it, so a killed sync never loses or duplicates anything.
 */
import type { Address } from '../domain/types.js';
import type { CachedMessage, FlagUpdate, FolderCursor } from '../domain/sync.js';

export type { CachedMessage, FlagUpdate, FolderCursor };
import type { Database } from './db.js';

export interface MessageRow {
  id: number;
  folder: string;
  uidvalidity: string;
  uid: number;
  message_id: string | null;
  subject: string;
  from_name: string | null;
  from_address: string | null;
  to_json: string;
  cc_json: string;
  bcc_json: string;
  reply_to_json: string;
  in_reply_to: string | null;
  references_json: string;
  date: string | null;
  internal_date: string | null;
  size: number;
  flags_json: string;
  has_attachments: number;
  modseq: string | null;
}

/** A message row with its body (message_bodies), as get() reads it. */
interface MessageWithBodyRow extends MessageRow {
  raw: Buffer | null;
  body_text: string | null;
}

interface CursorRow {
  path: string;
  uidvalidity: string;
  uidnext: number | null;
  highestmodseq: string | null;
  last_uid: number;
  message_count: number | null;
  synced_at: string | null;
}

/** The columns a listing reads: never the raw bytes or the body text. */
export type EnvelopeRow = Pick<
  MessageRow,
  'folder' | 'uidvalidity' | 'uid' | 'message_id' | 'subject' | 'from_name' | 'from_address' | 'to_json' | 'cc_json' | 'date' | 'internal_date' | 'size' | 'flags_json' | 'has_attachments'
>;

export type CachedEnvelope = Pick<
  CachedMessage,
  'folder' | 'uidValidity' | 'uid' | 'messageId' | 'subject' | 'from' | 'to' | 'cc' | 'date' | 'internalDate' | 'size' | 'flags' | 'hasAttachments'
>;

export function rowToEnvelope(row: EnvelopeRow): CachedEnvelope {
  return {
    folder: row.folder,
    uidValidity: row.uidvalidity,
    uid: row.uid,
    messageId: row.message_id,
    subject: row.subject,
    from: row.from_address !== null ? { name: row.from_name ?? '', address: row.from_address } : null,
    to: JSON.parse(row.to_json) as Address[],
    cc: JSON.parse(row.cc_json) as Address[],
    date: row.date ? new Date(row.date) : null,
    internalDate: row.internal_date ? new Date(row.internal_date) : null,
    size: row.size,
    flags: JSON.parse(row.flags_json) as string[],
    hasAttachments: row.has_attachments === 1,
  };
}

export function rowToMessage(row: MessageWithBodyRow): CachedMessage {
  return {
    ...rowToEnvelope(row),
    bcc: JSON.parse(row.bcc_json) as Address[],
    replyTo: JSON.parse(row.reply_to_json) as Address[],
    inReplyTo: row.in_reply_to,
    references: JSON.parse(row.references_json) as string[],
    modseq: row.modseq,
    raw: row.raw,
    bodyText: row.body_text,
  };
}

function addressText(list: Array<Address | null>): string {
  return list
    .filter((a): a is Address => a !== null)
    .map((a) => `${a.name} ${a.address}`.trim())
    .join(' ');
}

export class MessageCache {
  constructor(private readonly db: Database) {}

  cursors(account: string): Map<string, FolderCursor> {
    const rows = this.db.prepare('SELECT * FROM sync_folders WHERE account = ?').all(account) as CursorRow[];
    return new Map(
      rows.map((r) => [
        r.path,
        {
          uidValidity: r.uidvalidity,
          uidNext: r.uidnext,
          highestModseq: r.highestmodseq,
          lastUid: r.last_uid,
          messageCount: r.message_count,
          syncedAt: r.synced_at,
        },
      ]),
    );
  }

  /**
   * Starts a folder afresh (first sync, or UIDVALIDITY changed): its cached
   * messages go, so nothing stale is ever served under reused UIDs.
   */
  resetFolder(account: string, path: string, uidValidity: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM messages WHERE account = ? AND folder = ?').run(account, path);
      this.db
        .prepare(
          `INSERT INTO sync_folders (account, path, uidvalidity, uidnext, highestmodseq, last_uid, message_count, synced_at)
           VALUES (?, ?, ?, NULL, NULL, 0, NULL, NULL)
           ON CONFLICT(account, path) DO UPDATE SET uidvalidity = excluded.uidvalidity, uidnext = NULL,
             highestmodseq = NULL, last_uid = 0, message_count = NULL, synced_at = NULL`,
        )
        .run(account, path, uidValidity);
    }).immediate();
  }

  /** A folder gone from the server: its cache goes with it. */
  dropFolder(account: string, path: string): void {
    // Messages follow by cascade, their index entries by trigger.
    this.db.prepare('DELETE FROM sync_folders WHERE account = ? AND path = ?').run(account, path);
  }

  /** New messages and the cursor that covers them, in one transaction. Idempotent. */
  storeBatch(account: string, folder: string, messages: CachedMessage[], lastUid: number): void {
    const upsert = this.db.prepare(
      `INSERT INTO messages (account, folder, uidvalidity, uid, message_id, subject, from_name, from_address, to_json, cc_json,
         bcc_json, reply_to_json, in_reply_to, references_json, date, internal_date, size, flags_json, has_attachments, modseq)
       VALUES (@account, @folder, @uidvalidity, @uid, @message_id, @subject, @from_name, @from_address, @to_json, @cc_json,
         @bcc_json, @reply_to_json, @in_reply_to, @references_json, @date, @internal_date, @size, @flags_json, @has_attachments, @modseq)
       ON CONFLICT(account, folder, uid) DO UPDATE SET
         uidvalidity = excluded.uidvalidity, message_id = excluded.message_id, subject = excluded.subject,
         from_name = excluded.from_name, from_address = excluded.from_address, to_json = excluded.to_json,
         cc_json = excluded.cc_json, bcc_json = excluded.bcc_json, reply_to_json = excluded.reply_to_json,
         in_reply_to = excluded.in_reply_to, references_json = excluded.references_json, date = excluded.date, internal_date = excluded.internal_date,
         size = excluded.size, flags_json = excluded.flags_json, has_attachments = excluded.has_attachments,
         modseq = excluded.modseq
       RETURNING id`,
    );
    const body = this.db.prepare(
      `INSERT INTO message_bodies (id, raw, body_text) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET raw = excluded.raw, body_text = excluded.body_text`,
    );
    const noBody = this.db.prepare('DELETE FROM message_bodies WHERE id = ?');
    const ftsDelete = this.db.prepare('DELETE FROM messages_fts WHERE rowid = ?');
    const ftsInsert = this.db.prepare('INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)');
    const cursor = this.db.prepare('UPDATE sync_folders SET last_uid = max(last_uid, ?) WHERE account = ? AND path = ?');
    this.db.transaction(() => {
      for (const m of messages) {
        const { id } = upsert.get({
          account,
          folder,
          uidvalidity: m.uidValidity,
          uid: m.uid,
          message_id: m.messageId,
          subject: m.subject,
          from_name: m.from?.name ?? null,
          from_address: m.from?.address ?? null,
          to_json: JSON.stringify(m.to),
          cc_json: JSON.stringify(m.cc),
          bcc_json: JSON.stringify(m.bcc),
          reply_to_json: JSON.stringify(m.replyTo),
          in_reply_to: m.inReplyTo,
          references_json: JSON.stringify(m.references),
          date: m.date?.toISOString() ?? null,
          internal_date: m.internalDate?.toISOString() ?? null,
          size: m.size,
          flags_json: JSON.stringify(m.flags),
          has_attachments: m.hasAttachments ? 1 : 0,
          modseq: m.modseq,
        }) as { id: number };
        if (m.raw !== null || m.bodyText !== null) body.run(id, m.raw, m.bodyText);
        else noBody.run(id);
        ftsDelete.run(id);
        ftsInsert.run(id, m.subject, addressText([m.from, ...m.to, ...m.cc, ...m.bcc]), m.bodyText ?? '');
      }
      cursor.run(lastUid, account, folder);
    }).immediate();
  }

  /** Flag changes; returns how many cached messages changed. */
  applyFlags(account: string, folder: string, updates: FlagUpdate[]): number {
    const update = this.db.prepare(
      `UPDATE messages SET flags_json = ?, modseq = coalesce(?, modseq)
       WHERE account = ? AND folder = ? AND uid = ? AND flags_json <> ?`,
    );
    let changed = 0;
    this.db.transaction(() => {
      for (const u of updates) {
        const flags = JSON.stringify(u.flags);
        changed += update.run(flags, u.modseq, account, folder, u.uid, flags).changes;
      }
    }).immediate();
    return changed;
  }

  /** Messages expunged on the server; returns how many were cached. */
  removeUids(account: string, folder: string, uids: number[]): number {
    let removed = 0;
    const del = this.db.prepare('DELETE FROM messages WHERE account = ? AND folder = ? AND uid = ?');
    this.db.transaction(() => {
      for (const uid of uids) removed += del.run(account, folder, uid).changes;
    }).immediate();
    return removed;
  }

  cachedUids(account: string, folder: string): number[] {
    return (this.db.prepare('SELECT uid FROM messages WHERE account = ? AND folder = ? ORDER BY uid').pluck().all(account, folder) as number[]);
  }

  /** The folder is fully synced up to the server state it was compared with. */
  finishFolder(account: string, path: string, state: { uidNext: number | null; highestModseq: string | null; messageCount: number | null }): void {
    this.db
      .prepare('UPDATE sync_folders SET uidnext = ?, highestmodseq = ?, message_count = ?, synced_at = ? WHERE account = ? AND path = ?')
      .run(state.uidNext, state.highestModseq, state.messageCount, new Date().toISOString(), account, path);
  }

  get(account: string, folder: string, uid: number): CachedMessage | null {
    const row = this.db
      .prepare('SELECT m.*, b.raw, b.body_text FROM messages m LEFT JOIN message_bodies b ON b.id = m.id WHERE m.account = ? AND m.folder = ? AND m.uid = ?')
      .get(account, folder, uid) as MessageWithBodyRow | undefined;
    return row ? rowToMessage(row) : null;
  }

  /** The time of the last completed sync of any folder of the account (how old the cache is). */
  syncedAt(account: string): string | null {
    return (this.db.prepare('SELECT max(synced_at) FROM sync_folders WHERE account = ?').pluck().get(account) as string | null) ?? null;
  }
}
