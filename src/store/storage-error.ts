/**
 * SQLite's failures of the disk or the file as the contract's errors. Apart from db.ts so that
 * the CLI's error reporter can use it without loading the store.
 */
import { join } from 'node:path';
import { MailopsError } from '../domain/errors.js';
import { ACCOUNTS_BACKUP_FILE } from './account-backup.js';

/** The database's file name in MAILOPS_HOME. */
export const DB_FILE = 'mailops.db';

/**
 * SQLite's failures of the disk or the file as the contract's errors, naming the file and what to
 * do; null for anything else. What a failed statement was writing is rolled back with its
 * transaction, so each says that nothing was half-saved.
 */
export function storageError(error: unknown, home?: string): MailopsError | null {
  const code = String((error as { code?: unknown } | null)?.code ?? '');
  if (!code.startsWith('SQLITE_')) return null;
  const file = home ? join(home, DB_FILE) : `the cache database (${DB_FILE})`;
  const where = home ?? 'MAILOPS_HOME';
  if (code === 'SQLITE_FULL' || (code.startsWith('SQLITE_IOERR') && /space|full/i.test(String((error as Error).message)))) {
    return new MailopsError('FAILED', `the disk holding ${file} is full`, {
      hint: `free some space there (df -h ${where}) and run the command again: what it was writing was rolled back, nothing is half-saved`,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
    return new MailopsError('FAILED', `${file} cannot be written (${code})`, { hint: `check that ${where} and the files in it belong to you and are writable`, cause: error });
  }
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new MailopsError('FAILED', `${file} is damaged (${code})`, {
      hint: `run mailops sync --rebuild-cache: it sets the file aside, keeps the accounts (from ${ACCOUNTS_BACKUP_FILE}) and their secrets, and fills a new cache from the servers`,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_IOERR')) return new MailopsError('FAILED', `cannot read or write ${file} (${code})`, { hint: `check the disk holding ${where}`, cause: error });
  return null;
}

