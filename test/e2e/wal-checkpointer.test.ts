// The sync's WAL checkpointer (src/core/sync/wal-checkpointer.ts), built (dist/: its worker is a
// file of its own): commits copied on the worker's connection while the sync's connection does not
// checkpoint, the WAL kept within its bound by starting it over, and a worker that cannot open the
// database leaving the connection to checkpoint as SQLite does by default.
import { renameSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageUpsert } from '../../src/domain/sync.js';
import { openDatabase, type Database } from '../../src/store/db.js';
import { MessageCache } from '../../src/store/cache.js';
import { seedPasswordAccount } from '../support/api-account.js';
import { makeHome } from '../support/cli.js';
import { PASSPHRASE } from './helpers.js';

const { WalCheckpointer } = (await import(new URL('../../dist/core/sync/wal-checkpointer.js', import.meta.url).href)) as typeof import('../../src/core/sync/wal-checkpointer.js');

const PAGE = 16384;
/** A WAL frame: its page and a 24-byte header. */
const FRAME = PAGE + 24;

function batch(from: number, count: number): MessageUpsert[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    // About 64 KB each: four overflow pages, so each group writes a few dozen frames.
    const body = `body words ${n} `.repeat(4000);
    return {
      message: {
        id: `m${n}`, messageId: `<m${n}@x>`, subject: `subject ${n}`, from: null, to: [], cc: [], bcc: [], replyTo: [],
        inReplyTo: null, references: [], date: new Date(Date.UTC(2026, 0, 1, 0, n)), internalDate: null, size: body.length,
        flags: { seen: false, flagged: false, answered: false, draft: false, keywords: [] }, hasAttachments: false,
        raw: Buffer.from(`Subject: subject ${n}\r\n\r\n${body}\r\n`), bodyText: body.slice(0, 1000),
      },
      folders: [{ folder: 'INBOX', uid: n + 1 }],
    };
  });
}

async function home(): Promise<string> {
  const dir = makeHome();
  await seedPasswordAccount(dir, { email: 'a@example.org', imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' }, password: 'x', passphrase: PASSPHRASE });
  return dir;
}

const walSize = (db: Database) => (existsSync(`${db.name}-wal`) ? statSync(`${db.name}-wal`).size : 0);

let open: Database[] = [];
afterEach(() => {
  for (const db of open) if (db.open) db.close();
  open = [];
});

describe('the WAL checkpointer', () => {
  it('checkpoints on its own thread, and keeps the WAL within its bound by starting it over', async () => {
    const db = openDatabase(await home());
    open.push(db);
    const cache = new MessageCache(db);
    const checkpointer = await WalCheckpointer.start(db, { maxFrames: 32, maxCommitsAhead: 2 });
    expect(checkpointer).not.toBeNull();
    // The sync's connection no longer checkpoints: the worker does.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);

    // As apply.ts stores new mail: groups committed one after another, waiting only when behind.
    let largest = 0;
    let waits = 0;
    const groups = 40;
    for (let g = 0; g < groups; g++) {
      if (checkpointer!.behind) {
        waits++;
        await checkpointer!.caughtUp();
      }
      cache.beginOpen();
      cache.upsert('main', batch(g * 4, 4), { scope: 'INBOX', token: `t${g}` });
      cache.commitOpen();
      checkpointer!.committed();
      largest = Math.max(largest, walSize(db));
      // The worker's answers arrive between groups, as they do between a sync's batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await checkpointer!.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);

    // 40 groups of about 30 frames each make a WAL of over 1,000 frames when it is never started
    // over (the next test); here it stays within its 32 frames and the few groups committed
    // while the worker copied the ones before (at most 3 past the bound of 2).
    expect(waits).toBeGreaterThan(0);
    expect(largest).toBeGreaterThan(32 * FRAME);
    expect(largest).toBeLessThan(160 * FRAME);
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(groups * 4);
    expect(new MessageCache(db).syncState('main').get('INBOX')).toBe(`t${groups - 1}`);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('without it the same writes make the WAL grow with them (what the bound above is measured against)', async () => {
    const db = openDatabase(await home());
    open.push(db);
    db.pragma('wal_autocheckpoint = 0');
    const cache = new MessageCache(db);
    for (let g = 0; g < 40; g++) {
      cache.beginOpen();
      cache.upsert('main', batch(g * 4, 4), { scope: 'INBOX', token: `t${g}` });
      cache.commitOpen();
    }
    expect(walSize(db)).toBeGreaterThan(1000 * FRAME);
  });

  it('a worker that cannot open the database leaves the connection checkpointing, and never hangs the sync', async () => {
    const dir = await home();
    const db = openDatabase(dir);
    open.push(db);
    // The open connection keeps its file; the worker finds nothing at the path.
    renameSync(join(dir, 'mailops.db'), join(dir, 'moved.db'));
    const checkpointer = await WalCheckpointer.start(db, { maxFrames: 32, maxCommitsAhead: 2 });
    if (checkpointer) {
      checkpointer.committed();
      await checkpointer.caughtUp();
      await vi.waitFor(() => expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000));
      expect(checkpointer.behind).toBe(false);
      await checkpointer.close();
    }
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    // And the connection still writes.
    const cache = new MessageCache(db);
    cache.beginOpen();
    cache.upsert('main', batch(0, 2), { scope: 'INBOX', token: 't0' });
    cache.commitOpen();
    expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(2);
  });
});
