// The feed applier (core/sync/apply.ts) over scripted feeds in the neutral vocabulary: the way a
// Gmail-like backend (one account scope, labels as folders) and an IMAP-like one (a scope per
// folder) change the cache, and what is committed when a feed dies half-way.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { FolderRepository } from '../../src/store/folders.js';
import { MessageCache } from '../../src/store/cache.js';
import { CacheQuery } from '../../src/store/cache-query.js';
import { FeedApplier, type FolderReport } from '../../src/core/sync/apply.js';
import type { WalCheckpointer } from '../../src/core/sync/wal-checkpointer.js';
import { ACCOUNT_SCOPE, type MessageUpsert, type SyncEvent } from '../../src/domain/sync.js';
import type { AccountConfig, Folder, MessageFlags } from '../../src/domain/types.js';

const NO_FLAGS: MessageFlags = { seen: false, flagged: false, answered: false, draft: false, keywords: [] };

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'mailops-apply-'));
  const db = openDatabase(home);
  const config: AccountConfig = {
    name: 'g', provider: 'gmail', backend: 'gmail', email: 'g@x.org', user: 'g@x.org', imap: null, smtp: null,
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: false, createdAt: new Date().toISOString(),
  };
  new AccountRepository(db).save(config, true);
  const reports: FolderReport[] = [];
  const applier = new FeedApplier('g', new MessageCache(db), new FolderRepository(db), { folder: (r) => reports.push(r), messages: () => {} });
  return { db, home, applier, reports, cache: new MessageCache(db) };
}

/** What another process sees: a connection of its own, so only what is committed. */
function committed(home: string) {
  const db = openDatabase(home);
  const cache = new MessageCache(db);
  return { tokens: cache.syncState('g'), listed: (folders: string[]) => listed(db, folders), close: () => db.close() };
}

async function run(applier: FeedApplier, feed: Iterable<SyncEvent> | AsyncIterable<SyncEvent>): Promise<void> {
  for await (const event of feed) await applier.apply(event);
}

function folder(id: string, path = id): Folder {
  return { id, path, name: path, delimiter: '/', role: null, unreadCount: null, totalCount: null, selectable: true };
}

function upsert(id: string, folders: Array<[string, number | null]>, subject = `subject ${id}`): MessageUpsert {
  return {
    message: {
      id, messageId: `<${id}@x>`, subject, from: null, to: [], cc: [], bcc: [], replyTo: [], inReplyTo: null, references: [],
      date: new Date('2026-01-01T00:00:00Z'), internalDate: new Date('2026-01-01T00:00:00Z'), size: 10, flags: NO_FLAGS,
      hasAttachments: false, raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody of ${id}\r\n`), bodyText: `body of ${id}`,
    },
    folders: folders.map(([f, uid]) => ({ folder: f, uid })),
  };
}

const count = (db: Database, table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
const listed = (db: Database, folders: string[] | null) =>
  new CacheQuery(db).page('g', folders, null, { limit: 50, page: 1 }).items.map((m) => `${m.id}@${m.folder}`);
const search = (db: Database, word: string) =>
  new CacheQuery(db).page('g', null, { kind: 'text', field: 'any', value: word }, { limit: 50, page: 1 }).items.map((m) => m.id);

const LABELS = [folder('INBOX'), folder('Label_1', 'Work'), folder('Label_2', 'Travel')];

describe('FeedApplier on an account-wide feed (labels)', () => {
  it('stores a message in two folders once: one row, one body, one index entry, listed in each folder', async () => {
    const { db, applier, cache } = setup();
    await run(applier, [
      { kind: 'folders', folders: LABELS },
      { kind: 'reset', scope: ACCOUNT_SCOPE, reason: 'new', checkpoint: 'h0' },
      { kind: 'upsert', scope: ACCOUNT_SCOPE, messages: [upsert('m1', [['INBOX', null], ['Label_1', null]]), upsert('m2', [['INBOX', null]])], bytes: 99, checkpoint: 'h1' },
      { kind: 'checkpoint', scope: ACCOUNT_SCOPE, token: 'h1', complete: true },
    ]);
    expect([count(db, 'messages'), count(db, 'message_bodies'), count(db, 'memberships')]).toEqual([2, 2, 3]);
    expect(listed(db, ['Label_1'])).toEqual(['m1@Label_1']);
    expect(listed(db, ['INBOX']).sort()).toEqual(['m1@INBOX', 'm2@INBOX']);
    // The whole account lists each message once, in the first of its folders.
    expect(listed(db, null).sort()).toEqual(['m1@INBOX', 'm2@INBOX']);
    expect(search(db, 'm1')).toEqual(['m1']);
    expect(cache.memberships('g', 'm1')).toEqual([{ folder: 'INBOX', uid: null }, { folder: 'Label_1', uid: null }]);
    expect(cache.syncState('g')).toEqual(new Map([['', 'h1']]));
    expect(applier.counts).toMatchObject({ new: 2, bytes: 99, folders: 1 });
    // Every listed folder counts as cached under an account-wide feed.
    expect(new CacheQuery(db).folders('g').map((f) => f.path)).toEqual(['INBOX', 'Travel', 'Work']);
  });

  it('a label change is a membership change: the row, body and index entry stay; the last label gone, the message goes', async () => {
    const { db, applier, cache } = setup();
    await run(applier, [
      { kind: 'folders', folders: LABELS },
      { kind: 'reset', scope: '', reason: 'new', checkpoint: 'h0' },
      { kind: 'upsert', scope: '', messages: [upsert('m1', [['INBOX', null]])], bytes: 10, checkpoint: 'h1' },
    ]);
    const rowid = db.prepare("SELECT id FROM messages WHERE ref = 'm1'").pluck().get();
    // Moved from INBOX to Travel in one change: added first, so it is never without a folder.
    await run(applier, [{ kind: 'membership', scope: '', changes: [{ id: 'm1', added: [{ folder: 'Label_2', uid: null }], removed: ['INBOX'] }], checkpoint: 'h2' }]);
    expect(db.prepare("SELECT id FROM messages WHERE ref = 'm1'").pluck().get()).toBe(rowid);
    expect(cache.get('g', 'm1')?.raw?.toString()).toContain('body of m1');
    expect(listed(db, ['INBOX'])).toEqual([]);
    expect(listed(db, ['Label_2'])).toEqual(['m1@Label_2']);
    expect(search(db, 'm1')).toEqual(['m1']);
    expect(applier.counts.updated).toBe(1);
    // An unknown id changes nothing.
    await run(applier, [{ kind: 'membership', scope: '', changes: [{ id: 'nope', added: [{ folder: 'INBOX', uid: null }], removed: [] }] }]);
    expect(count(db, 'messages')).toBe(1);
    await run(applier, [{ kind: 'membership', scope: '', changes: [{ id: 'm1', added: [], removed: ['Label_2'] }], checkpoint: 'h3' }]);
    expect([count(db, 'messages'), count(db, 'message_bodies'), count(db, 'memberships')]).toEqual([0, 0, 0]);
    expect(search(db, 'm1')).toEqual([]);
    expect(cache.syncState('g').get('')).toBe('h3');
  });

  it('gone deletes a message from every folder; flags change in place; present in the account scope removes the unlisted', async () => {
    const { db, applier, cache } = setup();
    await run(applier, [
      { kind: 'folders', folders: LABELS },
      { kind: 'reset', scope: '', reason: 'new', checkpoint: 'h0' },
      { kind: 'upsert', scope: '', messages: ['a', 'b', 'c', 'd'].map((id) => upsert(id, [['INBOX', null], ['Label_1', null]])), bytes: 40, checkpoint: 'h1' },
      { kind: 'gone', scope: '', ids: ['a', 'zz'], checkpoint: 'h2' },
      { kind: 'flags', scope: '', updates: [{ id: 'b', flags: { ...NO_FLAGS, seen: true, keywords: ['IMPORTANT'] } }], checkpoint: 'h3' },
      // A full resync reconciled by id: d was deleted while the history had expired.
      { kind: 'present', scope: '', ids: ['b', 'c'], upTo: null, checkpoint: 'h4' },
      // In no folder at all: not kept, so every cached message is listed somewhere.
      { kind: 'upsert', scope: '', messages: [upsert('c', [])], bytes: 1 },
    ]);
    expect(listed(db, ['Label_1']).sort()).toEqual(['b@Label_1']);
    expect(cache.get('g', 'b')?.flags).toEqual({ ...NO_FLAGS, seen: true, keywords: ['IMPORTANT'] });
    expect(new CacheQuery(db).page('g', ['INBOX'], { kind: 'flag', flag: 'read' }, { limit: 9, page: 1 }).items.map((m) => m.id)).toEqual(['b']);
    expect(applier.counts).toMatchObject({ new: 4, deleted: 2, updated: 1 });
    expect(count(db, 'message_bodies')).toBe(1);
    expect(new CacheQuery(db).page('g', null, null, { limit: 9, page: 1 }).total).toBe(1);
    expect(cache.syncState('g').get('')).toBe('h4');
  });

  it('a folder gone from the list drops its memberships only', async () => {
    const { db, applier } = setup();
    await run(applier, [
      { kind: 'folders', folders: LABELS },
      { kind: 'reset', scope: '', reason: 'new', checkpoint: 'h0' },
      { kind: 'upsert', scope: '', messages: [upsert('a', [['INBOX', null], ['Label_2', null]]), upsert('b', [['Label_2', null]])], bytes: 1, checkpoint: 'h1' },
      { kind: 'folders', folders: LABELS.slice(0, 2) },
    ]);
    expect(listed(db, null)).toEqual(['a@INBOX']);
    expect(count(db, 'memberships')).toBe(1);
  });
});

describe('FeedApplier on per-folder scopes (IMAP-like)', () => {
  it('a reset of one scope leaves the other scopes and their messages alone', async () => {
    const { db, applier, cache } = setup();
    await run(applier, [
      { kind: 'folders', folders: [folder('A'), folder('B')] },
      { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 'a0' },
      { kind: 'upsert', scope: 'A', messages: [upsert('a1', [['A', 1]]), upsert('both', [['A', 2]])], bytes: 2, checkpoint: 'a2' },
      { kind: 'checkpoint', scope: 'A', token: 'a-done', complete: true },
      { kind: 'reset', scope: 'B', reason: 'new', checkpoint: 'b0' },
      // The same message seen from B: its membership is added, the message stays one row.
      { kind: 'upsert', scope: 'B', messages: [upsert('b1', [['B', 3]]), upsert('both', [['B', 7]])], bytes: 1, checkpoint: 'b7' },
      { kind: 'checkpoint', scope: 'B', token: 'b-done', complete: true },
      // A's UIDVALIDITY changed.
      { kind: 'reset', scope: 'A', reason: 'invalidated', checkpoint: 'a-new' },
    ]);
    expect(listed(db, ['A'])).toEqual([]);
    expect(listed(db, ['B'])).toEqual(['both@B', 'b1@B']);
    expect(count(db, 'messages')).toBe(2);
    expect(cache.get('g', 'a1')).toBeNull();
    expect(cache.syncState('g')).toEqual(new Map([['A', 'a-new'], ['B', 'b-done']]));
    expect(new CacheQuery(db).folders('g').map((f) => f.id)).toEqual(['A', 'B']);
  });

  it('present in a folder: unlisted messages up to the bound leave it, newer ones stay', async () => {
    const { db, applier } = setup();
    await run(applier, [
      { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 'a0' },
      { kind: 'upsert', scope: 'A', messages: [1, 2, 3, 4].map((uid) => upsert(`A.${uid}`, [['A', uid]])), bytes: 4, checkpoint: 'a4' },
      { kind: 'present', scope: 'A', ids: ['A.1', 'A.3'], upTo: 3 },
    ]);
    expect(listed(db, ['A'])).toEqual(['A.4@A', 'A.3@A', 'A.1@A']);
    expect(applier.counts.deleted).toBe(1);
  });

  it('a failed scope is reported and the others go on', async () => {
    const { applier, reports } = setup();
    await run(applier, [
      { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 'a0' },
      { kind: 'failed', scope: 'A', error: 'Permission denied' },
      { kind: 'unchanged', scope: 'B' },
    ]);
    expect(applier.failedFolders).toEqual(['A: Permission denied']);
    expect(reports.map((r) => `${r.folder} ${r.status}`)).toEqual(['A failed', 'B unchanged']);
  });
});

describe('FeedApplier: a checkpoint is never committed without its changes', () => {
  it('a feed dying between events keeps every batch stored and the token of the last one, once drained as the engine does', async () => {
    const { home, applier, cache } = setup();
    async function* dying(): AsyncGenerator<SyncEvent> {
      yield { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 't0' };
      yield { kind: 'upsert', scope: 'A', messages: [upsert('A.1', [['A', 1]]), upsert('A.2', [['A', 2]])], bytes: 2, checkpoint: 't2' };
      throw new Error('connection reset');
    }
    await expect(run(applier, dying())).rejects.toThrow('connection reset');
    await applier.drain();
    const other = committed(home);
    expect(other.tokens.get('A')).toBe('t2');
    expect(other.listed(['A'])).toEqual(['A.2@A', 'A.1@A']);
    expect(cache.syncedAt('g')).toBeNull();
    other.close();
  });

  it('a batch that fails to apply takes its token down with it, and the open group with them', async () => {
    const { db, home, applier, cache } = setup();
    await run(applier, [
      { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 't0' },
      { kind: 'upsert', scope: 'A', messages: [upsert('A.1', [['A', 1]])], bytes: 1, checkpoint: 't1' },
      // Another event commits the group with A.1 and t1.
      { kind: 'flags', scope: 'A', updates: [] },
      { kind: 'upsert', scope: 'A', messages: [upsert('A.2', [['A', 2]])], bytes: 1, checkpoint: 't2' },
    ]);
    // The second message claims a UID another message holds in the folder: the store refuses it
    // half-way through the batch, and neither the first message nor the token may be kept.
    const bad: SyncEvent = { kind: 'upsert', scope: 'A', messages: [upsert('A.3', [['A', 3]]), upsert('A.4', [['A', 1]])], bytes: 2, checkpoint: 't4' };
    await expect(applier.apply(bad)).rejects.toThrow(/UNIQUE/);
    // A.2 was in the same open group: it goes with it, t2 too, as a killed sync would lose them;
    // what was committed before the group stays.
    const other = committed(home);
    for (const view of [{ tokens: cache.syncState('g'), listed: (f: string[]) => listed(db, f) }, other]) {
      expect(view.tokens.get('A')).toBe('t1');
      expect(view.listed(['A'])).toEqual(['A.1@A']);
    }
    other.close();
    expect(cache.get('g', 'A.2')).toBeNull();
    expect(cache.get('g', 'A.3')).toBeNull();
    // Nothing of the group was counted (counts follow the commit).
    expect(applier.counts.new).toBe(1);
    // And the applier goes on: the next batch opens a new group.
    await run(applier, [{ kind: 'upsert', scope: 'A', messages: [upsert('A.2', [['A', 2]])], bytes: 1, checkpoint: 't2' }]);
    await applier.drain();
    const after = committed(home);
    expect(after.tokens.get('A')).toBe('t2');
    expect(after.listed(['A'])).toEqual(['A.2@A', 'A.1@A']);
    after.close();
  });
});

describe('FeedApplier: new mail stored as it comes, committed in groups', () => {
  const reset: SyncEvent = { kind: 'reset', scope: 'A', reason: 'new', checkpoint: 't0' };
  const batch = (n: number, bytes = 10): SyncEvent => ({ kind: 'upsert', scope: 'A', messages: [upsert(`A.${n}`, [['A', n]])], bytes, checkpoint: `t${n}` });

  it('batches share one transaction: another connection sees none of them, nor their tokens, until another event commits them; counts follow the commit', async () => {
    const { home, applier } = setup();
    await run(applier, [reset, batch(1), batch(2)]);
    let other = committed(home);
    expect(other.tokens.get('A')).toBe('t0');
    expect(other.listed(['A'])).toEqual([]);
    expect(applier.counts.new).toBe(0);
    other.close();

    await applier.apply({ kind: 'checkpoint', scope: 'A', token: 't2', complete: true });
    other = committed(home);
    expect(other.tokens.get('A')).toBe('t2');
    expect(other.listed(['A'])).toEqual(['A.2@A', 'A.1@A']);
    expect(applier.counts).toMatchObject({ new: 2, bytes: 20 });
    other.close();
  });

  it('a group commits once it holds a megabyte, and a while after it began when the feed goes quiet', async () => {
    const { home, applier } = setup();
    await run(applier, [reset, batch(1, 600_000), batch(2, 600_000)]);
    let other = committed(home);
    expect(other.listed(['A'])).toEqual(['A.2@A', 'A.1@A']);
    other.close();

    // A server pausing mid-stream: the write lock is not held meanwhile.
    await applier.apply(batch(3));
    other = committed(home);
    expect(other.tokens.get('A')).toBe('t2');
    other.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    other = committed(home);
    expect(other.tokens.get('A')).toBe('t3');
    expect(other.listed(['A'])).toEqual(['A.3@A', 'A.2@A', 'A.1@A']);
    expect(applier.counts.new).toBe(3);
    other.close();
  });

  it('a sync killed with a group open loses the group and its tokens together, never one without the other', async () => {
    const { db, home, applier } = setup();
    await run(applier, [reset, batch(1), batch(2)]);
    // What kill -9 leaves: the connection gone without a commit.
    db.close();
    const other = committed(home);
    expect(other.tokens.get('A')).toBe('t0');
    expect(other.listed(['A'])).toEqual([]);
    other.close();
  });
});

describe('FeedApplier: the WAL checkpointer, once the plans add up', () => {
  it('is asked with the sum of the plans so far, started once, told of the commits, and closed with the applier', async () => {
    const { db } = setup();
    const asked: number[] = [];
    const used = { committed: 0, closed: 0 };
    const checkpointer = {
      behind: false,
      committed: () => void used.committed++,
      caughtUp: async () => undefined,
      close: async () => void used.closed++,
    } as unknown as WalCheckpointer;
    const applier = new FeedApplier('g', new MessageCache(db), new FolderRepository(db), { folder: () => {}, messages: () => {} }, {
      checkpointerFor: (messages) => {
        asked.push(messages);
        return messages >= 20_000 ? Promise.resolve(checkpointer) : null;
      },
    });
    const plan = (scope: string, messages: number): SyncEvent => ({ kind: 'plan', scope, messages });
    // Folders of 8,000 each: declined at 8,000 and 16,000, started at 24,000, then not asked again.
    await run(applier, [plan('A', 8000), plan('B', 8000)]);
    expect(used.committed).toBe(0);
    await run(applier, [{ kind: 'reset', scope: 'C', reason: 'new', checkpoint: 't0' }, plan('C', 8000), plan('D', 8000)]);
    expect(asked).toEqual([8000, 16000, 24000]);

    const before = used.committed;
    await run(applier, [{ kind: 'upsert', scope: 'C', messages: [upsert('C.1', [['C', 1]])], bytes: 10, checkpoint: 't1' }]);
    expect(used.committed).toBe(before);
    // The group's commit tells it.
    await applier.drain();
    expect(used.committed).toBe(before + 1);
    await applier.close();
    expect(used.closed).toBe(1);
  });
});
