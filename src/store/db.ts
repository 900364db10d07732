/**
 * The SQLite database of one MAILOPS_HOME: WAL, a busy timeout so a cron
 * sync and an interactive command can share it, 0600, migrations by
 * PRAGMA user_version.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { MailopsError } from '../domain/errors.js';
import { ACCOUNTS_BACKUP_FILE, writeAccountsBackup } from './account-backup.js';
import { AccountRepository } from './accounts.js';
import { ensureHome } from './home.js';
import { COMPACT_AFTER, MIGRATIONS } from './migrations.js';
import { DB_FILE, storageError } from './storage-error.js';

export { storageError };

export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement<unknown[]>;


export function openDatabase(home: string): Database {
  ensureHome(home);
  const file = join(home, DB_FILE);
  // Create the file ourselves so it is 0600 from its first byte.
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  // better-sqlite3 is CommonJS and native: loaded only by commands that need state.
  const require = createRequire(import.meta.url);
  const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
  let db: Database;
  try {
    db = new Sqlite(file, { timeout: 10_000, nativeBinding: nativeBinding(require) });
  } catch (error) {
    throw storageError(error, home) ?? new MailopsError('FAILED', `cannot open the database ${file}: ${(error as Error).message}`, { cause: error });
  }
  // 16 KB pages for a new file (an existing one keeps its size; WAL cannot change it): the
  // cache is mostly message bodies, written through overflow pages one WAL frame each, and
  // storing them measured 30% faster than with 4 KB pages, for a 3% larger file.
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // 4 MB of page cache (the default is 16): sync streams through, and cron keeps a small footprint.
  db.pragma('cache_size = -4000');
  migrate(db);
  backfillAccountsBackup(db, home);
  // WAL side files inherit the umask; keep them private too.
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  }
  return db;
}

/**
 * One more connection to a database file that another connection of this process opened (and
 * migrated) with openDatabase: for a thread that only checkpoints the WAL
 * (core/sync/wal-checkpointer.ts). A checkpoint copies frames without the page cache, so it
 * keeps a small one; it syncs the files as the main connection's setting says.
 */
export function openForCheckpoints(file: string): Database {
  const require = createRequire(import.meta.url);
  const Sqlite = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Sqlite(file, { fileMustExist: true, nativeBinding: nativeBinding(require) });
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -256');
  return db;
}

/**
 * The addon's path, where npm builds it: handed to better-sqlite3, it skips the `bindings`
 * package's search of a dozen candidate paths (2-3 ms of every command that opens the database).
 * Undefined, and that search, for a build elsewhere.
 */
function nativeBinding(require: NodeJS.Require): string | undefined {
  const built = join(dirname(require.resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  return existsSync(built) ? built : undefined;
}

/**
 * A home from before accounts.json gets its copy of the accounts at the first open. Best effort:
 * a read-only home still serves the commands that only read.
 */
function backfillAccountsBackup(db: Database, home: string): void {
  if (existsSync(join(home, ACCOUNTS_BACKUP_FILE))) return;
  try {
    const accounts = new AccountRepository(db).list();
    if (accounts.length) writeAccountsBackup(home, accounts.map((a) => a.config));
  } catch {
    // Written again with the next change to an account.
  }
}

function migrate(db: Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new MailopsError(
      'FAILED',
      `the database was written by a newer mailops (schema ${current}, this one knows ${MIGRATIONS.length})`,
      { hint: 'upgrade mailops, or point MAILOPS_HOME elsewhere' },
    );
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    const step = MIGRATIONS[version]!;
    const rebuilds = typeof step !== 'string' && step.rebuildsTables;
    // SQLite's way to rebuild a table (ALTER TABLE docs, "other kinds of table schema changes"):
    // foreign keys off outside the transaction, so dropping the old table cascades nowhere, and
    // checked before commit. The pragma is a no-op inside a transaction, hence out here.
    if (rebuilds) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (typeof step === 'string') db.exec(step);
        else step.run(db);
        if (rebuilds) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length) throw new MailopsError('FAILED', `schema ${version + 1} left ${broken.length} dangling references; the database is unchanged`);
        }
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    } finally {
      if (rebuilds) db.pragma('foreign_keys = ON');
    }
  }
  // A new database has nothing to compact; VACUUM cannot run inside a transaction.
  const applied = Array.from({ length: MIGRATIONS.length - current }, (_, i) => current + i + 1);
  if (current > 0 && applied.some((version) => COMPACT_AFTER.has(version))) db.exec('VACUUM');
}
