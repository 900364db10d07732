/**
 * Schema migrations, applied in order and recorded in PRAGMA user_version.
 * Append new steps; never edit a step that has shipped.
 * Secrets are never stored here (see src/secrets).
 */
export const MIGRATIONS: readonly string[] = [
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
];

/**
 * Steps that free much of the file (moving or dropping large columns): a database that
 * went through one is compacted afterwards, so the cache does not keep twice its size.
 */
export const COMPACT_AFTER: ReadonlySet<number> = new Set([3]);
