/**
 * The message cache `sync` fills and the --offline reads use: sync state as an opaque token per
 * scope, each message stored once per account under its opaque id with a membership row per
 * folder holding it, bodies beside the rows, and the FTS5 index over subject, addresses and body
 * text. Every write takes the checkpoint that covers it in the same transaction
 * (src/domain/sync.ts), so a killed sync never loses or duplicates anything.
 */
import type { Address, MessageFlags } from '../domain/types.js';
import type { CachedMessage, FlagsUpdate, MembershipChange, Membership, MessageUpsert } from '../domain/sync.js';
import type { Database, Statement } from './db.js';

export type { CachedMessage, Membership };

export interface MessageRow {
  id: number;
  ref: string;
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
  seen: number;
  flagged: number;
  answered: number;
  draft: number;
  keywords_json: string;
  has_attachments: number;
}

/** A message row with its body (message_bodies), as get() reads it. */
interface MessageWithBodyRow extends MessageRow {
  raw: Buffer | null;
  body_text: string | null;
}

/** The columns a listing reads (never the raw bytes or the body text), with the membership listed. */
export type EnvelopeRow = Pick<
  MessageRow,
  'ref' | 'message_id' | 'subject' | 'from_name' | 'from_address' | 'to_json' | 'cc_json' | 'date' | 'internal_date' | 'size' | 'seen' | 'flagged' | 'answered' | 'draft' | 'keywords_json' | 'has_attachments'
> & { folder: string; uid: number | null };

/** A message as a listing returns it: in the folder it was listed in, with its number there. */
export type CachedEnvelope = Pick<
  CachedMessage,
  'id' | 'messageId' | 'subject' | 'from' | 'to' | 'cc' | 'date' | 'internalDate' | 'size' | 'flags' | 'hasAttachments'
> & Membership;

/** The SQL that reads an EnvelopeRow from `messages m` and `memberships f`. */
export const ENVELOPE_COLUMNS =
  'm.ref, f.folder, f.uid, m.message_id, m.subject, m.from_name, m.from_address, m.to_json, m.cc_json, m.date, m.internal_date, m.size, m.seen, m.flagged, m.answered, m.draft, m.keywords_json, m.has_attachments';

function flagsOf(row: Pick<MessageRow, 'seen' | 'flagged' | 'answered' | 'draft' | 'keywords_json'>): MessageFlags {
  return {
    seen: row.seen === 1,
    flagged: row.flagged === 1,
    answered: row.answered === 1,
    draft: row.draft === 1,
    keywords: JSON.parse(row.keywords_json) as string[],
  };
}

/** The fields listings and reads share, from the columns they share. */
function headerFields(row: Omit<EnvelopeRow, 'folder' | 'uid'>) {
  return {
    id: row.ref,
    messageId: row.message_id,
    subject: row.subject,
    from: row.from_address !== null ? { name: row.from_name ?? '', address: row.from_address } : null,
    to: JSON.parse(row.to_json) as Address[],
    cc: JSON.parse(row.cc_json) as Address[],
    date: row.date ? new Date(row.date) : null,
    internalDate: row.internal_date ? new Date(row.internal_date) : null,
    size: row.size,
    flags: flagsOf(row),
    hasAttachments: row.has_attachments === 1,
  };
}

export function rowToEnvelope(row: EnvelopeRow): CachedEnvelope {
  return { ...headerFields(row), folder: row.folder, uid: row.uid };
}

function rowToMessage(row: MessageWithBodyRow): CachedMessage {
  return {
    ...headerFields(row),
    bcc: JSON.parse(row.bcc_json) as Address[],
    replyTo: JSON.parse(row.reply_to_json) as Address[],
    inReplyTo: row.in_reply_to,
    references: JSON.parse(row.references_json) as string[],
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

const FLAG_COLUMNS = (flags: MessageFlags) => ({
  seen: flags.seen ? 1 : 0,
  flagged: flags.flagged ? 1 : 0,
  answered: flags.answered ? 1 : 0,
  draft: flags.draft ? 1 : 0,
  keywords_json: JSON.stringify(flags.keywords),
});

/** A membership, with the message's arrival (stored first) as the folder's listing order. */
const MEMBERSHIP_INSERT = `INSERT INTO memberships (message, account, folder, uid, received)
    VALUES (@message, @account, @folder, @uid, (SELECT coalesce(internal_date, date) FROM messages WHERE id = @message))
  ON CONFLICT(message, folder) DO UPDATE SET uid = excluded.uid, received = excluded.received`;

/** Where a write's checkpoint goes: the scope and its token once the write is applied. */
export interface Checkpoint {
  scope: string;
  token: string | undefined;
}

export class MessageCache {
  constructor(private readonly db: Database) {}

  /**
   * The statements a first sync runs for every message, prepared once: upsert() is called for
   * every few messages (apply.ts), and preparing its eight statements each time cost more than
   * running them.
   */
  private readonly statements = new Map<string, Statement>();
  private prepared(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Opens a transaction that the writes after it join until commitOpen(): a sync stores new mail
   * a few messages at a time, so that each body is garbage soon after it arrives, and commits
   * about once a megabyte (core/sync/apply.ts). A token written inside is committed with the
   * changes it covers, or lost with them. A write that fails leaves the transaction half-written:
   * the caller rolls it back whole (rollbackOpen), as a killed sync loses it.
   *
   * No savepoint for each write: FTS5 flushes what it holds in memory into a new index segment
   * at every savepoint, to be merged again later, so a savepoint a batch wrote a segment for
   * every few messages. Measured on a first sync of 50,000 small messages: 14.9-15.7 s without
   * them against 16.8-17.1 s with, the same peak RSS.
   */
  beginOpen(): void {
    this.db.exec('BEGIN IMMEDIATE');
    this.open = true;
  }

  commitOpen(): void {
    this.open = false;
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  rollbackOpen(): void {
    this.open = false;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** Inside beginOpen()'s transaction. */
  private open = false;

  /** The token last committed for each scope of the account ('' the account, else a folder id). */
  syncState(account: string): Map<string, string> {
    const rows = this.db.prepare('SELECT scope, token FROM sync_state WHERE account = ?').all(account) as Array<{ scope: string; token: string }>;
    return new Map(rows.map((r) => [r.scope, r.token]));
  }

  /** `work` and the token that covers it, in one transaction: a token never passes unapplied changes. */
  private commit<T>(account: string, checkpoint: Checkpoint, work: () => T): T {
    const save = this.prepared(
      `INSERT INTO sync_state (account, scope, token) VALUES (?, ?, ?)
       ON CONFLICT(account, scope) DO UPDATE SET token = excluded.token`,
    );
    const workAndToken = () => {
      const result = work();
      if (checkpoint.token !== undefined) save.run(account, checkpoint.scope, checkpoint.token);
      return result;
    };
    if (!(this.open && this.db.inTransaction)) return this.db.transaction(workAndToken).immediate();
    // In the open transaction (beginOpen): a failure is rolled back with the whole of it.
    return workAndToken();
  }

  /** A scope's token; `complete` marks the scope caught up now (the cache's age). */
  checkpoint(account: string, scope: string, token: string, complete: boolean): void {
    this.db
      .prepare(
        `INSERT INTO sync_state (account, scope, token, synced_at) VALUES (@account, @scope, @token, @at)
         ON CONFLICT(account, scope) DO UPDATE SET token = excluded.token, synced_at = coalesce(@at, synced_at)`,
      )
      .run({ account, scope, token, at: complete ? new Date().toISOString() : null });
  }

  /**
   * Starts a scope afresh (first sync, or its old state is void): a folder's memberships go (and
   * messages no other folder holds), or for the account scope every message, so nothing stale is
   * ever served under reused numbers. Returns how many messages left the scope.
   */
  reset(account: string, scope: string, token: string): number {
    return this.db.transaction(() => {
      const removed =
        scope === ''
          ? this.db.prepare('DELETE FROM messages WHERE account = ?').run(account).changes
          : this.db.prepare('DELETE FROM memberships WHERE account = ? AND folder = ?').run(account, scope).changes;
      this.db
        .prepare(
          `INSERT INTO sync_state (account, scope, token, synced_at) VALUES (?, ?, ?, NULL)
           ON CONFLICT(account, scope) DO UPDATE SET token = excluded.token, synced_at = NULL`,
        )
        .run(account, scope, token);
      return removed;
    }).immediate();
  }

  /** Which of these ids the account's cache holds. */
  existing(account: string, ids: readonly string[]): Set<string> {
    const has = this.db.prepare('SELECT 1 FROM messages WHERE account = ? AND ref = ?').pluck();
    return new Set(ids.filter((id) => has.get(account, id) !== undefined));
  }

  /** Every message and every sync token of the account (a switch of backend: other ids). */
  forgetAccount(account: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM messages WHERE account = ?').run(account);
      this.db.prepare('DELETE FROM sync_state WHERE account = ?').run(account);
    }).immediate();
  }

  /** A folder gone from the backend: its memberships and its state go (messages no other folder holds with them). */
  dropFolder(account: string, folder: string): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM memberships WHERE account = ? AND folder = ?').run(account, folder);
      this.db.prepare('DELETE FROM sync_state WHERE account = ? AND scope = ?').run(account, folder);
    }).immediate();
  }

  /**
   * The folders the cache holds something for: every folder scope, and under an account-wide
   * feed every folder holding a message.
   */
  folderIds(account: string): string[] {
    const scopes = this.db.prepare("SELECT scope FROM sync_state WHERE account = ? AND scope <> ''").pluck().all(account) as string[];
    // Asked first: a per-folder feed (IMAP) never walks the memberships on a no-change run.
    const accountWide = this.db.prepare("SELECT 1 FROM sync_state WHERE account = ? AND scope = ''").pluck().get(account) !== undefined;
    if (!accountWide) return scopes;
    const held = this.db.prepare('SELECT DISTINCT folder FROM memberships WHERE account = ?').pluck().all(account) as string[];
    return [...new Set([...scopes, ...held])];
  }

  /**
   * New or changed messages with their folders. Idempotent: a message already stored (same id) is
   * updated in place, its memberships added to (a folder it leaves is a membership change).
   */
  upsert(account: string, messages: MessageUpsert[], checkpoint: Checkpoint): number {
    // A new message is inserted and its id read from the insert; one already stored is updated.
    // Not one upsert with RETURNING id: a statement with RETURNING keeps a journal of its own,
    // which made FTS5 flush its index (beginOpen says why that costs) at every message; alone,
    // that upsert measured 50 µs a row against 28.
    const insert = this.prepared(
      `INSERT INTO messages (account, ref, message_id, subject, from_name, from_address, to_json, cc_json, bcc_json, reply_to_json,
         in_reply_to, references_json, date, internal_date, size, seen, flagged, answered, draft, keywords_json, has_attachments)
       VALUES (@account, @ref, @message_id, @subject, @from_name, @from_address, @to_json, @cc_json, @bcc_json, @reply_to_json,
         @in_reply_to, @references_json, @date, @internal_date, @size, @seen, @flagged, @answered, @draft, @keywords_json, @has_attachments)
       ON CONFLICT(account, ref) DO NOTHING`,
    );
    const update = this.prepared(
      `UPDATE messages SET
         message_id = @message_id, subject = @subject, from_name = @from_name, from_address = @from_address,
         to_json = @to_json, cc_json = @cc_json, bcc_json = @bcc_json, reply_to_json = @reply_to_json,
         in_reply_to = @in_reply_to, references_json = @references_json, date = @date,
         internal_date = @internal_date, size = @size, seen = @seen, flagged = @flagged,
         answered = @answered, draft = @draft, keywords_json = @keywords_json, has_attachments = @has_attachments
       WHERE account = @account AND ref = @ref
       RETURNING id`,
    );
    const member = this.prepared(MEMBERSHIP_INSERT);
    const body = this.prepared(
      `INSERT INTO message_bodies (id, raw, body_text) VALUES (?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET raw = excluded.raw, body_text = excluded.body_text`,
    );
    const noBody = this.prepared('DELETE FROM message_bodies WHERE id = ?');
    const ftsDelete = this.prepared('DELETE FROM messages_fts WHERE rowid = ?');
    const ftsInsert = this.prepared('INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)');
    const gone = this.prepared('DELETE FROM messages WHERE account = ? AND ref = ?');
    return this.commit(account, checkpoint, () => {
      let stored = 0;
      for (const { message: m, folders } of messages) {
        // A message lives as long as a folder holds it (the memberships_last_gone trigger): one in
        // no folder is not kept, so every cached message is listed somewhere.
        if (folders.length === 0) {
          gone.run(account, m.id);
          continue;
        }
        stored++;
        const row = {
          account,
          ref: m.id,
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
          ...FLAG_COLUMNS(m.flags),
          has_attachments: m.hasAttachments ? 1 : 0,
        };
        const inserted = insert.run(row);
        const id = inserted.changes === 1 ? Number(inserted.lastInsertRowid) : (update.get(row) as { id: number }).id;
        for (const f of folders) member.run({ message: id, account, folder: f.folder, uid: f.uid });
        if (m.raw !== null || m.bodyText !== null) body.run(id, m.raw, m.bodyText);
        else noBody.run(id);
        ftsDelete.run(id);
        ftsInsert.run(id, m.subject, addressText([m.from, ...m.to, ...m.cc, ...m.bcc]), m.bodyText ?? '');
      }
      return stored;
    });
  }


  /** Flag changes; returns how many cached messages changed (unknown ids are skipped). */
  setFlags(account: string, updates: FlagsUpdate[], checkpoint: Checkpoint): number {
    const update = this.db.prepare(
      `UPDATE messages SET seen = @seen, flagged = @flagged, answered = @answered, draft = @draft, keywords_json = @keywords_json
       WHERE account = @account AND ref = @ref
         AND NOT (seen = @seen AND flagged = @flagged AND answered = @answered AND draft = @draft AND keywords_json = @keywords_json)`,
    );
    return this.commit(account, checkpoint, () => {
      let changed = 0;
      for (const u of updates) changed += update.run({ account, ref: u.id, ...FLAG_COLUMNS(u.flags) }).changes;
      return changed;
    });
  }

  /**
   * Messages added to and removed from folders. Additions go first, so a message moving between
   * folders is never without one (which would delete it). Returns how many messages changed.
   */
  changeMemberships(account: string, changes: MembershipChange[], checkpoint: Checkpoint): number {
    const idOf = this.db.prepare('SELECT id FROM messages WHERE account = ? AND ref = ?').pluck();
    const member = this.prepared(MEMBERSHIP_INSERT);
    const leave = this.db.prepare('DELETE FROM memberships WHERE message = ? AND folder = ?');
    return this.commit(account, checkpoint, () => {
      let changed = 0;
      for (const change of changes) {
        const id = idOf.get(account, change.id) as number | undefined;
        if (id === undefined) continue;
        let touched = 0;
        for (const f of change.added) touched += member.run({ message: id, account, folder: f.folder, uid: f.uid }).changes;
        for (const folder of change.removed) touched += leave.run(id, folder).changes;
        if (touched) changed++;
      }
      return changed;
    });
  }

  /** Messages deleted from the account; returns how many were cached. */
  remove(account: string, ids: string[], checkpoint: Checkpoint): number {
    const del = this.db.prepare('DELETE FROM messages WHERE account = ? AND ref = ?');
    return this.commit(account, checkpoint, () => {
      let removed = 0;
      for (const id of ids) removed += del.run(account, id).changes;
      return removed;
    });
  }

  /**
   * What still exists (see the `present` event): in a folder, every message whose number is at
   * most `upTo` (all when null) and not listed leaves it; in the account scope ('') every message
   * not listed goes. Returns how many left.
   */
  keepOnly(account: string, scope: string, ids: string[], upTo: number | null, checkpoint: Checkpoint): number {
    const still = new Set(ids);
    return this.commit(account, checkpoint, () => {
      let removed = 0;
      if (scope === '') {
        const all = this.db.prepare('SELECT ref FROM messages WHERE account = ?').pluck().all(account) as string[];
        const del = this.db.prepare('DELETE FROM messages WHERE account = ? AND ref = ?');
        for (const ref of all) if (!still.has(ref)) removed += del.run(account, ref).changes;
        return removed;
      }
      const members = this.db
        .prepare(
          `SELECT f.message, m.ref FROM memberships f JOIN messages m ON m.id = f.message
           WHERE f.account = @account AND f.folder = @scope AND (@upTo IS NULL OR f.uid <= @upTo)`,
        )
        .all({ account, scope, upTo }) as Array<{ message: number; ref: string }>;
      const leave = this.db.prepare('DELETE FROM memberships WHERE message = ? AND folder = ?');
      for (const m of members) if (!still.has(m.ref)) removed += leave.run(m.message, scope).changes;
      return removed;
    });
  }

  /** One message with its body, by its opaque id. */
  get(account: string, id: string): CachedMessage | null {
    const row = this.db
      .prepare('SELECT m.*, b.raw, b.body_text FROM messages m LEFT JOIN message_bodies b ON b.id = m.id WHERE m.account = ? AND m.ref = ?')
      .get(account, id) as MessageWithBodyRow | undefined;
    return row ? rowToMessage(row) : null;
  }

  /** The folders holding a message, with its number in each. */
  memberships(account: string, id: string): Membership[] {
    return this.db
      .prepare('SELECT f.folder, f.uid FROM memberships f JOIN messages m ON m.id = f.message WHERE m.account = ? AND m.ref = ? ORDER BY f.folder')
      .all(account, id) as Membership[];
  }

  /** The id of the message with this number in the folder (an IMAP UID typed with --folder). */
  idByUid(account: string, folder: string, uid: number): string | null {
    return (
      (this.db
        .prepare('SELECT m.ref FROM memberships f JOIN messages m ON m.id = f.message WHERE f.account = ? AND f.folder = ? AND f.uid = ?')
        .pluck()
        .get(account, folder, uid) as string | undefined) ?? null
    );
  }

  /** A folder's messages as (id, number) pairs, lowest number first: what --on-new walks. */
  folderMessages(account: string, folder: string): Array<Membership & { id: string }> {
    return this.db
      .prepare(
        `SELECT m.ref AS id, f.folder, f.uid FROM memberships f JOIN messages m ON m.id = f.message
         WHERE f.account = ? AND f.folder = ? ORDER BY f.uid, m.internal_date, m.id`,
      )
      .all(account, folder) as Array<Membership & { id: string }>;
  }

  /** The time the account's cache was last caught up in any scope (how old the cache is). */
  syncedAt(account: string): string | null {
    return (this.db.prepare('SELECT max(synced_at) FROM sync_state WHERE account = ?').pluck().get(account) as string | null) ?? null;
  }
}
