// The --offline reads (ls, search, read, folders) against the cache `mailops sync` fills, compared
// field by field with the live commands on the same Dovecot mailbox, after each change on the server.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { withImap } from '../support/mailbox.js';
import { newUser } from '../support/bed.js';
import { makeHome, runCli, type CliResult } from '../support/cli.js';
import type { MailUser } from '../support/users.js';
import { connectedAccount, jsonError, parseJson, serverFlags, textMessage, type Account } from './helpers.js';

const ISO_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const ATTACHMENT_MESSAGE = [
  'From: Carol Jones <carol@example.org>',
  'To: Bob <bob@example.org>',
  'Subject: Invoice with attachment',
  'Date: Mon, 03 Jun 2024 09:00:00 +0000',
  'Message-ID: <invoice-7@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'The zebra invoice is attached.',
  '--b1',
  'Content-Type: application/pdf',
  'Content-Disposition: attachment; filename="invoice.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 not really').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

/** Appends with a chosen arrival time (INTERNALDATE), which since:/before: compare. */
async function append(user: MailUser, folder: string, raw: string, flags: string[], arrived: string): Promise<number> {
  return withImap(user, async (client) => {
    const result = await client.append(folder, raw, flags, new Date(arrived));
    if (!result || result.uid === undefined) throw new Error(`APPEND to ${folder} returned no UID`);
    return result.uid;
  });
}

async function seed(user: MailUser): Promise<void> {
  const m = (subject: string, body: string, extra: Partial<Parameters<typeof textMessage>[0]> = {}) => textMessage({ subject, body, ...extra });
  await append(user, 'INBOX', m('Kiwi report for March', 'The kiwi harvest numbers.', { date: 'Fri, 01 Mar 2024 10:00:00 +0000', messageId: '<kiwi-1@example.org>' }), ['\\Seen'], '2024-03-01T10:00:00Z');
  await append(user, 'INBOX', m('Lunch on Friday', 'Shall we meet at the station?', { from: 'Bob Builder <bob@builder.test>', to: 'Alice <alice@example.org>', date: 'Tue, 05 Mar 2024 12:00:00 +0000' }), [], '2024-03-05T12:00:00Z');
  await append(user, 'INBOX', ATTACHMENT_MESSAGE, ['\\Flagged'], '2024-06-03T09:00:00Z');
  await append(user, 'INBOX', m('Quarterly numbers', 'Mango sales went up. '.repeat(300), { from: 'Dave <dave@ops.test>', date: 'Mon, 01 Jul 2024 08:00:00 +0000' }), ['\\Seen', '\\Answered'], '2024-07-01T08:00:00Z');
  await append(user, 'INBOX', m('Disk full on web-3', 'zebra alert: disk at 99%', { from: 'Monitor <monitor@ops.test>', date: 'Wed, 08 Jan 2025 03:00:00 +0000' }), [], '2025-01-08T03:00:00Z');
  await append(user, 'INBOX', m('Re: Kiwi report for March', 'Thanks for the kiwi numbers.', { from: 'Erin <erin@example.org>', date: 'Thu, 09 Jan 2025 10:30:00 +0000' }), ['\\Seen', '\\Flagged'], '2025-01-09T10:30:00Z');
  await append(user, 'Archive', m('Old kiwi report', 'Archived kiwi numbers.', { date: 'Mon, 01 Jan 2024 10:00:00 +0000' }), ['\\Seen'], '2024-01-01T10:00:00Z');
}

/** `args` with flags put right after the command name, so a query like `-kiwi` can follow `--`. */
function withFlags(args: string[], ...flags: string[]): string[] {
  return [args[0]!, ...flags, ...args.slice(1)];
}

/** The JSON of a command, asserting it succeeded. */
async function json(account: Account, args: string[]): Promise<any> {
  const result = await account.cli(withFlags(args, '--json'));
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
  return parseJson(result);
}

/** Offline output must equal the live output field by field, plus `cache_synced_at`. */
async function expectOfflineAgrees(account: Account, args: string[]): Promise<any> {
  const live = await json(account, args);
  const offline = await json(account, withFlags(args, '--offline'));
  expect(offline.cache_synced_at, args.join(' ')).toMatch(ISO_SECONDS);
  const { cache_synced_at: _, ...rest } = offline;
  expect(rest, args.join(' ')).toEqual(live);
  return live;
}

async function sync(account: Account): Promise<void> {
  const result = await account.cli(['sync', '--json']);
  expect(result.code, result.stderr).toBe(0);
}

/** Each query and how many INBOX messages of the seed it matches (live and offline alike). */
const QUERIES: Record<string, number> = {
  'kiwi': 2,
  'kiwi numbers': 2,
  '"kiwi report"': 2,
  'zebra': 2,
  'from:bob': 1,
  'from:"Alice Example"': 1,
  'from:example.org': 3,
  'to:alice': 1,
  'cc:nobody': 0,
  'subject:kiwi': 2,
  'subject:report': 2,
  'body:mango': 1,
  'message-id:<kiwi-1@example.org>': 1,
  'message-id:invoice-7@example.org': 1,
  'is:unread': 3,
  'is:read': 3,
  'is:flagged': 2,
  'is:unflagged': 4,
  'is:answered': 1,
  'has:attachment': 1,
  'since:2024-06-03': 4,
  'before:2024-06-03': 2,
  'since:2024-03-01 before:2024-03-06': 2,
  'larger:4K': 1,
  'smaller:4K': 5,
  'from:bob OR is:flagged': 3,
  '-kiwi': 4,
  'NOT (is:read OR has:attachment)': 2,
  '(kiwi OR zebra) is:unread': 2,
  '-from:example.org -is:answered': 2,
};

describe('offline reads', () => {
  let account: Account;

  beforeAll(async () => {
    account = await connectedAccount('offline');
    await seed(account.user);
  });

  it('before any sync the cache is empty: empty lists, exit 0, and a note that says so', async () => {
    for (const args of [['ls'], ['search', 'kiwi'], ['search', 'kiwi', '--all-folders'], ['ls', 'No/Such/Folder']]) {
      const result = await account.cli([...args, '--offline', '--json']);
      expect(result.code, args.join(' ')).toBe(0);
      expect(parseJson(result)).toMatchObject({ messages: [], total: 0, has_next: false, cache_synced_at: null });
      expect(result.stderr).toMatch(/cache is empty/);
    }
    const read = await account.cli(['read', '1', '--offline', '--json']);
    expect(read.code).toBe(5);
    expect(jsonError(read)).toMatchObject({ code: 'MESSAGE_NOT_FOUND', hint: expect.stringContaining('without --offline') });
  });

  it('after a sync, ls --offline agrees with ls field by field: pages, filters, folders', async () => {
    await sync(account);
    await expectOfflineAgrees(account, ['ls']);
    await expectOfflineAgrees(account, ['ls', '--limit', '4']);
    await expectOfflineAgrees(account, ['ls', '--limit', '4', '--page', '2']);
    await expectOfflineAgrees(account, ['ls', '--limit', '4', '--page', '3']);
    await expectOfflineAgrees(account, ['ls', '--unread']);
    await expectOfflineAgrees(account, ['ls', '--from', 'ops.test']);
    await expectOfflineAgrees(account, ['ls', '--since', '2024-06-01', '--before', '2025-01-09']);
    await expectOfflineAgrees(account, ['ls', 'Archive']);
    await expectOfflineAgrees(account, ['ls', '--folder', 'inbox']);
    const page = await json(account, ['ls', '--offline']);
    expect(page.messages).toHaveLength(6);
    expect(page.messages[0]).toMatchObject({ subject: 'Re: Kiwi report for March', is_read: true, is_flagged: true, date: '2025-01-09T10:30:00Z' });

    const note = await account.cli(['ls', '--offline']);
    expect(note.stderr).toMatch(/from the cache, \d+s old/);
    expect(note.stdout.trim().split('\n')).toHaveLength(6);
  });

  for (const [query, count] of Object.entries(QUERIES)) {
    it(`search --offline ${query} finds what search finds`, async () => {
      const live = await expectOfflineAgrees(account, ['search', '--', query]);
      expect(live.total).toBe(count);
    });
  }

  it('search --offline pages, takes --folder and merges --all-folders as search does', async () => {
    await expectOfflineAgrees(account, ['search', 'kiwi', '--folder', 'Archive']);
    await expectOfflineAgrees(account, ['search', 'is:read', '--limit', '2', '--page', '2']);
    // Several folders are merged newest first by date, live and offline.
    await expectOfflineAgrees(account, ['search', 'kiwi', '--all-folders']);
    const all = await json(account, ['search', 'kiwi', '--all-folders', '--offline']);
    expect(all.messages.map((m: { folder: string }) => m.folder)).toEqual(['INBOX', 'INBOX', 'Archive']);
  });

  it('search --offline --explain shows the SQL with the values as parameters', async () => {
    const result = await account.cli(['search', 'from:"x\'; DROP TABLE messages; --"', 'is:unread', '--offline', '--explain']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^SELECT .* FROM memberships f JOIN messages m .* WHERE f\.account = \? AND f\.folder = \? AND /);
    expect(result.stdout.split('\n')[0]).not.toContain('DROP');
    expect(result.stdout).toContain('-- parameters: ');
  });

  it('read --offline --json shows what read --json shows, from the stored bytes', async () => {
    const ids: string[] = (await json(account, ['ls', '--offline'])).messages.map((m: { id: string }) => m.id);
    for (const id of ids) {
      const live = await json(account, ['read', id]);
      const offline = await json(account, ['read', id, '--offline']);
      expect(offline.cache_synced_at).toMatch(ISO_SECONDS);
      const { cache_synced_at: _, ...rest } = offline;
      expect(rest).toEqual(live);
    }
  });

  it('read --offline prints the same text and the same raw bytes as read', async () => {
    const ids: string[] = (await json(account, ['ls', '--offline'])).messages.map((m: { id: string }) => m.id);
    const attachment = ids[3]!;
    const liveText = await account.cli(['read', attachment]);
    const offlineText = await account.cli(['read', attachment, '--offline']);
    expect(offlineText.code).toBe(0);
    expect(offlineText.stdout).toBe(liveText.stdout);
    expect(offlineText.stdout).toContain('invoice.pdf');
    expect(offlineText.stderr).toMatch(/from the cache/);
    const liveRaw = await account.cli(['read', attachment, '--raw']);
    const offlineRaw = await account.cli(['read', attachment, '--raw', '--offline']);
    expect(offlineRaw.stdout).toBe(liveRaw.stdout);
    expect(offlineRaw.stdout).toBe(ATTACHMENT_MESSAGE);
    // A bare UID in --folder works too.
    const uid = (await json(account, ['ls', '--offline'])).messages[3].uid;
    expect((await json(account, ['read', String(uid), '--offline'])).message_id).toBe('<invoice-7@example.org>');
  });

  it('read --offline refuses --mark-read, and reports ids it cannot serve with exit 5', async () => {
    const id = (await json(account, ['ls', '--offline'])).messages[0].id;
    const mark = await account.cli(['read', id, '--offline', '--mark-read']);
    expect(mark.code).toBe(2);
    const missing = await account.cli(['read', '9999', '--offline', '--json']);
    expect(missing.code).toBe(5);
    expect(jsonError(missing).code).toBe('MESSAGE_NOT_FOUND');
    const folder = await account.cli(['ls', 'No/Such/Folder', '--offline', '--json']);
    expect(folder.code).toBe(5);
    expect(jsonError(folder).code).toBe('FOLDER_NOT_FOUND');
  });

  it('folders --offline agrees with folders and tells when the cache was synced', async () => {
    const live = await json(account, ['folders']);
    const offline = await json(account, ['folders', '--offline']);
    expect(offline.folders).toEqual(live.folders);
    expect(offline.cache_synced_at).toMatch(ISO_SECONDS);
  });

  it('stays as old as the last sync while the server changes, and agrees again after the next sync', async () => {
    const before = await json(account, ['ls', '--offline']);
    const newest = before.messages[0];
    // Changes on the server: a flag, a new message, a message moved away.
    expect((await account.cli(['mark', newest.id, '--unread'])).code).toBe(0);
    await append(account.user, 'INBOX', textMessage({ subject: 'Fresh kiwi', body: 'new arrival', date: 'Sat, 01 Feb 2025 00:00:00 +0000' }), [], '2025-02-01T00:00:00Z');
    expect((await account.cli(['move', before.messages[1].id, '--to', 'Archive'])).code).toBe(0);

    const stale = await json(account, ['ls', '--offline']);
    expect(stale.messages).toEqual(before.messages);
    expect(stale.cache_synced_at).toBe(before.cache_synced_at);

    await sync(account);
    await expectOfflineAgrees(account, ['ls']);
    await expectOfflineAgrees(account, ['ls', 'Archive']);
    for (const query of ['kiwi', 'is:unread', 'is:flagged', 'since:2025-01-01']) await expectOfflineAgrees(account, ['search', '--', query]);
    await expectOfflineAgrees(account, ['search', 'kiwi', '--all-folders']);
    const after = await json(account, ['ls', '--offline']);
    expect(after.messages[0]).toMatchObject({ subject: 'Fresh kiwi' });
    expect(after.cache_synced_at >= before.cache_synced_at).toBe(true);
  });
});

describe('offline reads need no server and no password', () => {
  it('work with the password command failing and never run it', async () => {
    const user = newUser('offline-nopw');
    const home = makeHome();
    const secretFile = join(home, 'pw.txt');
    const marker = join(home, 'password-command-ran');
    writeFileSync(secretFile, user.password + '\n', { mode: 0o600 });
    const cli = (args: string[]) => runCli(args, { home });
    const connect = await cli(['connect', 'main', ...serverFlags(user), '--password-cmd', `touch '${marker}'; cat '${secretFile}'`]);
    expect(connect.code, connect.stderr).toBe(0);
    await append(user, 'INBOX', textMessage({ subject: 'Cached while the server was up', body: 'kiwi' }), [], '2025-01-09T10:30:00Z');
    expect((await cli(['sync', '--json'])).code).toBe(0);
    const id = parseJson(await cli(['ls', '--offline', '--json'])).messages[0].id;

    // Now the password is gone: anything that asked for it would run the command and fail.
    rmSync(secretFile);
    rmSync(marker);
    const runs: CliResult[] = [
      await cli(['ls', '--offline', '--json', '--trace']),
      await cli(['search', 'kiwi', '--offline', '--json', '--trace']),
      await cli(['search', 'kiwi', '--all-folders', '--offline', '--json', '--trace']),
      await cli(['read', id, '--offline', '--json', '--trace']),
      await cli(['folders', '--offline', '--json', '--trace']),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/\[imap\]/);
    }
    expect(parseJson(runs[0]!).messages[0].subject).toBe('Cached while the server was up');
    expect(parseJson(runs[1]!).total).toBe(1);
    expect(parseJson(runs[3]!).body_text).toContain('kiwi');
    expect(existsSync(marker)).toBe(false);

    // The live command does need it, and says so.
    const live = await cli(['ls', '--json']);
    expect(live.code).toBe(3);
    expect(existsSync(marker)).toBe(true);
  });

  it('work with the server unreachable', async () => {
    const account = await connectedAccount('offline-down');
    await append(account.user, 'INBOX', textMessage({ subject: 'Before the outage', body: 'zebra' }), [], '2025-01-09T10:30:00Z');
    await sync(account);
    // Point the account at a port nothing listens on, the way a repair with wrong settings would leave it.
    const { openDatabase } = await import('../../src/store/db.js');
    const db = openDatabase(account.home);
    const row = db.prepare("SELECT config FROM accounts WHERE name = 'main'").get() as { config: string };
    const config = JSON.parse(row.config);
    config.imap.port = 1;
    db.prepare("UPDATE accounts SET config = ? WHERE name = 'main'").run(JSON.stringify(config));
    db.close();

    const down = await account.cli(['ls', '--json', '--timeout', '5']);
    expect(down.code).toBe(4);
    const offline = await account.cli(['search', 'zebra', '--offline', '--json']);
    expect(offline.code, offline.stderr).toBe(0);
    expect(parseJson(offline).messages.map((m: { subject: string }) => m.subject)).toEqual(['Before the outage']);
  });
});

describe('read --offline of a message synced without its content', () => {
  it('exits 5 with NOT_CACHED and a hint to read it live', async () => {
    const account = await connectedAccount('offline-headers');
    await append(account.user, 'INBOX', textMessage({ subject: 'Headers only', body: 'not stored' }), [], '2025-01-09T10:30:00Z');
    const synced = await account.cli(['sync', '--headers-only', '--json']);
    expect(synced.code, synced.stderr).toBe(0);
    const listed = await json(account, ['ls', '--offline']);
    expect(listed.messages.map((m: { subject: string }) => m.subject)).toEqual(['Headers only']);
    const id = listed.messages[0].id;

    const result = await account.cli(['read', id, '--offline', '--json']);
    expect(result.code).toBe(5);
    expect(jsonError(result)).toMatchObject({ code: 'NOT_CACHED', hint: expect.stringContaining('without --offline') });
    const text = await account.cli(['read', id, '--offline']);
    expect(text.code).toBe(5);
    expect(text.stderr).toMatch(/without its content/);
    // Live, it reads fine.
    expect((await account.cli(['read', id])).stdout).toContain('not stored');
  });
});
