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
];
