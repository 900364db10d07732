/**
 * accounts.json: a copy of every account's configuration (never a secret: AccountConfig
 * holds none) beside the database, rewritten whenever an account is saved or removed.
 * The database is a cache that can be rebuilt from the servers; the accounts are not, so
 * a damaged mailops.db must not take them with it (`sync --rebuild-cache`, rebuild.ts).
 * Written to a temporary file and renamed over the old one: never half-written. 0600.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountConfig } from '../domain/types.js';

export const ACCOUNTS_BACKUP_FILE = 'accounts.json';

interface BackupFile {
  version: 1;
  accounts: AccountConfig[];
}

export function writeAccountsBackup(home: string, accounts: readonly AccountConfig[]): void {
  const file = join(home, ACCOUNTS_BACKUP_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  const body: BackupFile = { version: 1, accounts: [...accounts] };
  writeFileSync(temporary, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** The accounts of accounts.json; null when there is none or it cannot be read as one. */
export function readAccountsBackup(home: string): AccountConfig[] | null {
  let text: string;
  try {
    text = readFileSync(join(home, ACCOUNTS_BACKUP_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const parsed = JSON.parse(text) as Partial<BackupFile>;
    if (parsed.version !== 1 || !Array.isArray(parsed.accounts)) return null;
    return parsed.accounts.filter((a): a is AccountConfig => typeof a?.name === 'string' && typeof a.email === 'string' && typeof a.provider === 'string');
  } catch {
    return null;
  }
}
