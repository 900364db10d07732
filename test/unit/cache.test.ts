import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { MessageCache, type CachedMessage } from '../../src/store/cache.js';
import type { MessageUpsert } from '../../src/domain/sync.js';
import { SyncLocks } from '../../src/store/sync-lock.js';
import type { AccountConfig, MessageFlags } from '../../src/domain/types.js';

function setup() {
  const db = openDatabase(mkdtempSync(join(tmpdir(), 'mailops-cache-')));
  const config: AccountConfig = {
    name: 'a', provider: 'imap', backend: 'imap', email: 'a@x.org', user: 'a@x.org',
    imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' },
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: false, createdAt: new Date().toISOString(),
  };
  new AccountRepository(db).save(config, true);
  return { db, cache: new MessageCache(db) };
}

const NO_FLAGS: MessageFlags = { seen: false, flagged: false, answered: false, draft: false, keywords: [] };
const id = (uid: number) => `INBOX.4294967295.${uid}`;

function message(uid: number, extra: Partial<CachedMessage> = {}): MessageUpsert {
  return {
    message: {
      id: id(uid), messageId: `<${uid}@x>`, subject: `subject ${uid}`, from: { name: 'Al', address: 'al@x.org' },
      to: [], cc: [], bcc: [], replyTo: [], inReplyTo: null, references: [], date: new Date('2025-01-09T10:30:00Z'), internalDate: null,
      size: 100, flags: NO_FLAGS, hasAttachments: false, raw: Buffer.from('raw'), bodyText: `body word${uid}`, ...extra,
    },
    folders: [{ folder: 'INBOX', uid }],
  };
}

const at = (token?: string) => ({ scope: 'INBOX', token });
const ftsCount = (db: ReturnType<typeof setup>['db'], term: string) => db.prepare('SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?').pluck().get(term);

describe('MessageCache', () => {
  it('keeps bodies beside the envelope rows: stored, replaced, dropped with their message', () => {
    const { db, cache } = setup();
    const bodies = () => db.prepare('SELECT count(*) FROM message_bodies').pluck().get();
    cache.reset('a', 'INBOX', 't0');
    cache.upsert('a', [message(1), message(2, { raw: null, bodyText: null })], at('t2'));
    expect(bodies()).toBe(1);
    expect(cache.get('a', id(1))).toMatchObject({ raw: Buffer.from('raw'), bodyText: 'body word1' });
    expect(cache.get('a', id(2))).toMatchObject({ raw: null, bodyText: null });
    // Stored again without a body (now over the size limit): the old body goes.
    cache.upsert('a', [message(1, { raw: null, bodyText: 'text only' })], at());
    expect(cache.get('a', id(1))).toMatchObject({ raw: null, bodyText: 'text only' });
    cache.upsert('a', [message(1, { raw: null, bodyText: null })], at());
    expect(bodies()).toBe(0);
    cache.upsert('a', [message(3)], at('t3'));
    cache.setFlags('a', [{ id: id(3), flags: { ...NO_FLAGS, flagged: true } }], at());
    expect(cache.get('a', id(3))).toMatchObject({ flags: { ...NO_FLAGS, flagged: true }, raw: Buffer.from('raw') });
    cache.remove('a', [id(3)], at());
    expect(bodies()).toBe(0);
  });

  it('stores a batch with its token; storing it again duplicates nothing; tokens stay exact', () => {
    const { db, cache } = setup();
    cache.reset('a', 'INBOX', '{"m":"18446744073709551615","l":0}');
    cache.upsert('a', [message(1), message(2)], at('{"m":"18446744073709551615","l":2}'));
    cache.upsert('a', [message(1), message(2, { subject: 'changed' })], at('{"m":"18446744073709551615","l":2}'));
    expect(cache.folderMessages('a', 'INBOX').map((m) => m.uid)).toEqual([1, 2]);
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(2);
    expect(cache.get('a', id(2))?.subject).toBe('changed');
    expect(cache.syncState('a')).toEqual(new Map([['INBOX', '{"m":"18446744073709551615","l":2}']]));
    expect(ftsCount(db, 'word1')).toBe(1);
    expect(ftsCount(db, 'changed')).toBe(1);
    expect(ftsCount(db, '"subject 2"')).toBe(0);
  });

  it('flags and expunges apply and say what changed; index entries go with their messages; a reset empties the scope', () => {
    const { db, cache } = setup();
    cache.reset('a', 'INBOX', 't0');
    cache.upsert('a', [message(5), message(3)], at('t5'));
    const seen = { ...NO_FLAGS, seen: true, keywords: ['$Forwarded'] };
    expect(cache.setFlags('a', [{ id: id(5), flags: seen }, { id: id(99), flags: NO_FLAGS }], at())).toBe(1);
    // The same flags again change nothing.
    expect(cache.setFlags('a', [{ id: id(5), flags: seen }], at())).toBe(0);
    expect(cache.get('a', id(5))?.flags).toEqual(seen);
    expect(cache.remove('a', [id(3), id(42)], at())).toBe(1);
    expect(ftsCount(db, 'word3')).toBe(0);
    expect(cache.reset('a', 'INBOX', 't-new')).toBe(1);
    expect(cache.folderMessages('a', 'INBOX')).toEqual([]);
    expect(ftsCount(db, 'word5')).toBe(0);
    expect(cache.syncState('a').get('INBOX')).toBe('t-new');
    expect(cache.syncedAt('a')).toBeNull();
    cache.checkpoint('a', 'INBOX', 't-done', true);
    expect(cache.syncedAt('a')).not.toBeNull();
  });

  it('removing the account removes its cache, its state and its index entries', () => {
    const { db, cache } = setup();
    cache.reset('a', 'INBOX', 't0');
    cache.upsert('a', [message(1)], at('t1'));
    new AccountRepository(db).delete('a');
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM memberships').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM sync_state').pluck().get()).toBe(0);
    expect(ftsCount(db, 'word1')).toBe(0);
  });
});

describe('SyncLocks', () => {
  it('one holder at a time; a dead holder on this host is taken over; release frees it', () => {
    const { db } = setup();
    const locks = new SyncLocks(db);
    const first = locks.acquire('a');
    if (!('lease' in first)) throw new Error('expected the lease');
    const second = locks.acquire('a');
    expect(second).toMatchObject({ holder: { pid: process.pid } });
    first.lease.release();
    const third = locks.acquire('a');
    if (!('lease' in third)) throw new Error('expected the lease after release');
    // A holder whose process is gone (pid 2^22 + 1 is never a live pid here) is taken over.
    db.prepare('UPDATE sync_locks SET pid = ? WHERE account = ?').run(4194305, 'a');
    expect('lease' in locks.acquire('a')).toBe(true);
    // An expired lease is taken over even from a live process.
    db.prepare('UPDATE sync_locks SET pid = ?, expires_at = ? WHERE account = ?').run(process.pid, '2000-01-01T00:00:00Z', 'a');
    expect('lease' in locks.acquire('a')).toBe(true);
  });

  it('renewing writes at most every few seconds, and tells when the lease was taken over', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), toFake: ['Date'] });
    try {
      const { db } = setup();
      const acquired = new SyncLocks(db).acquire('a');
      if (!('lease' in acquired)) throw new Error('expected the lease');
      const expiry = () => db.prepare("SELECT expires_at FROM sync_locks WHERE account = 'a'").pluck().get();
      const first = expiry();
      vi.advanceTimersByTime(1000);
      expect(acquired.lease.renew()).toBe(true);
      expect(expiry()).toBe(first);
      vi.advanceTimersByTime(10_000);
      expect(acquired.lease.renew()).toBe(true);
      expect(expiry()).toBe('2026-01-01T00:02:11.000Z');
      // Another run took it over after expiry: the next write says so.
      db.prepare("UPDATE sync_locks SET token = 'other' WHERE account = 'a'").run();
      vi.advanceTimersByTime(10_000);
      expect(acquired.lease.renew()).toBe(false);
      acquired.lease.release();
    } finally {
      vi.useRealTimers();
    }
  });
});
