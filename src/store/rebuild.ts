/**
 * `sync --rebuild-cache`: the way back from a damaged mailops.db (storage-error.ts names the
 * damage), and a clean start on request. The file is set aside, not deleted (someone may want
 * to look at it), a new database is made, and what cannot be had again from the servers is
 * carried over: the accounts (from the old file when it can still be read, else from
 * accounts.json, account-backup.ts) and --on-new's record of what it handed over (from the
 * old file only: when that is lost, the caller says so). Secrets are in their own store and
 * never part of it. The sync that follows fills the cache again.
 */
import { createRequire } from 'node:module';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig } from '../domain/types.js';
import { ACCOUNTS_BACKUP_FILE, readAccountsBackup } from './account-backup.js';
import { AccountRepository } from './accounts.js';
import { openDatabase, type Database } from './db.js';
import { DB_FILE } from './storage-error.js';

export interface RebuildOutcome {
  /** Where the old database went; null when there was none. */
  setAside: string | null;
  accounts: number;
  accountsFrom: 'database' | typeof ACCOUNTS_BACKUP_FILE;
  /** Whether --on-new's record came over; false when the old file could not give it. */
  processedKept: boolean;
}

interface ProcessedRow {
  account: string;
  dedupe_key: string;
  folder: string;
  uid: number | null;
  processed_at: string;
}

/** What can still be read of the old file: each part null when it cannot. */
interface Salvage {
  accounts: AccountConfig[] | null;
  processed: ProcessedRow[] | null;
  /** Accounts whose sync lease has not expired: a sync is running on this file now. */
  leased: string[];
}

export function rebuildCache(home: string): RebuildOutcome {
  const file = join(home, DB_FILE);
  const salvage = existsSync(file) ? salvageFrom(file) : { accounts: null, processed: null, leased: [] };
  if (salvage.leased.length) {
    throw new MailopsError('BUSY', `a sync of ${salvage.leased.join(', ')} is running on ${file}; the cache is not rebuilt under it`, {
      hint: 'run again when it has ended (or stop it)',
    });
  }
  const backup = salvage.accounts ? null : readAccountsBackup(home);
  const accounts = salvage.accounts ?? backup;
  if (!accounts) {
    throw new MailopsError('FAILED', `cannot rebuild the cache: ${file} cannot be read and there is no ${ACCOUNTS_BACKUP_FILE} beside it to take the accounts from`, {
      hint: 'move the database aside yourself and run mailops connect NAME again for each account (the secrets are still in their store)',
    });
  }

  let setAside: string | null = null;
  if (existsSync(file)) {
    setAside = `${file}.set-aside-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    // The WAL files go with it: they belong to that file and would be read into the new one.
    for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, setAside + suffix);
    renameSync(file, setAside);
  }

  const db = openDatabase(home);
  try {
    const repository = new AccountRepository(db);
    db.transaction(() => {
      for (const account of accounts) repository.save(account, account.isDefault);
      const insert = db.prepare('INSERT OR IGNORE INTO processed (account, dedupe_key, folder, uid, processed_at) VALUES (@account, @dedupe_key, @folder, @uid, @processed_at)');
      const names = new Set(accounts.map((a) => a.name));
      for (const row of salvage.processed ?? []) if (names.has(row.account)) insert.run(row);
    })();
  } finally {
    db.close();
  }
  return { setAside, accounts: accounts.length, accountsFrom: salvage.accounts ? 'database' : ACCOUNTS_BACKUP_FILE, processedKept: salvage.processed !== null };
}

/** Reads what it can of a database that may be damaged, read-only, each part on its own. */
function salvageFrom(file: string): Salvage {
  const require = createRequire(import.meta.url);
  const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
  let db: Database;
  try {
    db = new Sqlite(file, { readonly: true, fileMustExist: true });
  } catch {
    return { accounts: null, processed: null, leased: [] };
  }
  const attempt = <T>(read: () => T): T | null => {
    try {
      return read();
    } catch {
      return null;
    }
  };
  try {
    const accounts = attempt(() => new AccountRepository(db).list().map((a) => a.config));
    const processed = attempt(() => db.prepare('SELECT account, dedupe_key, folder, uid, processed_at FROM processed').all() as ProcessedRow[]);
    const now = new Date().toISOString();
    const leased = attempt(() => (db.prepare('SELECT account FROM sync_locks WHERE expires_at > ?').all(now) as { account: string }[]).map((r) => r.account)) ?? [];
    return { accounts, processed, leased };
  } finally {
    db.close();
  }
}
