/**
 * Schema migrations, applied in order and recorded in PRAGMA user_version.
 * Append new steps; never edit a step that has shipped.
 * Secrets are never stored here (see src/secrets).
 *
 * A step is SQL, or a function for what SQL alone cannot do (computing ids). db.ts runs each in
 * one transaction; a step that rebuilds tables runs with foreign keys off (see `rebuildsTables`).
 */
// The driver's type, not db.ts's alias: db.ts runs these steps, and this module stays below it.
import type BetterSqlite3 from 'better-sqlite3';

type Database = BetterSqlite3.Database;

export type MigrationStep = string | { rebuildsTables: boolean; run: (db: Database) => void };

export const MIGRATIONS: readonly MigrationStep[] = [
  // 1: accounts and the folder list cache
  `
  CREATE TABLE accounts (
    name            TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    email           TEXT NOT NULL,
    config          TEXT NOT NULL,           -- AccountConfig as JSON, without secrets
    priority        INTEGER NOT NULL DEFAULT 0,
    is_default      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'active',
    last_error      TEXT,
    last_checked_at TEXT,
    last_sync_at    TEXT,
    token_expires_at TEXT
  );
  CREATE TABLE folders (
    account      TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    path         TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    delimiter    TEXT,
    role         TEXT,
    unread_count INTEGER,
    total_count  INTEGER,
    selectable   INTEGER NOT NULL DEFAULT 1,
    listed_at    TEXT NOT NULL,
    PRIMARY KEY (account, path)
  );
  `,
  // 2: the sync cache (issue: sync). 64-bit values (UIDVALIDITY, MODSEQ) are TEXT: exact, never a float.
  `
  CREATE TABLE sync_folders (
    account       TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    path          TEXT NOT NULL,
    uidvalidity   TEXT NOT NULL,
    uidnext       INTEGER,
    highestmodseq TEXT,
    last_uid      INTEGER NOT NULL DEFAULT 0,   -- every UID up to here has been fetched
    message_count INTEGER,
    synced_at     TEXT,
    PRIMARY KEY (account, path)
  );
  CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,        -- stable rowid, shared with messages_fts
    account         TEXT NOT NULL,
    folder          TEXT NOT NULL,
    uidvalidity     TEXT NOT NULL,
    uid             INTEGER NOT NULL,
    message_id      TEXT,
    subject         TEXT NOT NULL DEFAULT '',
    from_name       TEXT,
    from_address    TEXT,
    to_json         TEXT NOT NULL DEFAULT '[]',
    cc_json         TEXT NOT NULL DEFAULT '[]',
    bcc_json        TEXT NOT NULL DEFAULT '[]',
    reply_to_json   TEXT NOT NULL DEFAULT '[]',
    in_reply_to     TEXT,
    references_json TEXT NOT NULL DEFAULT '[]',
    date            TEXT,                       -- ISO 8601 UTC
    internal_date   TEXT,
    size            INTEGER NOT NULL DEFAULT 0,
    flags_json      TEXT NOT NULL DEFAULT '[]',
    has_attachments INTEGER NOT NULL DEFAULT 0,
    modseq          TEXT,
    raw             BLOB,                       -- NULL when over the size limit or --headers-only
    body_text       TEXT,
    UNIQUE (account, folder, uid),
    FOREIGN KEY (account, folder) REFERENCES sync_folders(account, path) ON DELETE CASCADE ON UPDATE CASCADE
  );
  CREATE INDEX messages_by_date ON messages(account, folder, uid DESC);
  CREATE INDEX messages_by_message_id ON messages(account, message_id);
  CREATE VIRTUAL TABLE messages_fts USING fts5(subject, addresses, body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
  -- However a message goes (expunged, folder reset, account removed by cascade), its index entry goes too.
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
  END;
  CREATE TABLE processed (
    account      TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    dedupe_key   TEXT NOT NULL,                 -- Message-ID + size, or a content hash
    folder       TEXT NOT NULL,
    uid          INTEGER NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (account, dedupe_key)
  );
  CREATE TABLE sync_locks (
    account     TEXT PRIMARY KEY,
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    token       TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
  );
  CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,                  -- running, ok, failed
    new         INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    error       TEXT
  );
  `,
  // 3: bodies in their own table. A flag change rewrote the whole row, raw bytes and body
  // text included (SQLite rewrites a changed record with its overflow pages): 100 flag
  // changes on 30 KB messages took 20 ms instead of 1, and inserts were a third slower.
  `
  CREATE TABLE message_bodies (
    id        INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    raw       BLOB,                             -- NULL when over the size limit or --headers-only
    body_text TEXT                              -- the indexed text; offline reading when raw is NULL
  );
  INSERT INTO message_bodies (id, raw, body_text)
    SELECT id, raw, body_text FROM messages WHERE raw IS NOT NULL OR body_text IS NOT NULL;
  ALTER TABLE messages DROP COLUMN raw;
  ALTER TABLE messages DROP COLUMN body_text;
  `,
  // 4: one core for three backends (issue 9). See schema4() below.
  { rebuildsTables: true, run: schema4 },
  // 5: the full-text index writes less. Each commit of a sync adds a segment to the index, and
  // FTS5 merges segments as they pile up: by default 4 of a level at a time, in leaves of about
  // 4 KB. Leaves of 16 KB (our page size) and merges of 8 at a time took a 50,000-message first
  // sync's indexing from 3.5-4.6 s to 3.1-3.6 s (the commits' share, where FTS5 writes and merges
  // its segments, from 1.75-2.3 s to 1.1-1.4 s); a term's lookup stays well under a millisecond
  // against a process start of 150 ms. The settings hold for segments written from now on; FTS5
  // keeps them in messages_fts_config.
  { rebuildsTables: false, run: fullTextSettings },
];

/**
 * Steps that free much of the file (moving or dropping large columns): a database that
 * went through one is compacted afterwards, so the cache does not keep twice its size.
 */
export const COMPACT_AFTER: ReadonlySet<number> = new Set([3, 4]);

/**
 * The ids release 10c2617 printed for IMAP messages: base64url(folder).uidvalidity.uid. A frozen
 * copy on purpose: this step must turn old rows into the ids users already have in scripts,
 * whatever the IMAP codec (src/providers/imap/ids.ts) becomes later; the migration test checks
 * the two agree today.
 */
function releaseImapId(folder: string, uidValidity: string, uid: number): string {
  return `${Buffer.from(folder, 'utf8').toString('base64url')}.${uidValidity}.${uid}`;
}

/** The IMAP flags of a schema-3 row: which of the four are set, and the rest as keywords. */
function releaseFlags(json: string): { seen: number; flagged: number; answered: number; draft: number; keywords: string } {
  const out = { seen: 0, flagged: 0, answered: 0, draft: 0, keywords: [] as string[] };
  for (const flag of JSON.parse(json) as string[]) {
    const lower = flag.toLowerCase();
    if (lower === '\\seen') out.seen = 1;
    else if (lower === '\\flagged') out.flagged = 1;
    else if (lower === '\\answered') out.answered = 1;
    else if (lower === '\\draft') out.draft = 1;
    else if (lower !== '\\recent') out.keywords.push(flag);
  }
  return { ...out, keywords: JSON.stringify(out.keywords) };
}

/**
 * Schema 4: a message stored once per account under the backend's opaque id, a membership row per
 * folder holding it (IMAP keeps its UID there), sync state as an opaque token per scope, flags as
 * columns. Every existing account is IMAP: each old row becomes one message with one membership,
 * keeping its rowid, so its body and its FTS entry stay as they are (nothing is refetched or
 * re-indexed), and each folder cursor becomes the IMAP feed's token (the sync goes on incrementally).
 */
function schema4(db: Database): void {
  db.function('mailops_v3_id', { deterministic: true }, (folder: unknown, uidValidity: unknown, uid: unknown) =>
    releaseImapId(String(folder), String(uidValidity), Number(uid)),
  );
  db.function('mailops_v3_flag', { deterministic: true }, (json: unknown, which: unknown) => {
    const flags = releaseFlags(String(json));
    return which === 'keywords' ? flags.keywords : flags[which as 'seen' | 'flagged' | 'answered' | 'draft'];
  });
  db.exec(`
  CREATE TABLE sync_state (
    account   TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    scope     TEXT NOT NULL,                    -- '' the account, else a folder id
    token     TEXT NOT NULL,                    -- opaque: only the backend that wrote it reads it
    synced_at TEXT,                             -- when the scope was last caught up
    PRIMARY KEY (account, scope)
  );
  -- The IMAP feed's token (src/providers/imap/sync-token.ts): v UIDVALIDITY, n UIDNEXT,
  -- m HIGHESTMODSEQ (text: 64 bits), l last UID fetched, c message count, d finished once.
  INSERT INTO sync_state (account, scope, token, synced_at)
    SELECT account, path,
      json_object('v', uidvalidity, 'n', uidnext, 'm', highestmodseq, 'l', last_uid, 'c', message_count,
                  'd', json(CASE WHEN synced_at IS NULL THEN 'false' ELSE 'true' END)),
      synced_at
    FROM sync_folders;

  CREATE TABLE messages_v4 (
    id              INTEGER PRIMARY KEY,        -- stable rowid, shared with messages_fts and message_bodies
    account         TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    ref             TEXT NOT NULL,              -- the backend's opaque id, as ls prints it
    message_id      TEXT,
    subject         TEXT NOT NULL DEFAULT '',
    from_name       TEXT,
    from_address    TEXT,
    to_json         TEXT NOT NULL DEFAULT '[]',
    cc_json         TEXT NOT NULL DEFAULT '[]',
    bcc_json        TEXT NOT NULL DEFAULT '[]',
    reply_to_json   TEXT NOT NULL DEFAULT '[]',
    in_reply_to     TEXT,
    references_json TEXT NOT NULL DEFAULT '[]',
    date            TEXT,                       -- ISO 8601 UTC
    internal_date   TEXT,
    size            INTEGER NOT NULL DEFAULT 0,
    seen            INTEGER NOT NULL DEFAULT 0,
    flagged         INTEGER NOT NULL DEFAULT 0,
    answered        INTEGER NOT NULL DEFAULT 0,
    draft           INTEGER NOT NULL DEFAULT 0,
    keywords_json   TEXT NOT NULL DEFAULT '[]',
    has_attachments INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, ref)
  );
  INSERT INTO messages_v4 (id, account, ref, message_id, subject, from_name, from_address, to_json, cc_json, bcc_json,
      reply_to_json, in_reply_to, references_json, date, internal_date, size, seen, flagged, answered, draft, keywords_json, has_attachments)
    SELECT id, account, mailops_v3_id(folder, uidvalidity, uid), message_id, subject, from_name, from_address, to_json, cc_json, bcc_json,
      reply_to_json, in_reply_to, references_json, date, internal_date, size,
      mailops_v3_flag(flags_json, 'seen'), mailops_v3_flag(flags_json, 'flagged'), mailops_v3_flag(flags_json, 'answered'),
      mailops_v3_flag(flags_json, 'draft'), mailops_v3_flag(flags_json, 'keywords'), has_attachments
    FROM messages;

  CREATE TABLE memberships (
    message  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    account  TEXT NOT NULL,                     -- the message's, repeated for the folder indexes
    folder   TEXT NOT NULL,                     -- folder id
    uid      INTEGER,                           -- the backend's number in the folder (IMAP UID), or NULL
    received TEXT,                              -- arrival (the message's internal date, else its Date): the listing order
    PRIMARY KEY (message, folder)
  ) WITHOUT ROWID;
  INSERT INTO memberships (message, account, folder, uid, received)
    SELECT id, account, folder, uid, coalesce(internal_date, date) FROM messages;

  -- Foreign keys are off during this step: dropping the old table neither cascades to the bodies
  -- nor fires the FTS trigger, and the new table takes its name (and the bodies' references).
  DROP TABLE messages;
  DROP TABLE sync_folders;
  ALTER TABLE messages_v4 RENAME TO messages;
  CREATE INDEX messages_by_message_id ON messages(account, message_id);
  -- A UID is unique in its folder, and a bare UID typed with --folder is found by it.
  CREATE UNIQUE INDEX memberships_by_folder ON memberships(account, folder, uid);
  -- A folder's listing walks this one, newest arrival first (src/store/cache-query.ts).
  CREATE INDEX memberships_by_arrival ON memberships(account, folder, received DESC, uid DESC, message DESC);
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
  END;
  -- A message lives as long as a folder holds it: the last membership gone, the message goes
  -- (its body by cascade, its index entry by the trigger above).
  CREATE TRIGGER memberships_last_gone AFTER DELETE ON memberships
    WHEN NOT EXISTS (SELECT 1 FROM memberships WHERE message = old.message) BEGIN
    DELETE FROM messages WHERE id = old.message;
  END;

  -- --on-new's processed set, keyed by Message-ID + size (or a content hash) as before, so it
  -- holds across folders and renumbering; the UID it had is optional (backends without UIDs).
  CREATE TABLE processed_v4 (
    account      TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE ON UPDATE CASCADE,
    dedupe_key   TEXT NOT NULL,
    folder       TEXT NOT NULL,
    uid          INTEGER,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (account, dedupe_key)
  );
  INSERT INTO processed_v4 SELECT account, dedupe_key, folder, uid, processed_at FROM processed;
  DROP TABLE processed;
  ALTER TABLE processed_v4 RENAME TO processed;
  `);
}

function fullTextSettings(db: Database): void {
  db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('automerge', 8)");
  // A 16 KB page holds a row of up to 16,349 bytes without overflow pages. A file made before
  // mailops chose 16 KB pages keeps its 4 KB ones (WAL cannot change them), and FTS5's default.
  if ((db.pragma('page_size', { simple: true }) as number) >= 16384) {
    db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('pgsz', 16000)");
  }
}
