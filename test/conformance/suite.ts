// The conformance suite (rclone's fstests): the behaviour users rely on, checked through the built
// CLI and against the server's truth, for any backend a harness describes (harness.ts). The same
// tests run unchanged against every backend; one that a backend declares it cannot do is skipped
// with the reason in its title, and the contract's answer for it (exit 6) is asserted instead.
//
// Accounts: one per describe; the tests inside share it without depending on each other's order
// (each works on messages of its own, or only reads).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli.js';
import { jsonError, parseJson } from '../e2e/helpers.js';
import type { BackendHarness, ConformanceAccount, Feature } from './harness.js';
import { CORPUS, INVOICE_PDF, QUERY_TERMS, arrivals, message, type CorpusKey } from './messages.js';

interface Listed {
  id: string;
  folder: string;
  message_id: string;
  subject: string;
  flags: string[];
  is_read: boolean;
  is_flagged: boolean;
}
interface ListJson {
  messages: Listed[];
  total: number;
  page: number;
  page_size: number;
  has_next: boolean;
}

/** Runs `command --json ...args`; flags go before a `--` so a query may start with `-`. */
async function json<T = ListJson>(account: ConformanceAccount, command: string, args: string[], code = 0): Promise<T> {
  const result = await account.cli([command, '--json', ...args]);
  expectExit(result, code, `${command} ${args.join(' ')}`);
  return parseJson<T>(result);
}

function expectExit(result: CliResult, code: number, what = ''): void {
  expect(result.code, `${what}: exit ${result.code}\n${result.stderr}`).toBe(code);
}

/** A failure with --json: the exit code, and the error object of the contract on stderr. */
function expectJsonError(result: CliResult, code: number, what: string): void {
  expectExit(result, code, what);
  expect(jsonError(result), what).toMatchObject({ code: expect.any(String), message: expect.any(String) });
}

/** What offline parity compares: ids, flags and order (and the paging numbers). */
function projection(list: ListJson) {
  return {
    messages: list.messages.map((m) => ({ id: m.id, folder: m.folder, message_id: m.message_id, flags: [...m.flags].sort() })),
    total: list.total,
    has_next: list.has_next,
  };
}

/** The listed message with this Message-ID in `folder`. */
async function listed(account: ConformanceAccount, folder: string, messageId: string): Promise<Listed> {
  const list = await json(account, 'ls', [folder, '--limit', '200']);
  const found = list.messages.find((m) => m.message_id === messageId);
  if (!found) throw new Error(`${messageId} is not listed in ${folder}: ${list.messages.map((m) => m.message_id).join(' ')}`);
  return found;
}

/** Waits for what another party delivers (an SMTP hop may not be synchronous on every backend). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function describeBackend(harness: BackendHarness): void {
  const { folders } = harness;

  /** A test of behaviour the backend may lack: when it does, skipped with the reason, and `instead` asserts exit 6. */
  function capable(feature: Feature, title: string, test: () => Promise<void>, instead: { title: string; test: () => Promise<void> }): void {
    const why = harness.lacks[feature];
    if (!why) return void it(title, test);
    it.skip(`${title} (skipped: ${why})`, test);
    it(`${instead.title} (${why})`, instead.test);
  }

  describe(`conformance: ${harness.name}`, () => {
    beforeAll(() => harness.setUp(), 120_000);
    afterAll(() => harness.tearDown());

    describe('reading: ls, read and search on a seeded mailbox (read-only)', () => {
      let account: ConformanceAccount;
      const ids = {} as Record<CorpusKey, string>;
      const keys = Object.keys(CORPUS) as CorpusKey[];
      const byId = (list: ListJson) => list.messages.map((m) => keys.find((k) => ids[k] === m.id) ?? m.id);

      beforeAll(async () => {
        account = await harness.newAccount('conf-reader');
        await account.seed(folders.inbox, Object.values(CORPUS));
        const list = await json(account, 'ls', [folders.inbox]);
        for (const key of keys) ids[key] = list.messages.find((m) => m.message_id === CORPUS[key].messageId)!.id;
        // Offline searches below read the cache of this one sync.
        expectExit(await account.cli(['sync', '--json'], { timeoutMs: 120_000 }), 0, 'sync');
      }, 180_000);

      it('ls lists newest first, with the contract fields and the server flags', async () => {
        const list = await json(account, 'ls', []);
        expect(byId(list)).toEqual(['R5', 'R4', 'R3', 'R2', 'R1']);
        expect(list).toMatchObject({ total: 5, page: 1, page_size: 50, has_next: false });
        expect(new Set(list.messages.map((m) => m.id)).size).toBe(5);
        const [r5, r4, r3, r2, r1] = list.messages;
        expect(r1).toMatchObject({
          subject: 'Kiwi harvest report',
          message_id: CORPUS.R1.messageId,
          from: { name: 'Alice Orchard', address: 'alice@orchard.test' },
          to: [{ name: 'Bob', address: 'bob@example.org' }],
          cc: [{ name: 'Carol', address: 'carol@billing.test' }],
          date: '2024-03-01T10:00:00Z',
          size: expect.any(Number),
          is_read: true,
          is_flagged: false,
          has_attachments: false,
        });
        expect(r1!.flags).toEqual(['\\Seen']);
        expect([...r2!.flags]).toEqual(['\\Flagged']);
        expect([...r3!.flags].sort()).toEqual(harness.lacks.answered ? ['\\Seen'] : ['\\Answered', '\\Seen']);
        expect(r3).toMatchObject({ has_attachments: true, is_read: true });
        expect(r4).toMatchObject({ flags: [], is_read: false, is_flagged: false });
        expect(r5).toMatchObject({ is_read: true, is_flagged: true });
      });

      it('ls --ndjson prints one message a line and a pipe gets tab-separated rows, the same messages as --json', async () => {
        const list = await json(account, 'ls', [folders.inbox]);
        const ndjson = await account.cli(['ls', folders.inbox, '--ndjson']);
        expectExit(ndjson, 0, 'ls --ndjson');
        const lines = ndjson.stdout.trim().split('\n').map((line) => JSON.parse(line) as Listed);
        expect(lines.map((m) => m.id)).toEqual(list.messages.map((m) => m.id));
        expect(lines[0]).toMatchObject({ message_id: CORPUS.R5.messageId, subject: 'Disk full on web-3' });
        const tsv = await account.cli(['ls', folders.inbox]);
        expectExit(tsv, 0, 'ls | cat');
        const rows = tsv.stdout.trim().split('\n').map((row) => row.split('\t'));
        expect(rows.map((row) => row[0])).toEqual(list.messages.map((m) => m.id));
        expect(rows[4]).toEqual(expect.arrayContaining(['2024-03-01T10:00:00Z', 'Kiwi harvest report']));
      });

      it('ls --limit/--page: pages of the same list, the same ids, has_next until the last', async () => {
        const all = await json(account, 'ls', [folders.inbox]);
        const pages: ListJson[] = [];
        for (const page of [1, 2, 3]) pages.push(await json(account, 'ls', [folders.inbox, '--limit', '2', '--page', String(page)]));
        expect(pages.map((p) => ({ total: p.total, page: p.page, page_size: p.page_size, has_next: p.has_next }))).toEqual([
          { total: 5, page: 1, page_size: 2, has_next: true },
          { total: 5, page: 2, page_size: 2, has_next: true },
          { total: 5, page: 3, page_size: 2, has_next: false },
        ]);
        expect(pages.flatMap((p) => p.messages.map((m) => m.id))).toEqual(all.messages.map((m) => m.id));
        const beyond = await json(account, 'ls', [folders.inbox, '--limit', '2', '--page', '4']);
        expect(beyond).toMatchObject({ messages: [], page: 4, has_next: false });
      });

      it('ls --unread, --from, --since and --before filter like the matching search terms, live and offline', async () => {
        const cases: Array<[string[], CorpusKey[]]> = [
          [['--unread'], ['R4', 'R2']],
          [['--from', 'dave'], ['R4']],
          [['--since', '2024-06-03'], ['R5', 'R4', 'R3']],
          [['--since', '2024-03-01', '--before', '2024-06-03'], ['R2', 'R1']],
        ];
        for (const [flags, matches] of cases) {
          const [live, offline] = await Promise.all([json(account, 'ls', [folders.inbox, ...flags]), json(account, 'ls', [folders.inbox, '--offline', ...flags])]);
          expect(byId(live), flags.join(' ')).toEqual(matches);
          expect(projection(offline), flags.join(' ')).toEqual(projection(live));
        }
      });

      it('folders: full paths with roles and counts, live and offline', async () => {
        type FolderJson = { id: string; path: string; name: string; role: string | null; unread_count: number; total_count: number };
        const live = (await json<{ folders: FolderJson[] }>(account, 'folders', [])).folders;
        const byPath = new Map(live.map((f) => [f.path, f]));
        expect(byPath.get(folders.inbox)).toMatchObject({ role: 'inbox', total_count: 5, unread_count: 2 });
        expect(byPath.get(folders.sent)).toMatchObject({ role: 'sent' });
        expect(byPath.get(folders.trash)).toMatchObject({ role: 'trash' });
        expect(byPath.get(folders.archive)).toMatchObject({ role: harness.lacks.archiveRole ? null : 'archive', total_count: 0 });
        const offline = (await json<{ folders: FolderJson[] }>(account, 'folders', ['--offline'])).folders;
        expect(offline).toEqual(live);
      });

      it('@ROLE names a folder wherever one is taken; a role the account lacks exits 5', async () => {
        expect(projection(await json(account, 'ls', ['@inbox']))).toEqual(projection(await json(account, 'ls', [folders.inbox])));
        if (!harness.lacks.archiveRole) expect(await json(account, 'ls', ['@archive'])).toMatchObject({ messages: [], total: 0 });
        expect(byId(await json(account, 'search', ['--folder', '@inbox', '--', 'kiwi']))).toEqual(['R1']);
        expect(projection(await json(account, 'ls', ['@inbox', '--offline']))).toEqual(projection(await json(account, 'ls', [folders.inbox, '--offline'])));
        // A role the account lacks (Gmail has Starred as @flagged, and no archive).
        const role = harness.lacks.archiveRole ? '@archive' : '@flagged';
        const lacking = await account.cli(['ls', '--json', role]);
        expectJsonError(lacking, 5, `ls ${role}`);
        // The message names the roles the account has.
        expect(jsonError(lacking).message + (jsonError(lacking).hint ?? '')).toMatch(/@inbox/);
      });

      it('an empty folder lists [] with exit 0, live and offline', async () => {
        expect(await json(account, 'ls', [folders.archive])).toMatchObject({ messages: [], total: 0, has_next: false });
        expect(await json(account, 'ls', [folders.archive, '--offline'])).toMatchObject({ messages: [], total: 0, has_next: false });
        expect(await json(account, 'search', ['--folder', folders.archive, '--', 'kiwi'])).toMatchObject({ messages: [], total: 0 });
      });

      it('read --raw gives back the seeded bytes exactly, live and offline', async () => {
        for (const key of ['R3', 'R1'] as const) {
          for (const offline of [[], ['--offline']]) {
            const result = await account.cli(['read', ids[key], '--raw', ...offline]);
            expectExit(result, 0, `read ${key} --raw ${offline.join(' ')}`);
            expect(Buffer.from(result.stdout, 'utf8').equals(CORPUS[key].raw), `${key} ${offline.join(' ')}`).toBe(true);
          }
        }
      });

      it('read --json: the ls fields plus bcc, reply_to, in_reply_to, references, bodies and attachments', async () => {
        const r3 = await json<Record<string, unknown>>(account, 'read', [ids.R3]);
        expect(r3).toMatchObject({
          id: ids.R3,
          message_id: CORPUS.R3.messageId,
          subject: 'Invoice attached',
          from: { name: 'Carol', address: 'carol@billing.test' },
          date: '2024-06-03T09:00:00Z',
          is_read: true,
          has_attachments: true,
          body_text: expect.stringContaining('zebra invoice'),
          attachments: [{ filename: 'invoice.pdf', content_type: 'application/pdf', size: INVOICE_PDF.length }],
        });
        for (const key of ['bcc', 'reply_to', 'in_reply_to', 'references', 'body_html', 'flags', 'is_flagged', 'size']) expect(r3).toHaveProperty(key);
        const r2 = await json<Record<string, unknown>>(account, 'read', [ids.R2]);
        expect(r2).toMatchObject({ bcc: [{ address: 'erin@example.org' }], is_read: false, is_flagged: true, attachments: [] });
        // Reading R2 (unread) did not mark it read.
        expect(await account.flags(folders.inbox, CORPUS.R2.messageId)).toMatchObject({ seen: false });
      });

      // Read-only and independent of each other: run side by side, which keeps the suite's time down.
      for (const [query, all] of QUERY_TERMS) {
        // R3 is the corpus' one answered message: where no answered state is kept, is:answered misses it.
        const matches = harness.lacks.answered && query.includes('is:answered') ? all.filter((k) => k !== 'R3') : all;
        it.concurrent(`search ${query}: finds ${matches.join(' ') || 'nothing'}, live and --offline`, async () => {
          const [live, offline] = await Promise.all([json(account, 'search', ['--', query]), json(account, 'search', ['--offline', '--', query])]);
          expect(byId(live), 'live').toEqual(matches);
          expect(live.total).toBe(matches.length);
          expect(byId(offline), 'offline').toEqual(matches);
          expect(projection(offline)).toEqual(projection(live));
        });
      }

      it('search pages like ls and takes --folder', async () => {
        const second = await json(account, 'search', ['--limit', '2', '--page', '2', '--', 'is:read']);
        expect(second).toMatchObject({ total: 3, page: 2, page_size: 2, has_next: false });
        expect(byId(second)).toEqual(['R1']);
        expect(projection(await json(account, 'search', ['--limit', '2', '--page', '2', '--offline', '--', 'is:read']))).toEqual(projection(second));
        expect(byId(await json(account, 'search', ['--folder', folders.inbox, '--', 'kiwi']))).toEqual(['R1']);
      });

      it('a malformed query exits 2, live and offline', async () => {
        for (const query of ['from:alice (is:unread', 'is:', 'kiwi OR']) {
          for (const offline of [[], ['--offline']]) {
            const result = await account.cli(['search', '--json', ...offline, '--', query]);
            expectJsonError(result, 2, `search ${query} ${offline.join(' ')}`);
            // It points at the offending position.
            expect(jsonError(result).message, query).toMatch(/column \d+/);
          }
        }
      });

      it('errors: unknown account 5, unknown folder 5, bad flag values 2', async () => {
        expectJsonError(await account.cli(['ls', '--json', '-a', 'no-such-account']), 5, 'ls -a no-such-account');
        expectJsonError(await account.cli(['ls', '--json', 'No/Such/Folder']), 5, 'ls No/Such/Folder');
        expectJsonError(await account.cli(['ls', '--json', '--offline', 'No/Such/Folder']), 5, 'ls --offline No/Such/Folder');
        expectJsonError(await account.cli(['search', '--json', '--folder', 'No/Such/Folder', 'kiwi']), 5, 'search --folder No/Such/Folder');
        for (const args of [
          ['ls', '--limit', '0'],
          ['ls', '--limit', 'many'],
          ['ls', '--page', '-1'],
          ['ls', '--since', 'last tuesday'],
          ['search', '--limit', 'x', 'kiwi'],
          ['mark', ids.R1, '--starred'],
          ['mark', ids.R1],
          ['mark', ids.R1, '--read', '--unread'],
        ]) {
          expectExit(await account.cli([...args, '--json']), 2, args.join(' '));
        }
        // Nothing above changed the message.
        expect(await account.flags(folders.inbox, CORPUS.R1.messageId)).toEqual({ seen: true, flagged: false, answered: false });
      });
    });

    describe('order: newest first by arrival date, whatever order the messages were added in', () => {
      let account: ConformanceAccount;
      // Added in this order (a migration: imapsync, doveadm import, an API import), dated otherwise.
      const migrated = [
        ['<order-2019@conformance.test>', '2019-03-01T09:00:00Z'],
        ['<order-2025b@conformance.test>', '2025-06-20T09:00:00Z'],
        ['<order-2021@conformance.test>', '2021-07-15T09:00:00Z'],
        ['<order-2025c@conformance.test>', '2025-06-26T09:00:00Z'],
        ['<order-2020@conformance.test>', '2020-01-10T09:00:00Z'],
      ] as const;
      const archived = [['<order-archive-2024@conformance.test>', '2024-11-30T09:00:00Z']] as const;
      const seedOf = ([messageId, date]: readonly [string, string]) => message({ messageId, date, subject: `dated ${date.slice(0, 10)}` });
      const byDate = [...migrated].sort((a, b) => b[1].localeCompare(a[1])).map(([id]) => id);
      const added = [...migrated].reverse().map(([id]) => id);
      const messageIds = (list: ListJson) => list.messages.map((m) => m.message_id);

      beforeAll(async () => {
        account = await harness.newAccount('conf-order');
        await account.seed(folders.inbox, migrated.map(seedOf));
        await account.seed(folders.archive, archived.map(seedOf));
        expectExit(await account.cli(['sync', '--json'], { timeoutMs: 120_000 }), 0, 'sync');
      }, 180_000);

      capable(
        'arrivalOrder',
        'ls lists by arrival date across pages, and the cache the same, page for page',
        async () => {
          const pages: string[] = [];
          for (const page of ['1', '2', '3']) {
            const live = await json(account, 'ls', [folders.inbox, '--limit', '2', '--page', page]);
            const offline = await json(account, 'ls', [folders.inbox, '--limit', '2', '--page', page, '--offline']);
            expect(projection(offline), `page ${page}`).toEqual(projection(live));
            pages.push(...messageIds(live));
          }
          expect(pages).toEqual(byDate);
        },
        {
          title: 'ls lists in the order messages were added, newest addition first',
          test: async () => {
            expect(messageIds(await json(account, 'ls', [folders.inbox, '--limit', '10']))).toEqual(added);
            // And says so where a user would look.
            expect((await account.cli(['search', '--explain', 'is:unread'])).stdout).toMatch(/SORT/);
          },
        },
      );

      capable(
        'arrivalOrder',
        'search --all-folders merges the folders by the same date, live and offline',
        async () => {
          const expected = ['<order-2025c@conformance.test>', '<order-2025b@conformance.test>', '<order-archive-2024@conformance.test>', '<order-2021@conformance.test>'];
          const args = ['--all-folders', '--limit', '4', '--', 'since:2021-01-01'];
          expect(messageIds(await json(account, 'search', args))).toEqual(expected);
          expect(messageIds(await json(account, 'search', ['--offline', ...args]))).toEqual(expected);
        },
        {
          title: 'search --all-folders still lists every match',
          test: async () => {
            const found = await json(account, 'search', ['--all-folders', '--limit', '10', '--', 'since:2021-01-01']);
            expect([...messageIds(found)].sort()).toEqual(
              ['<order-2025c@conformance.test>', '<order-2025b@conformance.test>', '<order-archive-2024@conformance.test>', '<order-2021@conformance.test>'].sort(),
            );
          },
        },
      );
    });

    describe('changing mail: mark, read --mark-read, move, send', () => {
      let account: ConformanceAccount;
      // Each test seeds its own messages, newer than the last test's: arrival order stays date order.
      const at = arrivals('2025-02-01T09:00:00Z');
      let n = 0;
      const seedOne = async (subject: string, flags = {}) => {
        const m = message({ subject, date: at(), messageId: `<change-${++n}.f2@example.net>`, flags });
        await account.seed(folders.inbox, [m]);
        return { messageId: m.messageId, id: (await listed(account, folders.inbox, m.messageId)).id };
      };

      beforeAll(async () => {
        account = await harness.newAccount('conf-changer');
      }, 60_000);

      it('mark --read/--unread/--flagged/--unflagged by id changes exactly that message on the server', async () => {
        const a = await seedOne('Mark me');
        const b = await seedOne('Leave me');
        const set = await json<Record<string, unknown>>(account, 'mark', [a.id, '--read', '--flagged']);
        expect(set).toMatchObject({ processed: 1, total: 1, action: expect.any(String) });
        expect(await account.flags(folders.inbox, a.messageId)).toEqual({ seen: true, flagged: true, answered: false });
        expect(await account.flags(folders.inbox, b.messageId)).toEqual({ seen: false, flagged: false, answered: false });
        expect(await listed(account, folders.inbox, a.messageId)).toMatchObject({ is_read: true, is_flagged: true });

        expect(await json(account, 'mark', [a.id, '--unread'])).toMatchObject({ processed: 1, total: 1 });
        expect(await account.flags(folders.inbox, a.messageId)).toEqual({ seen: false, flagged: true, answered: false });
        expect(await json(account, 'mark', [a.id, '--unflagged'])).toMatchObject({ processed: 1, total: 1 });
        expect(await account.flags(folders.inbox, a.messageId)).toEqual({ seen: false, flagged: false, answered: false });
      });

      it('mark --query selects by search: all that match, nothing else', async () => {
        const q1 = await seedOne('Quince jam');
        const q2 = await seedOne('More quince', { seen: true });
        const other = await seedOne('Plum jam');
        expect(await json(account, 'mark', ['--query', 'subject:quince', '--flagged'])).toMatchObject({ processed: 2, total: 2 });
        expect(await account.flags(folders.inbox, q1.messageId)).toMatchObject({ flagged: true, seen: false });
        expect(await account.flags(folders.inbox, q2.messageId)).toMatchObject({ flagged: true, seen: true });
        expect(await account.flags(folders.inbox, other.messageId)).toMatchObject({ flagged: false });

        expect(await json(account, 'mark', ['--query', 'subject:quince is:unread', '--read'])).toMatchObject({ processed: 1, total: 1 });
        expect(await account.flags(folders.inbox, q1.messageId)).toMatchObject({ seen: true });
        expect(await json(account, 'mark', ['--query', 'subject:quince', '--unflagged', '--unread'])).toMatchObject({ processed: 2 });
        for (const m of [q1, q2]) expect(await account.flags(folders.inbox, m.messageId)).toEqual({ seen: false, flagged: false, answered: false });
        expect(await account.flags(folders.inbox, other.messageId)).toEqual({ seen: false, flagged: false, answered: false });
        // A query that matches nothing is no error.
        expect(await json(account, 'mark', ['--query', 'subject:durian', '--read'])).toMatchObject({ processed: 0, total: 0 });
      });

      it('read leaves the message unread (peek); read --mark-read marks it read', async () => {
        const m = await seedOne('Peek at me');
        const plain = await account.cli(['read', m.id]);
        expectExit(plain, 0, 'read');
        expect(plain.stdout).toContain('Subject: Peek at me');
        expect(await account.flags(folders.inbox, m.messageId)).toMatchObject({ seen: false });
        expectExit(await account.cli(['read', m.id, '--raw']), 0, 'read --raw');
        expectExit(await account.cli(['read', m.id, '--json']), 0, 'read --json');
        expect(await account.flags(folders.inbox, m.messageId)).toMatchObject({ seen: false });
        expect(await listed(account, folders.inbox, m.messageId)).toMatchObject({ is_read: false });

        expectExit(await account.cli(['read', m.id, '--mark-read']), 0, 'read --mark-read');
        expect(await account.flags(folders.inbox, m.messageId)).toMatchObject({ seen: true });
      });

      it('read of a message that is gone exits 5, as does an id that was never issued', async () => {
        const m = await seedOne('Soon gone');
        await account.expunge(folders.inbox, m.messageId);
        expectJsonError(await account.cli(['read', m.id, '--json']), 5, 'read of an expunged message');
        expectJsonError(await account.cli(['read', 'not-an-id', '--json']), 5, 'read not-an-id');
      });

      it('mark and move of a message that is gone exit 5 and change nothing', async () => {
        const m = await seedOne('Gone before marking');
        const other = await seedOne('Still here');
        await account.expunge(folders.inbox, m.messageId);
        expectJsonError(await account.cli(['mark', m.id, '--read', '--json']), 5, 'mark of an expunged message');
        expectJsonError(await account.cli(['move', m.id, '--to', folders.archive, '--json']), harness.lacks.move ? 6 : 5, 'move of an expunged message');
        expect(await account.flags(folders.inbox, other.messageId)).toEqual({ seen: false, flagged: false, answered: false });
        expect(await account.messageIds(folders.archive)).not.toContain(m.messageId);
      });

      const moveExit6 = (args: (id: string) => string[]) => async () => {
        const m = await seedOne('Cannot move');
        expectJsonError(await account.cli(['move', ...args(m.id), '--json']), 6, 'move');
        expect(await account.messageIds(folders.inbox)).toContain(m.messageId);
      };

      capable(
        'move',
        'move --to FOLDER: the message leaves the folder and is in the target',
        async () => {
          const m = await seedOne('Archive me');
          const stay = await seedOne('Stay here');
          const moved = await json<Record<string, unknown>>(account, 'move', [m.id, '--to', folders.archive]);
          expect(moved).toMatchObject({ action: expect.any(String), processed: 1, total: 1, to: folders.archive });
          expect(await account.messageIds(folders.archive)).toContain(m.messageId);
          const inbox = await account.messageIds(folders.inbox);
          expect(inbox).not.toContain(m.messageId);
          expect(inbox).toContain(stay.messageId);
          // And it lists there, with an id that reads it.
          const there = await listed(account, folders.archive, m.messageId);
          expect((await json<Record<string, unknown>>(account, 'read', [there.id])).subject).toBe('Archive me');
        },
        { title: 'move --to FOLDER exits 6 and leaves the message', test: moveExit6((id) => [id, '--to', folders.archive]) },
      );

      capable(
        'move',
        'move --trash: the message goes to the trash folder',
        async () => {
          const m = await seedOne('Trash me');
          expect(await json<Record<string, unknown>>(account, 'move', [m.id, '--trash'])).toMatchObject({ action: expect.any(String), processed: 1, total: 1, to: folders.trash });
          expect(await account.messageIds(folders.trash)).toContain(m.messageId);
          expect(await account.messageIds(folders.inbox)).not.toContain(m.messageId);
        },
        { title: 'move --trash exits 6 and leaves the message', test: moveExit6((id) => [id, '--trash']) },
      );

      capable(
        'move',
        'move --to a folder that does not exist exits 5 and leaves the message',
        async () => {
          const m = await seedOne('Nowhere to go');
          expectJsonError(await account.cli(['move', m.id, '--to', 'No/Such/Folder', '--json']), 5, 'move --to No/Such/Folder');
          expect(await account.messageIds(folders.inbox)).toContain(m.messageId);
        },
        { title: 'move --to a folder that does not exist exits 6 before looking', test: moveExit6((id) => [id, '--to', 'No/Such/Folder']) },
      );

      it('move --expunge without --yes is a usage error (2) and deletes nothing', async () => {
        const m = await seedOne('Not without yes');
        expectExit(await account.cli(['move', m.id, '--expunge', '--json']), 2, 'move --expunge');
        expect(await account.messageIds(folders.inbox)).toContain(m.messageId);
      });

      capable(
        'expunge',
        'move --expunge --yes deletes for good: gone from the folder and not in the trash',
        async () => {
          const m = await seedOne('Delete me for good');
          const keep = await seedOne('Keep me');
          expect(await json<Record<string, unknown>>(account, 'move', [m.id, '--expunge', '--yes'])).toMatchObject({ processed: 1, total: 1 });
          const inbox = await account.messageIds(folders.inbox);
          expect(inbox).not.toContain(m.messageId);
          expect(inbox).toContain(keep.messageId);
          expect(await account.messageIds(folders.trash)).not.toContain(m.messageId);
          expectJsonError(await account.cli(['read', m.id, '--json']), 5, 'read after expunge');
        },
        { title: 'move --expunge --yes exits 6 and deletes nothing', test: moveExit6((id) => [id, '--expunge', '--yes']) },
      );

      it('send to a local recipient: it arrives, and a copy is in Sent', async () => {
        const subject = `Conformance send ${Date.now()}`;
        const result = await account.cli(['send', '--json', '--to', account.address, '--subject', subject, '--body', 'Sent by the conformance suite.']);
        expectExit(result, 0, 'send');
        const receipt = parseJson<{ sent: boolean; message_id: string; accepted: string[]; rejected: string[]; saved_to: string | null }>(result);
        expect(receipt).toMatchObject({ sent: true, accepted: [account.address], rejected: [] });
        expect(receipt.message_id).toMatch(/^<.+@.+>$/);
        // saved_to names where the copy is, whether mailops put it there or the provider did.
        expect(receipt.saved_to).toBe(folders.sent);
        const inbox = await eventually(() => account.messageIds(folders.inbox), (ids) => ids.includes(receipt.message_id));
        expect(inbox).toContain(receipt.message_id);
        expect(await account.messageIds(folders.sent)).toContain(receipt.message_id);
        const arrived = await listed(account, folders.inbox, receipt.message_id);
        expect(arrived).toMatchObject({ subject, is_read: false });
        const body = await json<{ body_text: string }>(account, 'read', [arrived.id]);
        expect(body.body_text.trim()).toBe('Sent by the conformance suite.');
      });
    });

    describe('sync, then offline parity after changes by another client', () => {
      let account: ConformanceAccount;
      const at = arrivals('2025-03-01T08:00:00Z');
      const mail = Array.from({ length: 6 }, (_, i) =>
        message({ subject: `Parity ${i + 1}`, date: at(), messageId: `<parity-${i + 1}.g3@example.net>`, flags: { seen: i % 2 === 0, flagged: i === 4 } }),
      );
      const sync = async () => expectExit(await account.cli(['sync', '--json'], { timeoutMs: 120_000 }), 0, 'sync');

      /** `ls --offline --json` equals the live `ls --json` on ids, flags and order (and totals). */
      async function expectParity(args: string[]): Promise<ListJson> {
        const live = await json(account, 'ls', args);
        const offline = await json(account, 'ls', [...args, '--offline']);
        expect(projection(offline), `ls ${args.join(' ')}`).toEqual(projection(live));
        return live;
      }

      beforeAll(async () => {
        account = await harness.newAccount('conf-sync');
      }, 60_000);

      it('after a first sync, after flag changes, an expunge, new arrivals and a move, offline lists what the server does', async () => {
        await account.seed(folders.inbox, mail);
        await sync();
        const first = await expectParity([folders.inbox]);
        expect(first.messages.map((m) => m.subject)).toEqual(['Parity 6', 'Parity 5', 'Parity 4', 'Parity 3', 'Parity 2', 'Parity 1']);
        await expectParity([folders.archive]);

        // Another client: flags set and cleared, one message expunged, one moved, two new ones.
        const [p1, p2, p3, p4, p5, p6] = mail.map((m) => m.messageId) as [string, string, string, string, string, string];
        await account.setFlags(folders.inbox, p2, { seen: true, flagged: true });
        await account.setFlags(folders.inbox, p5, { seen: false, flagged: false });
        await account.setFlags(folders.inbox, p1, { answered: true });
        await account.expunge(folders.inbox, p3);
        await account.move(folders.inbox, p4, folders.archive);
        const arrivalsAfter = [1, 2].map((i) => message({ subject: `Arrived ${i}`, date: at(), messageId: `<arrived-${i}.g3@example.net>` }));
        for (const m of arrivalsAfter) await account.deliver(m);

        // Until the next sync the cache still says what it said.
        expect(projection(await json(account, 'ls', [folders.inbox, '--offline']))).toEqual(projection(first));

        await sync();
        const live = await expectParity([folders.inbox]);
        expect(live.messages.map((m) => m.message_id)).toEqual([arrivalsAfter[1]!.messageId, arrivalsAfter[0]!.messageId, p6, p5, p2, p1]);
        const truth = await Promise.all(live.messages.map((m) => account.flags(folders.inbox, m.message_id)));
        expect(live.messages.map((m) => ({ is_read: m.is_read, is_flagged: m.is_flagged }))).toEqual(truth.map((f) => ({ is_read: f!.seen, is_flagged: f!.flagged })));
        if (!harness.lacks.answered) expect(live.messages.find((m) => m.message_id === p1)!.flags).toContain('\\Answered');
        const archive = await expectParity([folders.archive]);
        expect(archive.messages.map((m) => m.message_id)).toEqual([p4]);

        type Counts = { folders: Array<{ path: string; role: string | null; unread_count: number; total_count: number }> };
        const liveFolders = await json<Counts>(account, 'folders', []);
        expect((await json<Counts>(account, 'folders', ['--offline'])).folders).toEqual(liveFolders.folders);
        expect(liveFolders.folders.find((f) => f.path === folders.inbox)).toMatchObject({ total_count: 6, unread_count: 4 });
        await expectParity([folders.inbox, '--limit', '4', '--page', '2']);
        await expectParity([folders.inbox, '--unread']);
        for (const query of ['is:unread', 'is:flagged', 'subject:parity', 'is:answered']) {
          const searchLive = await json(account, 'search', ['--', query]);
          expect(projection(await json(account, 'search', ['--offline', '--', query])), query).toEqual(projection(searchLive));
        }
        // Across folders each result names its folder: the moved message is found in the archive.
        const everywhere = await json(account, 'search', ['--all-folders', '--', 'subject:parity']);
        expect(everywhere.messages.map((m) => [m.message_id, m.folder])).toEqual([
          [p6, folders.inbox], [p5, folders.inbox], [p4, folders.archive], [p2, folders.inbox], [p1, folders.inbox],
        ]);
        expect(projection(await json(account, 'search', ['--all-folders', '--offline', '--', 'subject:parity']))).toEqual(projection(everywhere));
        // The offline ids are the live ones: they read the same message, and read it offline too.
        const offlineFirst = (await json(account, 'ls', [folders.inbox, '--offline'])).messages[0]!;
        const read = await json<{ subject: string }>(account, 'read', [offlineFirst.id, '--offline']);
        expect(read.subject).toBe('Arrived 2');
      });
    });
  });
}
