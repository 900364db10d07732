// Schema 4 on a database written by release 10c2617 (test/fixtures/release-10c2617): the same
// offline answers as the release gave, its ids still accepted, the --on-new processed set kept,
// and a sync right after the upgrade that refetches nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { MessageCache } from '../../src/store/cache.js';
import { FolderRepository } from '../../src/store/folders.js';
import { foldersOffline, listOffline, readOffline } from '../../src/core/offline.js';
import { FeedApplier } from '../../src/core/sync/apply.js';
import { handOverNewMessages, type HandOver } from '../../src/core/sync/on-new.js';
import { parseQuery } from '../../src/core/query/index.js';
import { imapIds } from '../../src/providers/imap/ids.js';
import { imapSyncFeed } from '../../src/providers/imap/sync.js';
import { scriptedClient } from '../support/scripted-imap.js';
import type { MailProvider } from '../../src/domain/provider.js';
import type { SyncEvent } from '../../src/domain/sync.js';
import type { Envelope, Page } from '../../src/domain/types.js';
import { flagNames } from '../../src/cli/output.js';
import { isMailopsError } from '../../src/domain/errors.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/release-10c2617');

/** An envelope as release 10c2617 returned it (dates as ISO strings in answers.json). */
interface OldEnvelope {
  ref: { id: string; folder: string; uid: number; uidValidity: string };
  messageId: string | null;
  subject: string;
  from: unknown;
  to: unknown[];
  cc: unknown[];
  date: string | null;
  size: number;
  flags: string[];
  hasAttachments: boolean;
}
interface OldPage {
  items: OldEnvelope[];
  total: number;
  page: number;
  pageSize: number;
  hasNext: boolean;
}
interface Answers {
  lists: Record<string, OldPage>;
  searches: Record<string, OldPage>;
  reads: Record<string, { raw: string; envelope: OldEnvelope } | { error: string; message: string }>;
  errors: Record<string, { error: string; message: string }>;
  folders: unknown;
  processed: unknown[];
}

const answers = JSON.parse(readFileSync(join(FIXTURE, 'answers.json'), 'utf8')) as Answers;
const originalTz = process.env.TZ;
let db: Database;

/** Today's envelope in the release's shape, to compare field by field. */
function asRelease(e: Envelope): OldEnvelope {
  const key = /^[A-Za-z0-9_-]+\.([0-9]+)\.[0-9]+$/.exec(e.ref.id);
  return {
    ref: { id: e.ref.id, folder: e.ref.folder, uid: e.uid!, uidValidity: key?.[1] ?? '' },
    messageId: e.messageId,
    subject: e.subject,
    from: e.from,
    to: e.to,
    cc: e.cc,
    date: e.date?.toISOString() ?? null,
    size: e.size,
    // The release printed IMAP's flag names in the server's order; JSON prints the same names.
    flags: flagNames(e.flags).sort(),
    hasAttachments: e.hasAttachments,
  };
}

const sortedFlags = (e: OldEnvelope): OldEnvelope => ({ ...e, flags: [...e.flags].sort() });

/**
 * A page in the release's shape. The release listed a folder by UID and merged folders by the
 * Date header; lists are now newest first by arrival (as the live ls is since UID SORT), so a
 * page that fits whole is compared as a set of messages, and its order checked apart.
 */
function comparable(page: Page<Envelope>): OldPage {
  expect(isNewestFirstByArrival(page.items), 'newest first by arrival').toBe(true);
  return { items: byId(page.items.map(asRelease)), total: page.total, page: page.page, pageSize: page.pageSize, hasNext: page.hasNext };
}

function expected(page: OldPage): OldPage {
  return { ...page, items: byId(page.items.map(sortedFlags)) };
}

const byId = (items: OldEnvelope[]) => [...items].sort((a, b) => a.ref.id.localeCompare(b.ref.id));

function isNewestFirstByArrival(items: Envelope[]): boolean {
  const times = items.map((e) => (e.received ?? e.date)?.getTime() ?? 0);
  return times.every((t, i) => i === 0 || times[i - 1]! >= t);
}

function failure(fn: () => unknown): { error: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (error) {
    if (!isMailopsError(error)) throw error;
    return { error: error.code, message: error.message };
  }
}

beforeAll(() => {
  process.env.TZ = 'UTC';
  const home = mkdtempSync(join(tmpdir(), 'mailops-migration-4-'));
  writeFileSync(join(home, 'mailops.db'), gunzipSync(readFileSync(join(FIXTURE, 'release.db.gz'))), { mode: 0o600 });
  db = openDatabase(home);
});

afterAll(() => {
  db.close();
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('schema 4 on a database of release 10c2617', () => {
  it('is at the latest schema, with the old tables gone and nothing left dangling', () => {
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(4);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'messages_fts%' ORDER BY name").pluck().all();
    expect(tables).toEqual(['accounts', 'folders', 'memberships', 'message_bodies', 'messages', 'processed', 'sync_locks', 'sync_runs', 'sync_state']);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('lists every folder, page and account as the release did', () => {
    const all = { limit: 50, page: 1 };
    for (const folder of ['INBOX', 'Archive', 'Projets/Café', 'Sent', null]) {
      expect(comparable(listOffline(db, 'main', folder, null, all).result), String(folder)).toEqual(expected(answers.lists[String(folder)]!));
    }
    // INBOX's UIDs follow arrival, so its pages are the release's, page for page.
    expect(comparable(listOffline(db, 'main', 'INBOX', null, { limit: 3, page: 2 }).result)).toEqual(expected(answers.lists['INBOX page 2 of 2']!));
    // Archive's do not (UID 10 arrived after 11): by arrival now, by UID in the release.
    expect(listOffline(db, 'main', 'Archive', null, all).result.items.map((e) => e.uid)).toEqual([10, 11]);
    expect(answers.lists['Archive']!.items.map((e) => e.ref.uid)).toEqual([11, 10]);
    expect(comparable(listOffline(db, 'work', 'INBOX', null, all).result)).toEqual(expected(answers.lists['work INBOX']!));
  });

  it('answers every search as the release did (FTS entries, flags and dates carried over)', () => {
    for (const [key, answer] of Object.entries(answers.searches)) {
      const [query, folder] = key.split(' in ') as [string, string];
      const result = listOffline(db, 'main', folder === 'null' ? null : folder, parseQuery(query), { limit: 50, page: 1 }).result;
      expect(comparable(result), key).toEqual(expected(answer));
    }
  });

  it('reads every message by the id the release printed, and by UID', () => {
    expect(Object.keys(answers.reads).length).toBeGreaterThan(8);
    for (const [key, answer] of Object.entries(answers.reads)) {
      const [id, folder] = key.includes(' in ') ? (key.split(' in ') as [string, string]) : [key, 'INBOX'];
      if ('error' in answer) {
        expect(failure(() => readOffline(db, 'main', id, folder)), key).toEqual(answer);
        continue;
      }
      const { result } = readOffline(db, 'main', id, folder);
      expect(result.raw.toString('base64'), key).toBe(answer.raw);
      expect(asRelease(result.envelope), key).toEqual(sortedFlags(answer.envelope));
      // Today's IMAP codec takes the old ids as they are.
      expect(imapIds.parse(answer.envelope.ref.id, 'INBOX'), key).toEqual({ id: answer.envelope.ref.id, folder: answer.envelope.ref.folder });
    }
  });

  it('fails where the release failed, with the same codes and words', () => {
    expect(failure(() => listOffline(db, 'main', 'Trash', null, { limit: 50, page: 1 }))).toEqual(answers.errors['ls Trash']);
    expect(failure(() => readOffline(db, 'main', '3', 'INBOX'))).toEqual(answers.errors['read 3 in INBOX']);
    expect(failure(() => readOffline(db, 'main', '5', 'INBOX'))).toEqual(answers.errors['read 5 in INBOX']);
  });

  it('keeps the folder list and the cache age', () => {
    expect(JSON.parse(JSON.stringify(foldersOffline(db, 'main')))).toEqual(answers.folders);
  });

  it('keeps the --on-new processed set: only the message whose hook failed is handed over again', async () => {
    expect(db.prepare('SELECT account, dedupe_key, folder, uid, processed_at FROM processed ORDER BY dedupe_key').all()).toEqual(answers.processed);
    const handed: HandOver[] = [];
    const provider = { fetchMessage: () => Promise.reject(new Error('no network in this test')) } as unknown as MailProvider;
    const log = join(mkdtempSync(join(tmpdir(), 'mailops-on-new-')), 'env');
    const command = `cat >/dev/null; echo "$MAILOPS_FOLDER $MAILOPS_ID $MAILOPS_UID $MAILOPS_UIDVALIDITY" > ${log}`;
    const variables = () => ({ MAILOPS_UIDVALIDITY: '1795245819' });
    const result = await handOverNewMessages(db, 'main', provider, { command, unreadOnly: false, markRead: false, folders: ['INBOX'], variables }, {
      stderr: process.stderr, env: { PATH: process.env.PATH }, signal: new AbortController().signal, onResult: (r) => handed.push(r),
    });
    expect(result).toEqual({ processed: 1, failed: 0 });
    expect(handed.map((h) => [h.uid, h.id])).toEqual([[4, 'SU5CT1g.1795245819.4']]);
    // The hook's variables: the neutral ones, and what the backend adds.
    expect(readFileSync(log, 'utf8')).toBe('INBOX SU5CT1g.1795245819.4 4 1795245819\n');
  });

  it('carries on incrementally: the old cursors are tokens, a no-change sync refetches nothing', async () => {
    const state = new MessageCache(db).syncState('main');
    expect([...state.keys()].sort()).toEqual(['Archive', 'INBOX', 'Projets/Café', 'Sent']);
    const script: Array<[string, string[]]> = [
      ['LIST', [
        '* LIST () "/" INBOX', '* STATUS INBOX (MESSAGES 5 UIDNEXT 9 UIDVALIDITY 1795245819 UNSEEN 1 HIGHESTMODSEQ 18446744073709551615)',
        '* LIST () "/" Archive', '* STATUS Archive (MESSAGES 2 UIDNEXT 12 UIDVALIDITY 1700000001 UNSEEN 0 HIGHESTMODSEQ 30)',
        '* LIST () "/" "Projets/Caf&AOk-"', '* STATUS "Projets/Caf&AOk-" (MESSAGES 1 UIDNEXT 4 UIDVALIDITY 42 UNSEEN 1 HIGHESTMODSEQ 21)',
        '* LIST (\\Sent) "/" Sent', '* STATUS Sent (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 5 UNSEEN 0 HIGHESTMODSEQ 1)',
        '* LIST (\\Trash) "/" Trash', '* STATUS Trash (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 6 UNSEEN 0 HIGHESTMODSEQ 1)',
      ]],
      // Archive was left half-synced: compared (no MODSEQ known yet), nothing fetched again.
      ['EXAMINE "Archive"', ['* 2 EXISTS', '* OK [UIDVALIDITY 1700000001] ok', '* OK [UIDNEXT 12] ok', '* OK [HIGHESTMODSEQ 30] ok']],
      ['UID FETCH 1:11 (UID FLAGS)', ['* 1 FETCH (UID 10 FLAGS (\\Seen))', '* 2 FETCH (UID 11 FLAGS (\\Seen \\Flagged))']],
      // Trash was never synced: its first sync starts now.
      ['EXAMINE "Trash"', ['* 0 EXISTS', '* OK [UIDVALIDITY 6] ok', '* OK [UIDNEXT 1] ok', '* OK [HIGHESTMODSEQ 1] ok']],
    ];
    const { client, sent } = scriptedClient(script, ['IMAP4REV1', 'LIST-EXTENDED', 'LIST-STATUS', 'SPECIAL-USE', 'CONDSTORE', 'QRESYNC']);
    const options = { folders: null, full: false, since: null, headersOnly: false, bodyLimit: 2_000_000, batchSize: 50 };
    const events: SyncEvent[] = [];
    for await (const event of imapSyncFeed(client, state, options, new AbortController().signal)) events.push(event);
    expect(events.map((e) => `${e.kind} ${'scope' in e ? e.scope : ''}`)).toEqual([
      'folders ',
      'unchanged INBOX',
      'flags Archive',
      'present Archive',
      'checkpoint Archive',
      'unchanged Projets/Café',
      'unchanged Sent',
      'reset Trash',
      'checkpoint Trash',
    ]);
    expect(sent.filter((line) => /BODY/.test(line))).toEqual([]);

    const applier = new FeedApplier('main', new MessageCache(db), new FolderRepository(db), { folder: () => {}, messages: () => {} });
    for (const event of events) await applier.apply(event);
    expect(applier.counts).toMatchObject({ new: 0, updated: 0, deleted: 0, folders: 5 });
    expect(listOffline(db, 'main', 'Archive', null, { limit: 50, page: 1 }).result.total).toBe(2);
  });
});
