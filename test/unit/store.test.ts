import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { FolderRepository } from '../../src/store/folders.js';
import { MessageCache } from '../../src/store/cache.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { encodeMessageId } from '../../src/providers/imap/ids.js';
import { resolveHome } from '../../src/store/home.js';
import type { AccountConfig } from '../../src/domain/types.js';

function config(name: string, extra: Partial<AccountConfig> = {}): AccountConfig {
  return {
    name, provider: 'imap', backend: 'imap', email: `${name}@x.org`, user: `${name}@x.org`,
    imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' },
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: false,
    createdAt: new Date().toISOString(), ...extra,
  };
}

describe('store', () => {
  it('creates a 0700 home and a 0600 database at the latest schema, in WAL mode', () => {
    const home = join(mkdtempSync(join(tmpdir(), 'mailops-store-')), 'home');
    const db = openDatabase(home);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'mailops.db')).mode & 0o777).toBe(0o600);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('page_size', { simple: true })).toBe(16384);
    db.close();
    // Opening again does not re-run migrations.
    openDatabase(home).close();
  });

  it('moves cached bodies out of the messages rows (schema 3) and keeps every one', () => {
    const home = mkdtempSync(join(tmpdir(), 'mailops-store-'));
    // A database as schema 2 left it, with one cached message.
    const old = new Database(join(home, 'mailops.db'));
    old.exec(MIGRATIONS[0] as string);
    old.exec(MIGRATIONS[1] as string);
    old.pragma('user_version = 2');
    old.prepare("INSERT INTO accounts (name, provider, email, config, created_at, updated_at) VALUES ('a', 'imap', 'a@x', '{}', 'now', 'now')").run();
    old.prepare("INSERT INTO sync_folders (account, path, uidvalidity, last_uid) VALUES ('a', 'INBOX', '1', 2)").run();
    const insert = old.prepare("INSERT INTO messages (account, folder, uidvalidity, uid, subject, raw, body_text) VALUES ('a', 'INBOX', '1', ?, 's', ?, ?)");
    // Large enough to span overflow pages, which the move frees.
    const raw = Buffer.alloc(300_000, 'raw bytes ');
    insert.run(1, raw, 'the text');
    insert.run(2, null, null);
    old.close();

    const db = openDatabase(home);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    // Compacted after the move: no free pages left behind.
    expect(db.pragma('freelist_count', { simple: true })).toBe(0);
    const columns = (db.prepare('PRAGMA table_info(messages)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(columns).not.toContain('raw');
    expect(columns).not.toContain('body_text');
    const cache = new MessageCache(db);
    const first = cache.get('a', encodeMessageId({ folder: 'INBOX', uidValidity: '1', uid: 1 }));
    // Buffer.equals: a deep comparison of 300 KB byte by byte took seconds.
    expect(first?.raw?.equals(raw)).toBe(true);
    expect(first?.bodyText).toBe('the text');
    expect(cache.get('a', encodeMessageId({ folder: 'INBOX', uidValidity: '1', uid: 2 }))).toMatchObject({ raw: null, bodyText: null });
    db.close();
  });

  it('writes the full-text index in leaves of a 16 KB page and merges 8 segments at a time', () => {
    const db = openDatabase(mkdtempSync(join(tmpdir(), 'mailops-store-')));
    const config = db.prepare('SELECT k, v FROM messages_fts_config WHERE k IN (?, ?) ORDER BY k').all('automerge', 'pgsz');
    expect(config).toEqual([{ k: 'automerge', v: 8 }, { k: 'pgsz', v: 16000 }]);
    // In effect: one segment of many distinct terms is written in leaves past FTS5's default 4,050 bytes.
    const insert = db.prepare('INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 200; i++) insert.run(i, `subject ${i}`, `a${i}@x.org`, Array.from({ length: 50 }, (_, j) => `term${i * 50 + j}`).join(' '));
    })();
    const largest = db.prepare('SELECT max(length(block)) FROM messages_fts_data').pluck().get() as number;
    expect(largest).toBeGreaterThan(4050);
    expect(largest).toBeLessThanOrEqual(16384 - 35);
    db.close();
  });

  it('keeps FTS5 leaves that fit the 4 KB pages of a file made before 16 KB ones', () => {
    const home = mkdtempSync(join(tmpdir(), 'mailops-store-'));
    const old = new Database(join(home, 'mailops.db'));
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    old.close();
    const db = openDatabase(home);
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    expect(db.prepare("SELECT v FROM messages_fts_config WHERE k = 'pgsz'").pluck().get()).toBeUndefined();
    expect(db.prepare("SELECT v FROM messages_fts_config WHERE k = 'automerge'").pluck().get()).toBe(8);
    db.close();
  });

  it('refuses a database from a newer mailops', () => {
    const home = mkdtempSync(join(tmpdir(), 'mailops-store-'));
    const db = openDatabase(home);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => openDatabase(home)).toThrow(/newer mailops/);
  });

  it('keeps accounts in priority order, one default, and folders cascade away with the account', () => {
    const db = openDatabase(mkdtempSync(join(tmpdir(), 'mailops-store-')));
    const accounts = new AccountRepository(db);
    accounts.save(config('b', { priority: 5 }), true);
    accounts.save(config('a', { priority: 1 }), false);
    expect(accounts.list().map((a) => a.config.name)).toEqual(['a', 'b']);
    expect(accounts.getDefault()?.config.name).toBe('b');
    accounts.save(config('a', { priority: 1 }), true);
    expect(accounts.getDefault()?.config.name).toBe('a');
    expect(accounts.get('b')?.config.isDefault).toBe(false);

    accounts.recordCheck('a', 'needs_reauth', 'bad password');
    expect(accounts.get('a')?.state).toMatchObject({ state: 'needs_reauth', lastError: 'bad password' });
    // A repair clears the error.
    accounts.save(config('a', { priority: 1 }), false);
    expect(accounts.get('a')?.state).toMatchObject({ state: 'active', lastError: null });

    const folders = new FolderRepository(db);
    folders.replace('a', [{ id: 'INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox', unreadCount: 1, totalCount: 2, selectable: true }]);
    expect(folders.list('a').folders).toHaveLength(1);
    expect(accounts.delete('a')).toBe(true);
    expect(folders.list('a').folders).toEqual([]);
    expect(accounts.delete('a')).toBe(false);
  });

  it('resolves MAILOPS_HOME, else XDG_DATA_HOME/mailops', () => {
    expect(resolveHome({ MAILOPS_HOME: '/srv/m' })).toBe('/srv/m');
    expect(resolveHome({ XDG_DATA_HOME: '/data' })).toBe('/data/mailops');
  });
});
