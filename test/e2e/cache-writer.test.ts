// The second-thread writer of a sync (src/core/sync/cache-writer.ts), built (dist/): batches stored
// in order with their tokens, what it stores counted, and a failure of its SQLite reaching the caller
// with SQLite's code (so storage-error.ts names it) instead of being lost on the other thread.
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageUpsert } from '../../src/domain/sync.js';
import { openDatabase } from '../../src/store/db.js';
import { MessageCache } from '../../src/store/cache.js';
import { seedPasswordAccount } from '../support/api-account.js';
import { makeHome } from '../support/cli.js';
import { PASSPHRASE } from './helpers.js';

const { CacheWriter } = (await import(new URL('../../dist/core/sync/cache-writer.js', import.meta.url).href)) as typeof import('../../src/core/sync/cache-writer.js');

function batch(from: number, count: number): MessageUpsert[] {
  return Array.from({ length: count }, (_, i) => ({
    message: {
      id: `m${from + i}`, messageId: `<m${from + i}@x>`, subject: `subject ${from + i}`, from: null, to: [], cc: [], bcc: [], replyTo: [],
      inReplyTo: null, references: [], date: new Date(Date.UTC(2026, 0, 1, 0, from + i)), internalDate: null, size: 10,
      flags: { seen: false, flagged: false, answered: false, draft: false, keywords: [] }, hasAttachments: false,
      raw: Buffer.from(`Subject: subject ${from + i}\r\n\r\nbody words ${from + i}\r\n`), bodyText: `body words ${from + i}`,
    },
    folders: [{ folder: 'INBOX', uid: from + i }],
  }));
}

let writer: InstanceType<typeof CacheWriter> | null = null;
afterEach(async () => {
  await writer?.close();
  writer = null;
});

describe('the second-thread cache writer', () => {
  it('stores batches in order with their tokens and says how many each stored', async () => {
    const home = makeHome();
    await seedPasswordAccount(home, { email: 'a@example.org', imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' }, password: 'x', passphrase: PASSPHRASE });
    writer = new CacheWriter(home);
    const stored: number[] = [];
    for (let b = 0; b < 5; b++) await writer.upsert('main', batch(b * 50, 50), { scope: 'INBOX', token: `t${b}` }, (n) => stored.push(n));
    await writer.idle();
    expect(stored).toEqual([50, 50, 50, 50, 50]);
    const db = openDatabase(home);
    try {
      const cache = new MessageCache(db);
      expect(cache.syncState('main').get('INBOX')).toBe('t4');
      expect(db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(250);
      expect(Buffer.from(db.prepare("SELECT raw FROM message_bodies JOIN messages USING (id) WHERE ref = 'm7'").pluck().get() as Uint8Array).toString()).toBe('Subject: subject 7\r\n\r\nbody words 7\r\n');
    } finally {
      db.close();
    }
  });

  it("a failure on the writer's thread is thrown to the caller with SQLite's code, and nothing after it is stored", async () => {
    const home = makeHome();
    openDatabase(home).close();
    writer = new CacheWriter(home);
    // No such account: the foreign key refuses the batch.
    await writer.upsert('nobody', batch(0, 3), { scope: 'INBOX', token: 't0' }, () => undefined);
    await expect(writer.idle()).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
    await expect(writer.upsert('nobody', batch(3, 3), { scope: 'INBOX', token: 't1' }, () => undefined)).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_CONSTRAINT/) });
  });
});
