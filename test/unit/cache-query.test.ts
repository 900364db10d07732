// The offline read side: the query language compiled to SQL + FTS5 over a cache filled the way
// sync fills it (MessageCache.storeBatch), and the offline list/read use cases on top.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { AccountRepository } from '../../src/store/accounts.js';
import { FolderRepository } from '../../src/store/folders.js';
import { MessageCache } from '../../src/store/cache.js';
import { CacheQuery, compileCacheQuery, ftsPhrase } from '../../src/store/cache-query.js';
import { explainOffline, foldersOffline, listOffline, readOffline } from '../../src/core/offline.js';
import { parseQuery } from '../../src/core/query/index.js';
import { encodeMessageId, imapIds } from '../../src/providers/imap/ids.js';
import { flagsFromImap } from '../../src/providers/imap/flags.js';
import { FolderResolver } from '../../src/core/folder-resolver.js';
import type { QueryNode } from '../../src/domain/query.js';
import type { AccountConfig } from '../../src/domain/types.js';
import type { CachedMessage, MessageUpsert } from '../../src/domain/sync.js';
import { isMailopsError } from '../../src/domain/errors.js';

const UIDVALIDITY = '1795245819';
const originalTz = process.env.TZ;

function config(name: string): AccountConfig {
  return {
    name, provider: 'imap', backend: 'imap', email: `${name}@x.org`, user: `${name}@x.org`,
    imap: { host: 'h', port: 993, tls: 'implicit' }, smtp: { host: 'h', port: 465, tls: 'implicit' },
    insecure: false, caFile: null, secretStore: 'file', passwordCommand: null, priority: 0, isDefault: false,
    createdAt: new Date().toISOString(),
  };
}

/** A message as the IMAP feed delivers it: its id, and its folder and UID as the membership. */
function message(uid: number, fields: Omit<Partial<CachedMessage>, 'flags'> & { folder?: string; flags?: string[] }): MessageUpsert {
  const { folder = 'INBOX', flags = [], ...rest } = fields;
  return {
    message: {
      id: encodeMessageId({ folder, uidValidity: UIDVALIDITY, uid }), messageId: `<m${uid}@example.org>`, subject: '',
      from: null, to: [], cc: [], bcc: [], replyTo: [], inReplyTo: null, references: [],
      date: null, internalDate: null, size: 100, flags: flagsFromImap(flags), hasAttachments: false,
      raw: null, bodyText: null,
      ...rest,
    },
    folders: [{ folder, uid }],
  };
}

const day = (iso: string) => new Date(iso);

const INBOX: MessageUpsert[] = [
  message(1, {
    subject: 'Quarterly report', from: { name: 'Alice Example', address: 'alice@example.org' }, to: [{ name: '', address: 'bob@example.org' }],
    bodyText: 'Numbers for the quarter.', flags: ['\\Seen'], hasAttachments: true, size: 5000, messageId: '<q1@example.org>',
    date: day('2025-01-05T10:00:00Z'), internalDate: day('2025-01-05T10:00:00Z'),
    raw: Buffer.from('From: Alice Example <alice@example.org>\r\nSubject: Quarterly report\r\n\r\nNumbers for the quarter.\r\n'),
  }),
  message(2, {
    subject: 'Lunch?', from: { name: 'Bob Builder', address: 'bob@builder.test' }, to: [{ name: '', address: 'alice@example.org' }],
    cc: [{ name: 'Carol', address: 'carol@example.org' }], bodyText: 'Shall we go for lunch near the station?', size: 800,
    messageId: '<lunch@builder.test>', date: day('2025-01-06T23:30:00Z'), internalDate: day('2025-01-06T23:30:00Z'),
  }),
  message(3, {
    subject: 'Café Über alles', bcc: [{ name: 'Dave', address: 'dave@secret.test' }],
    bodyText: 'naïve résumé with a "quoted" word, C++ at 10:30 by e-mail', flags: ['\\Flagged', '\\Answered'], size: 120_000,
    messageId: null, date: null, internalDate: day('2025-01-09T08:00:00Z'),
  }),
  message(4, {
    subject: 'misreport: NEAR miss', from: { name: '', address: 'carol@example.org' }, bodyText: '-minus *star* NEAR(a b) col:on',
    flags: ['\\Seen', '\\Flagged'], size: 2048, date: day('2024-12-31T12:00:00Z'), internalDate: day('2025-01-10T00:00:00Z'),
  }),
  message(5, {
    subject: '!!! alert !!!', from: { name: 'Monitor', address: 'monitor@ops.test' }, bodyText: 'disk full', size: 1024,
    date: day('2025-01-11T09:00:00Z'), internalDate: day('2025-01-11T09:00:00Z'),
  }),
];

const ARCHIVE: MessageUpsert[] = [
  message(7, {
    folder: 'Archive', subject: 'Old report', from: { name: 'Alice Example', address: 'alice@example.org' }, bodyText: 'last year',
    date: day('2024-06-01T10:00:00Z'), internalDate: day('2024-06-01T10:00:00Z'), flags: ['\\Seen'],
  }),
];

let db: Database;

beforeAll(() => {
  process.env.TZ = 'UTC';
  db = openDatabase(mkdtempSync(join(tmpdir(), 'mailops-cache-query-')));
  const accounts = new AccountRepository(db);
  accounts.save(config('main'), true);
  accounts.save(config('fresh'), false);
  const cache = new MessageCache(db);
  cache.reset('main', 'INBOX', 'inbox-token');
  cache.upsert('main', INBOX, { scope: 'INBOX', token: 'inbox-token-5' });
  cache.reset('main', 'Archive', 'archive-token');
  cache.upsert('main', ARCHIVE, { scope: 'Archive', token: 'archive-token-7' });
});

afterEach(() => {
  process.env.TZ = 'UTC';
});

afterAll(() => {
  db.close();
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

/** UIDs in INBOX that a query matches, in the order the listing gives them. */
function uids(query: string | QueryNode | null, folder: string | null = 'INBOX'): Array<number | null> {
  const node = typeof query === 'string' ? parseQuery(query) : query;
  return new CacheQuery(db).page('main', folder === null ? null : [folder], node, { limit: 100, page: 1 }).items.map((m) => m.uid);
}

const text = (field: 'any' | 'body' | 'subject' | 'from', value: string): QueryNode => ({ kind: 'text', field, value });

describe('cache query: every node kind', () => {
  it('lists a folder newest first by arrival, and only that folder', () => {
    expect(uids(null)).toEqual([5, 4, 3, 2, 1]);
    expect(uids(null, 'Archive')).toEqual([7]);
  });

  it('words and phrases use the FTS index: word starts, diacritics folded, every word required', () => {
    expect(uids('report')).toEqual([1]); // "misreport" does not start with report (IMAP's substring search would find it)
    expect(uids('quart')).toEqual([1]);
    expect(uids('"quarterly rep"')).toEqual([1]);
    expect(uids('"report quarterly"')).toEqual([]); // a phrase keeps its order
    expect(uids('lunch station')).toEqual([2]);
    expect(uids('cafe')).toEqual([3]);
    expect(uids('UBER')).toEqual([3]);
    expect(uids('resume')).toEqual([3]);
    expect(uids('résumé')).toEqual([3]);
    // Addresses are in the index too: names and the parts of the address.
    expect(uids('alice')).toEqual([2, 1]);
    expect(uids('alice@example.org')).toEqual([2, 1]);
    expect(uids('dave')).toEqual([3]);
    expect(uids('nothing-like-this')).toEqual([]);
  });

  it('body: searches the body text only', () => {
    expect(uids('body:quarter')).toEqual([1]);
    expect(uids('body:report')).toEqual([]);
    expect(uids('body:"10:30"')).toEqual([3]);
  });

  it('subject: is a substring, case- and diacritic-insensitive', () => {
    expect(uids('subject:report')).toEqual([4, 1]);
    expect(uids('subject:ÜBER')).toEqual([3]);
    expect(uids('subject:uber')).toEqual([3]);
    expect(uids('subject:"!!! a"')).toEqual([5]);
  });

  it('from/to/cc/bcc match names and addresses as substrings, each in its own field', () => {
    expect(uids('from:alice')).toEqual([1]);
    expect(uids('from:"alice example"')).toEqual([1]);
    expect(uids('from:EXAMPLE.ORG')).toEqual([4, 1]);
    expect(uids('from:"Example <alice@"')).toEqual([1]);
    expect(uids('from:carol')).toEqual([4]);
    expect(uids('to:alice')).toEqual([2]);
    expect(uids('to:bob')).toEqual([1]);
    expect(uids('cc:carol')).toEqual([2]);
    expect(uids('bcc:dave')).toEqual([3]);
    expect(uids('bcc:secret.test')).toEqual([3]);
    expect(uids('cc:dave')).toEqual([]);
    expect(uids('to:nobody')).toEqual([]);
  });

  it('message-id: is exact, brackets optional, ASCII case-insensitive; messages without one never match', () => {
    expect(uids('message-id:<q1@example.org>')).toEqual([1]);
    expect(uids('message-id:q1@EXAMPLE.org')).toEqual([1]);
    expect(uids('message-id:q1@example')).toEqual([]);
    expect(uids({ kind: 'message_id', value: 'lunch@builder.test' })).toEqual([2]);
    expect(uids('-message-id:<q1@example.org>')).toEqual([5, 4, 3, 2]);
  });

  it('is: tests the stored flags', () => {
    expect(uids('is:unread')).toEqual([5, 3, 2]);
    expect(uids('is:read')).toEqual([4, 1]);
    expect(uids('is:flagged')).toEqual([4, 3]);
    expect(uids('is:unflagged')).toEqual([5, 2, 1]);
    expect(uids('is:answered')).toEqual([3]);
  });

  it('has:attachment tests the stored marker', () => {
    expect(uids('has:attachment')).toEqual([1]);
    expect(uids('-has:attachment')).toEqual([5, 4, 3, 2]);
  });

  it('since/before compare the arrival time (INTERNALDATE) with local midnight', () => {
    // UID 4 has a Date header of 2024-12-31 but arrived on 2025-01-10: the arrival counts.
    expect(uids('since:2025-01-09')).toEqual([5, 4, 3]);
    expect(uids('before:2025-01-06')).toEqual([1]);
    expect(uids('since:2025-01-06 before:2025-01-07')).toEqual([2]);
    expect(uids('before:2025-01-01')).toEqual([]);
    // UID 2 arrived 2025-01-06 23:30 UTC, which is already 7 January in Auckland (UTC+13).
    process.env.TZ = 'Pacific/Auckland';
    expect(uids('since:2025-01-07 before:2025-01-08')).toEqual([2]);
    process.env.TZ = 'UTC';
    expect(uids('since:2025-01-07 before:2025-01-08')).toEqual([]);
  });

  it("walks only the stretch of the folder's arrivals that top-level since/before leave", () => {
    const plan = (query: string) => {
      const node = parseQuery(query);
      const { sql, params } = new CacheQuery(db).explain(node, 'INBOX');
      const runnable = sql.replace('SELECT ...', 'SELECT m.id');
      return (db.prepare(`EXPLAIN QUERY PLAN ${runnable}`).all('main', 'INBOX', ...params) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    };
    expect(explainOffline(db, parseQuery('from:alice is:unread since:2025-01-09'), 'INBOX')).toMatch(
      /WHERE f\.account = \? AND f\.folder = \? AND f\.received >= \? AND .*\n-- parameters: \["2025-01-09T00:00:00\.000Z","2025-01-09T00:00:00\.000Z","alice"\]$/s,
    );
    expect(plan('is:unread since:2025-01-09')).toMatch(/memberships_by_arrival \(account=\? AND folder=\? AND received>\?\)/);
    expect(plan('since:2025-01-06 before:2025-01-07')).toMatch(/memberships_by_arrival \(account=\? AND folder=\? AND received>\? AND received<\?\)/);
    // Under NOT or OR a date term leaves the whole folder to walk.
    expect(explainOffline(db, parseQuery('-since:2025-01-09'), 'INBOX')).not.toContain('f.received >=');
    expect(explainOffline(db, parseQuery('since:2025-01-09 OR is:flagged'), 'INBOX')).not.toContain('f.received >=');
    expect(uids('since:2025-01-09 OR is:flagged')).toEqual([5, 4, 3]);
    expect(uids('-since:2025-01-09')).toEqual([2, 1]);
  });

  /** What `run` gives, and the SQL it prepared on the database. */
  function preparing<T>(run: () => T): { result: T; prepared: string[] } {
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    const spy = vi.spyOn(db, 'prepare').mockImplementation((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    });
    try {
      return { result: run(), prepared };
    } finally {
      spy.mockRestore();
    }
  }

  it("counts a folder's messages in memberships_by_folder, the smaller of its two indexes", () => {
    const { result, prepared } = preparing(() => new CacheQuery(db).page('main', ['INBOX'], null, { limit: 2, page: 1 }));
    expect(result.total).toBe(5);
    const count = prepared.find((sql) => sql.startsWith('SELECT count(*)'))!;
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${count}`).all('main', 'INBOX') as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail)).toEqual(['SEARCH f USING COVERING INDEX memberships_by_folder (account=? AND folder=?)']);
  });

  it("tests a word on the folder's membership: its count reads no message, its listing only the matches", () => {
    const cacheQuery = new CacheQuery(db);
    const { result: page, prepared } = preparing(() => cacheQuery.page('main', ['INBOX'], parseQuery('alice'), { limit: 1, page: 1 }));
    // The answer is the one a walk of the messages gives: 2 matches, the newest listed.
    expect(page.total).toBe(2);
    expect(page.items.map((item) => item.uid)).toEqual([2]);
    expect(uids('alice')).toEqual([2, 1]);
    const planOf = (sql: string, ...params: unknown[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail);
    const count = prepared.find((sql) => sql.startsWith('SELECT count(*)'))!;
    expect(count).not.toMatch(/\bm\./);
    expect(planOf(count, 'main', 'INBOX', '"alice" *').join('; ')).not.toMatch(/SEARCH m\b/);
    // The listing tests the word before it reads the message: its look-up comes after the list.
    const listing = planOf(prepared.find((sql) => sql.includes('LIMIT ? OFFSET ?'))!, 'main', 'INBOX', '"alice" *', 1, 0);
    expect(listing.findIndex((step) => step.startsWith('SEARCH m '))).toBeGreaterThan(listing.findIndex((step) => step.startsWith('LIST SUBQUERY')));
    // A query that tests a column of the message still reads it, for the count as for the listing.
    expect(cacheQuery.page('main', ['INBOX'], parseQuery('alice is:unread'), { limit: 5, page: 1 }).total).toBe(1);
    expect(uids('alice is:unread')).toEqual([2]);
  });

  it('finds a message by the arrival it has now, after an update changed it', () => {
    const cache = new MessageCache(db);
    cache.reset('main', 'Moved', 'moved-token');
    const first = message(1, { folder: 'Moved', subject: 'dated twice', internalDate: day('2025-03-01T12:00:00Z') });
    cache.upsert('main', [first], { scope: 'Moved', token: undefined });
    expect(uids('since:2025-03-01', 'Moved')).toEqual([1]);
    cache.upsert('main', [message(1, { folder: 'Moved', subject: 'dated twice', internalDate: day('2025-02-01T12:00:00Z') })], { scope: 'Moved', token: undefined });
    expect(uids('since:2025-03-01', 'Moved')).toEqual([]);
    expect(uids('since:2025-02-01 before:2025-02-02', 'Moved')).toEqual([1]);
    cache.dropFolder('main', 'Moved');
  });

  it('falls back to the Date header when a message has no arrival time', () => {
    const cache = new MessageCache(db);
    cache.reset('main', 'Undated', 'undated-token');
    cache.upsert('main', [
      message(1, { folder: 'Undated', subject: 'header only', date: day('2025-02-01T12:00:00Z') }),
      message(2, { folder: 'Undated', subject: 'no date at all' }),
    ], { scope: 'Undated', token: undefined });
    expect(uids('since:2025-02-01', 'Undated')).toEqual([1]);
    expect(uids('before:2025-02-01', 'Undated')).toEqual([]);
    // A message without any date matches neither, and NOT of either.
    expect(uids('-since:2025-02-01', 'Undated')).toEqual([2]);
    new MessageCache(db).dropFolder('main', 'Undated');
  });

  it('lists by arrival where UIDs do not follow it (a migrated folder); equal times: the higher UID first', () => {
    const cache = new MessageCache(db);
    cache.reset('main', 'Migrated', 'migrated-token');
    cache.upsert('main', [
      message(1, { folder: 'Migrated', internalDate: day('2021-01-01T00:00:00Z') }),
      message(2, { folder: 'Migrated', internalDate: day('2025-01-01T00:00:00Z') }),
      message(3, { folder: 'Migrated', internalDate: day('2019-01-01T00:00:00Z') }),
      message(4, { folder: 'Migrated', internalDate: day('2021-01-01T00:00:00Z') }),
    ], { scope: 'Migrated', token: undefined });
    expect(uids(null, 'Migrated')).toEqual([2, 4, 1, 3]);
    new MessageCache(db).dropFolder('main', 'Migrated');
  });

  it('larger/smaller compare the size strictly', () => {
    expect(uids('larger:100K')).toEqual([3]);
    expect(uids('larger:1K')).toEqual([4, 3, 1]);
    expect(uids('smaller:1K')).toEqual([2]);
    expect(uids('larger:1024 OR smaller:1024')).toEqual([4, 3, 2, 1]);
  });

  it('combines with and, or, not and grouping; NOT also matches messages without the field', () => {
    expect(uids('from:bob OR is:flagged')).toEqual([4, 3, 2]);
    expect(uids('-report')).toEqual([5, 4, 3, 2]);
    expect(uids('NOT (is:read OR has:attachment)')).toEqual([5, 3, 2]);
    expect(uids('(lunch OR cafe) -is:flagged')).toEqual([2]);
    expect(uids('-from:alice')).toEqual([5, 4, 3, 2]); // UID 3 has no From at all
    expect(uids('-to:alice -(cc:carol OR bcc:dave)')).toEqual([5, 4, 1]);
    expect(uids({ kind: 'and', children: [{ kind: 'or', children: [text('any', 'quarter'), text('any', 'disk')] }, { kind: 'not', child: { kind: 'flag', flag: 'read' } }] })).toEqual([5]);
  });

  it('searches every cached folder newest first by date', () => {
    expect(uids('report', null)).toEqual([1, 7]);
    expect(uids('from:alice', null)).toEqual([1, 7]);
  });
});

describe('cache query: hostile input', () => {
  it('quotes each value as one FTS5 phrase, a trailing word as a prefix', () => {
    expect(ftsPhrase('report')).toBe('"report" *');
    expect(ftsPhrase('say "hi"')).toBe('"say ""hi"""');
    expect(ftsPhrase('C++')).toBe('"C++"');
    expect(ftsPhrase('NEAR')).toBe('"NEAR" *');
    expect(ftsPhrase('!!!')).toBeNull();
  });

  it('treats FTS5 operators and punctuation as text', () => {
    expect(uids(text('any', 'NEAR'))).toEqual([4, 2]);
    expect(uids(text('any', 'NEAR(a b)'))).toEqual([4]);
    expect(uids(text('any', '*star*'))).toEqual([4]);
    expect(uids(text('any', '-minus'))).toEqual([4]);
    expect(uids(text('any', 'col:on'))).toEqual([4]);
    expect(uids(text('body', 'subject:quarter'))).toEqual([]);
    expect(uids(text('any', 'C++'))).toEqual([3]);
    expect(uids(text('any', '"quoted"'))).toEqual([3]);
    expect(uids(text('any', 'e-mail'))).toEqual([3]);
  });

  it('matches a value without any word as a substring, and never fails on syntax', () => {
    expect(uids(text('any', '!!!'))).toEqual([5]);
    expect(uids(text('any', '"'))).toEqual([3]);
    expect(uids(text('body', '*'))).toEqual([4]);
    expect(uids(text('any', '***'))).toEqual([]);
    const hostile = ['"', '""', '"a', 'a"', '*', '^', '-', ':', 'a:b', 'NEAR(', 'NEAR/2', 'AND', 'OR', 'NOT', '(', ')', '{subject}', 'subject : x', "'; DROP TABLE messages; --", '\\', '%', '_', 'a*b', '" OR "'];
    for (const value of hostile) {
      for (const field of ['any', 'body', 'subject', 'from'] as const) {
        expect(() => uids(text(field, value)), `${field}: ${value}`).not.toThrow();
      }
    }
    expect(uids(null)).toEqual([5, 4, 3, 2, 1]);
  });

  it('takes LIKE wildcards literally in substring fields', () => {
    expect(uids(text('subject', '%'))).toEqual([]);
    expect(uids(text('subject', '_'))).toEqual([]);
    expect(uids(text('from', '%@%'))).toEqual([]);
  });

  it('keeps every value out of the SQL text', () => {
    const value = "x'); DROP TABLE messages; --";
    for (const field of ['any', 'body', 'subject', 'from', 'to', 'cc', 'bcc'] as const) {
      const { sql, params } = compileCacheQuery({ kind: 'text', field, value });
      expect(sql).not.toContain('DROP');
      expect(params.length).toBeGreaterThan(0);
    }
    expect(compileCacheQuery({ kind: 'message_id', value }).sql).not.toContain('DROP');
    expect(explainOffline(db, parseQuery('"x\'); DROP" is:unread'), 'INBOX')).toMatch(
      /^SELECT .* WHERE f\.account = \? AND f\.folder = \? AND .*MATCH \?.*m\.seen = 0.*\n-- parameters: \["\\"x'\); DROP\\" \*"\]$/s,
    );
  });

  it('refuses an empty value rather than matching everything', () => {
    expect(() => compileCacheQuery(text('subject', ''))).toThrow(/empty search text/);
  });
});

describe('offline list and read', () => {
  it('pages with total and has_next, and gives the live ids', () => {
    const first = listOffline(db, 'main', 'INBOX', null, { limit: 2, page: 1 }).result;
    expect(first).toMatchObject({ total: 5, page: 1, pageSize: 2, hasNext: true });
    expect(first).toMatchObject({ totalIsEstimate: false, nextCursor: null });
    expect(first.items.map((e) => e.uid)).toEqual([5, 4]);
    expect(first.items[0]!.ref).toEqual({ id: encodeMessageId({ folder: 'INBOX', uidValidity: UIDVALIDITY, uid: 5 }), folder: 'INBOX' });
    const last = listOffline(db, 'main', 'INBOX', null, { limit: 2, page: 3 }).result;
    expect(last).toMatchObject({ total: 5, hasNext: false });
    expect(last.items.map((e) => e.uid)).toEqual([1]);
    const beyond = listOffline(db, 'main', 'INBOX', null, { limit: 2, page: 4 }).result;
    expect(beyond).toMatchObject({ items: [], total: 5, hasNext: false });
    const filtered = listOffline(db, 'main', 'INBOX', parseQuery('is:unread'), { limit: 2, page: 1 }).result;
    expect(filtered).toMatchObject({ total: 3, hasNext: true });
  });

  it('maps cached rows to the envelopes the live provider returns', () => {
    const [third] = listOffline(db, 'main', 'INBOX', parseQuery('cafe'), { limit: 10, page: 1 }).result.items;
    expect(third).toMatchObject({
      messageId: null, subject: 'Café Über alles', from: null, to: [], cc: [], size: 120_000,
      flags: { seen: false, flagged: true, answered: true, draft: false, keywords: [] }, hasAttachments: false,
      date: day('2025-01-09T08:00:00Z'), // no Date header: the arrival time, as live
    });
    const [first] = listOffline(db, 'main', 'INBOX', parseQuery('quarterly'), { limit: 10, page: 1 }).result.items;
    expect(first).toMatchObject({ from: { name: 'Alice Example', address: 'alice@example.org' }, to: [{ name: '', address: 'bob@example.org' }], hasAttachments: true, messageId: '<q1@example.org>' });
  });

  it('takes INBOX in any case (resolved offline); a folder the cache lacks is FOLDER_NOT_FOUND; all folders merge', async () => {
    const resolver = new FolderResolver({ folderIdIsPath: true }, { cached: () => new FolderRepository(db).list('main').folders, live: null });
    const inbox = await resolver.resolve('inbox');
    expect(listOffline(db, 'main', inbox.id, null, { limit: 10, page: 1 }).result.total).toBe(5);
    expect(() => listOffline(db, 'main', 'Nope', null, { limit: 10, page: 1 })).toThrow(expect.objectContaining({ code: 'FOLDER_NOT_FOUND' }));
    const archive = await resolver.resolve('archive');
    expect(() => listOffline(db, 'main', archive.id, null, { limit: 10, page: 1 })).toThrow(/not in the cache/);
    const all = listOffline(db, 'main', null, null, { limit: 3, page: 2 }).result;
    expect(all).toMatchObject({ total: 6, hasNext: false });
    // By arrival: UID 4 arrived on 10 January, whatever its Date header (2024-12-31) says.
    expect(all.items.map((e) => [e.ref.folder, e.uid])).toEqual([['INBOX', 2], ['INBOX', 1], ['Archive', 7]]);
  });

  it('an account never synced has an empty cache: empty lists, not an error', () => {
    const { result, cache } = listOffline(db, 'fresh', 'Anything', null, { limit: 10, page: 1 });
    expect(result).toEqual({ items: [], total: 0, totalIsEstimate: false, page: 1, pageSize: 10, hasNext: false, nextCursor: null });
    expect(cache).toEqual({ synced: false, syncedAt: null });
    expect(listOffline(db, 'fresh', null, parseQuery('x'), { limit: 10, page: 1 }).result.total).toBe(0);
  });

  it('reports when the cache was synced: null until a folder finishes', () => {
    expect(listOffline(db, 'main', 'INBOX', null, { limit: 1, page: 1 }).cache).toEqual({ synced: true, syncedAt: null });
    new MessageCache(db).checkpoint('main', 'INBOX', 'inbox-token-done', true);
    const { syncedAt } = listOffline(db, 'main', 'INBOX', null, { limit: 1, page: 1 }).cache;
    expect(Date.now() - new Date(syncedAt!).getTime()).toBeLessThan(60_000);
  });

  it('read gives the stored bytes and the envelope, by id or by UID in a folder', () => {
    const id = encodeMessageId({ folder: 'INBOX', uidValidity: UIDVALIDITY, uid: 1 });
    const { result } = readOffline(db, 'main', id, 'INBOX');
    expect(result.raw.toString()).toBe(INBOX[0]!.message.raw!.toString());
    expect(result.envelope).toMatchObject({ ref: { id, folder: 'INBOX' }, uid: 1, subject: 'Quarterly report', flags: { seen: true, flagged: false, keywords: [] } });
    expect(readOffline(db, 'main', '1', 'INBOX').result.envelope.ref.id).toBe(id);
  });

  it('read without stored content is NOT_CACHED; a missing or renumbered message is MESSAGE_NOT_FOUND', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        if (isMailopsError(err)) return [err.code, err.exitCode, err.hint];
        throw err;
      }
      return null;
    };
    expect(code(() => readOffline(db, 'main', '2', 'INBOX'))).toEqual(['NOT_CACHED', 5, expect.stringContaining('without --offline')]);
    expect(code(() => readOffline(db, 'main', '99', 'INBOX'))?.slice(0, 2)).toEqual(['MESSAGE_NOT_FOUND', 5]);
    expect(code(() => readOffline(db, 'main', encodeMessageId({ folder: 'INBOX', uidValidity: '7', uid: 1 }), 'INBOX'))?.slice(0, 2)).toEqual(['MESSAGE_NOT_FOUND', 5]);
    expect(code(() => readOffline(db, 'main', '1', 'Nope'))?.slice(0, 2)).toEqual(['FOLDER_NOT_FOUND', 5]);
    // With the backend's codec: an id of a folder the cache lacks, and one the folder no longer holds.
    expect(code(() => readOffline(db, 'main', encodeMessageId({ folder: 'Nope', uidValidity: UIDVALIDITY, uid: 1 }), 'INBOX', imapIds))?.slice(0, 2)).toEqual(['FOLDER_NOT_FOUND', 5]);
    expect(code(() => readOffline(db, 'main', encodeMessageId({ folder: 'INBOX', uidValidity: '7', uid: 1 }), 'INBOX', imapIds))).toEqual([
      'MESSAGE_NOT_FOUND', 5, expect.stringContaining('renumbered'),
    ]);
    expect(code(() => readOffline(db, 'fresh', '1', 'INBOX'))?.slice(0, 2)).toEqual(['MESSAGE_NOT_FOUND', 5]);
  });

  it('the folder list is as old as the later of a live listing and a sync', () => {
    const repo = new FolderRepository(db);
    repo.replace('main', [{ id: 'INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox', unreadCount: 3, totalCount: 5, selectable: true }], new Date('2020-01-01T00:00:00Z'));
    const fromSync = foldersOffline(db, 'main');
    expect(fromSync.result.map((f) => f.path)).toEqual(['INBOX']);
    expect(fromSync.cache.syncedAt).toBe(new MessageCache(db).syncedAt('main'));
    repo.replace('main', [], new Date());
    expect(foldersOffline(db, 'fresh')).toEqual({ result: [], cache: { synced: false, syncedAt: null } });
    repo.replace('fresh', [{ id: 'INBOX', path: 'INBOX', name: 'INBOX', delimiter: '/', role: 'inbox', unreadCount: 0, totalCount: 0, selectable: true }], new Date('2021-05-05T00:00:00Z'));
    expect(foldersOffline(db, 'fresh').cache).toEqual({ synced: true, syncedAt: '2021-05-05T00:00:00.000Z' });
  });
});
