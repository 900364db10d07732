// accounts.json: the copy of the accounts that a damaged database cannot take with it.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../src/domain/types.js';
import { ACCOUNTS_BACKUP_FILE, readAccountsBackup } from '../../src/store/account-backup.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { openDatabase } from '../../src/store/db.js';

function config(name: string, extra: Partial<AccountConfig> = {}): AccountConfig {
  return {
    name, provider: 'imap', backend: 'imap', email: `${name}@x.org`, user: `${name}@x.org`,
    imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' },
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: false,
    createdAt: '2026-01-01T00:00:00.000Z', ...extra,
  };
}

function home(): string {
  return mkdtempSync(join(tmpdir(), 'mailops-backup-'));
}

describe('accounts.json', () => {
  it('follows every save and removal, 0600, with what status needs to put an account back', () => {
    const dir = home();
    const db = openDatabase(dir);
    try {
      const accounts = new AccountRepository(db);
      accounts.save(config('work', { priority: 2 }), false);
      accounts.save(config('home'), true);
      expect(readAccountsBackup(dir)?.map((a) => [a.name, a.isDefault, a.priority])).toEqual([
        ['home', true, 0],
        ['work', false, 2],
      ]);
      expect(statSync(join(dir, ACCOUNTS_BACKUP_FILE)).mode & 0o777).toBe(0o600);
      accounts.delete('home');
      expect(readAccountsBackup(dir)?.map((a) => a.name)).toEqual(['work']);
    } finally {
      db.close();
    }
  });

  it('a copy that cannot be written rolls the change back: the database and the copy agree', () => {
    const dir = home();
    const db = openDatabase(dir);
    try {
      const accounts = new AccountRepository(db);
      accounts.save(config('work'), true);
      // A directory where the file goes: the rename fails.
      const file = join(dir, ACCOUNTS_BACKUP_FILE);
      rmSync(file);
      mkdirSync(file);
      expect(() => accounts.save(config('home'), false)).toThrow();
      expect(accounts.list().map((a) => a.config.name)).toEqual(['work']);
    } finally {
      db.close();
    }
  });

  it('reads as nothing when missing, not JSON, or of another shape', () => {
    const dir = home();
    expect(readAccountsBackup(dir)).toBeNull();
    writeFileSync(join(dir, ACCOUNTS_BACKUP_FILE), '{"version": 1, "accounts": [');
    expect(readAccountsBackup(dir)).toBeNull();
    writeFileSync(join(dir, ACCOUNTS_BACKUP_FILE), '{"version": 2, "accounts": []}');
    expect(readAccountsBackup(dir)).toBeNull();
    writeFileSync(join(dir, ACCOUNTS_BACKUP_FILE), JSON.stringify({ version: 1, accounts: [config('ok'), { name: 3 }, null] }));
    expect(readAccountsBackup(dir)?.map((a) => a.name)).toEqual(['ok']);
  });
});

describe('a home from before accounts.json', () => {
  it('gets its copy when the database is next opened', () => {
    const dir = home();
    const first = openDatabase(dir);
    new AccountRepository(first).save(config('old'), true);
    first.close();
    rmSync(join(dir, ACCOUNTS_BACKUP_FILE));
    openDatabase(dir).close();
    expect(readAccountsBackup(dir)?.map((a) => a.name)).toEqual(['old']);
  });
});
