// The edges of the command-line contract, run as a user would: timeouts and Ctrl-C against a
// server that never answers, every way of composing a message, date filters at the day boundary,
// paging past the end, NDJSON, folder names beyond ASCII, several accounts in one home, and two
// homes side by side. Each result is checked on the server independently (test/support/mailbox.ts).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changePassword } from '../support/users.js';
import { mailBed, newUser, receivedFor } from '../support/bed.js';
import { makeHome, runCli, startCli } from '../support/cli.js';
import { appendMessage, createFolder, fetchSource, listUids, withImap } from '../support/mailbox.js';
import { startSilentServer } from '../support/failure-servers.js';
import { PASSPHRASE, accountsIn, connectedAccount, expectNoSecret, jsonError, parseJson, serverFlags, textMessage, type Account } from './helpers.js';

const fileStore = { MAILOPS_PASSPHRASE: PASSPHRASE };

/** Server flags with one endpoint pointed elsewhere. */
function flagsWith(user: ReturnType<typeof newUser>, kind: 'imap' | 'smtp', port: number, tls: string): string[] {
  const flags = serverFlags(user);
  flags[flags.indexOf(`--${kind}-port`) + 1] = String(port);
  flags[flags.indexOf(`--${kind}-tls`) + 1] = tls;
  return flags;
}

/** The messages of an `ls`/`search` JSON page, or of NDJSON lines. */
type Message = { id: string; uid: number; folder: string; subject: string; date: string };
const subjects = (messages: Message[]) => messages.map((m) => m.subject);

// Concurrent: these tests mostly wait, each on its own connection.
describe.concurrent('a server that never answers', () => {
  let silent: Awaited<ReturnType<typeof startSilentServer>>;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(async () => {
    await silent.stop();
  });

  for (const tls of ['starttls', 'implicit'] as const) {
    it(`--timeout 2 gives up on IMAP (${tls}) after about 2 s: exit 4, TIMEOUT, nothing saved`, async () => {
      const user = newUser(`timeout-${tls}`);
      const home = makeHome();
      const started = Date.now();
      const result = await runCli(['connect', 'x', ...flagsWith(user, 'imap', silent.port, tls), '--secret-store', 'file', '--password-env', 'PW', '--timeout', '2', '--json'], {
        home,
        env: { ...fileStore, PW: user.password },
      });
      const elapsed = Date.now() - started;
      expect(result.code, result.stderr).toBe(4);
      expect(jsonError(result)).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining(`127.0.0.1:${silent.port}`), hint: expect.any(String) });
      expect(result.stdout).toBe('');
      // It waited for the timeout given, not the default 30 s, and did not fail before it.
      expect(elapsed).toBeGreaterThanOrEqual(1800);
      expect(elapsed).toBeLessThan(10_000);
      expect(await accountsIn(home)).toEqual([]);
    });
  }

  it('--timeout applies to SMTP too: the IMAP login works, SMTP never greets, nothing is saved', async () => {
    const user = newUser('timeout-smtp');
    const home = makeHome();
    const started = Date.now();
    const result = await runCli(['connect', 'x', ...flagsWith(user, 'smtp', silent.port, 'starttls'), '--secret-store', 'file', '--password-env', 'PW', '--timeout', '2', '--json'], {
      home,
      env: { ...fileStore, PW: user.password },
    });
    expect(result.code, result.stderr).toBe(4);
    expect(jsonError(result).code).toBe('TIMEOUT');
    expect(jsonError(result).message).toContain('SMTP');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await accountsIn(home)).toEqual([]);
    expectNoSecret(user.password, home, result.stdout, result.stderr);
  });

  it('SIGINT stops a waiting command at once: exit 130, an "interrupted" error, nothing saved', async () => {
    const user = newUser('sigint');
    const home = makeHome();
    // A server of its own: the next connection to it is this command's.
    const own = await startSilentServer();
    const connected = own.nextConnection();
    const running = startCli(['connect', 'x', ...flagsWith(user, 'imap', own.port, 'starttls'), '--secret-store', 'file', '--password-env', 'PW', '--timeout', '60', '--json'], {
      home,
      env: { ...fileStore, PW: user.password },
    });
    // Should it fail before it reaches the server, say how instead of waiting for the test timeout.
    const early = await Promise.race([connected.then(() => null), running.result]);
    expect(early, 'mailops exited before it connected').toBeNull();
    const signalled = Date.now();
    running.child.kill('SIGINT');
    const result = await running.result;
    await own.stop();
    expect(result.code, result.stderr).toBe(130);
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(jsonError(result).code).toBe('INTERRUPTED');
    expect(result.stdout).toBe('');
    expect(await accountsIn(home)).toEqual([]);
  });
});

describe('send, every way of composing', () => {
  let sender: Account;
  let rcpt: Account;
  beforeAll(async () => {
    [sender, rcpt] = await Promise.all([connectedAccount('compose-from'), connectedAccount('compose-to')]);
  });

  /** The newest message of an account's INBOX, as `read --json` shows it. */
  async function newestRead(account: Account, extra: string[] = []) {
    const ls = parseJson(await account.cli(['ls', '--limit', '1', '--json']));
    expect(ls.messages).toHaveLength(1);
    const read = await account.cli(['read', ls.messages[0].id, '--json', ...extra]);
    expect(read.code, read.stderr).toBe(0);
    return parseJson(read);
  }

  it('--attach: two files, one binary, arrive byte for byte', async () => {
    const dir = mkdtempSync(join(sender.home, 'attach-'));
    const text = join(dir, 'notes.txt');
    const binary = join(dir, 'blob.bin');
    writeFileSync(text, 'line one\nline two\n');
    // Every byte value, then random bytes: nothing may be lost to a text conversion.
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(5000)]);
    writeFileSync(binary, bytes);

    const sent = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'Two files', '--body', 'see attached', '--attach', text, '--attach', binary, '--json']);
    expect(sent.code, sent.stderr).toBe(0);

    const read = await newestRead(rcpt);
    expect(read).toMatchObject({ subject: 'Two files', has_attachments: true });
    expect(read.body_text.trim()).toBe('see attached');
    expect(read.attachments).toEqual([
      { filename: 'notes.txt', content_type: 'text/plain', size: 18 },
      { filename: 'blob.bin', content_type: 'application/octet-stream', size: bytes.length },
    ]);
    const out = mkdtempSync(join(rcpt.home, 'saved-'));
    const saved = await rcpt.cli(['read', read.id, '--save-attachments', out]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['blob.bin', 'notes.txt']);
    expect(readFileSync(join(out, 'blob.bin')).equals(bytes)).toBe(true);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('line one\nline two\n');
  });

  it('--cc and --bcc: everyone receives it, no recipient sees Bcc, the Sent copy keeps it', async () => {
    const [cc, bcc] = await Promise.all([connectedAccount('compose-cc'), connectedAccount('compose-bcc')]);
    const sentBefore = await listUids(sender.user, 'Sent');
    const result = await sender.cli(['send', '--to', rcpt.user.email, '--cc', cc.user.email, '--bcc', bcc.user.email, '--subject', 'Blind', '--body', 'hi', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).accepted.sort()).toEqual([rcpt.user.email, cc.user.email, bcc.user.email].sort());

    for (const account of [rcpt, cc, bcc]) {
      const uids = await listUids(account.user, 'INBOX');
      const raw = (await fetchSource(account.user, 'INBOX', uids[uids.length - 1]!))!.toString();
      expect(raw).toContain('Subject: Blind');
      expect(raw).toMatch(new RegExp(`^Cc: ${cc.user.email}`, 'm'));
      expect(raw, `Bcc header delivered to ${account.user.email}`).not.toMatch(/^Bcc:/im);
      // Only the blind recipient's own copy may name it (Delivered-To).
      if (account !== bcc) expect(raw).not.toContain(bcc.user.email);
    }
    const fromCc = await newestRead(cc);
    expect(fromCc.cc).toEqual([{ name: '', address: cc.user.email }]);
    expect(fromCc.bcc).toEqual([]);

    const sentAfter = await listUids(sender.user, 'Sent');
    expect(sentAfter).toHaveLength(sentBefore.length + 1);
    const copy = (await fetchSource(sender.user, 'Sent', sentAfter[sentAfter.length - 1]!))!.toString();
    expect(copy).toMatch(new RegExp(`^Bcc: ${bcc.user.email}`, 'm'));
    const sentList = parseJson(await sender.cli(['ls', 'Sent', '--limit', '1', '--json']));
    const sentRead = parseJson(await sender.cli(['read', sentList.messages[0].id, '--json']));
    expect(sentRead.bcc).toEqual([{ name: '', address: bcc.user.email }]);
  });

  it('--reply-to, --body-file and --html-file alone', async () => {
    const dir = mkdtempSync(join(sender.home, 'bodies-'));
    writeFileSync(join(dir, 'body.txt'), 'Dear team,\n\nthe body from a file.\n');
    writeFileSync(join(dir, 'page.html'), '<html><body><h1>Outage</h1><p>All <b>systems</b> are back.</p><ul><li>mail</li><li>web</li></ul></body></html>');

    const fromFile = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'From a file', '--body-file', join(dir, 'body.txt'), '--reply-to', 'Help Desk <help@example.org>']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const read = await newestRead(rcpt);
    expect(read.subject).toBe('From a file');
    expect(read.body_text).toBe('Dear team,\n\nthe body from a file.\n');
    expect(read.body_html).toBeNull();
    expect(read.reply_to).toEqual([{ name: 'Help Desk', address: 'help@example.org' }]);

    const html = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'HTML only', '--html-file', join(dir, 'page.html')]);
    expect(html.code, html.stderr).toBe(0);
    const readHtml = await newestRead(rcpt);
    expect(readHtml.subject).toBe('HTML only');
    expect(readHtml.body_html).toContain('<b>systems</b>');
    // No text part: the text body is the HTML rendered as text (no tags left).
    expect(readHtml.body_text).toMatch(/OUTAGE|Outage/);
    expect(readHtml.body_text).toMatch(/All systems are back\./);
    expect(readHtml.body_text).toMatch(/mail[\s\S]*web/);
    expect(readHtml.body_text).not.toMatch(/<[a-z/]/i);
    const raw = receivedFor(rcpt.user.email).find((m) => m.raw.toString().includes('Subject: HTML only'))!.raw.toString();
    expect(raw).toMatch(/^Content-Type: text\/html/im);
    expect(raw).not.toMatch(/text\/plain/i);
  });

  it('--trace shows the SMTP conversation with the login redacted in every encoding', async () => {
    const result = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'traced', '--body', 'x', '--trace']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\[smtp\] C: .*AUTH/i);
    expect(result.stderr).toMatch(/\[smtp\] S: 2\d\d/);
    const { user, password } = sender.user;
    const encodings = [password, `\0${user}\0${password}`, `${user}\0${user}\0${password}`].map((s) => Buffer.from(s).toString('base64'));
    for (const secret of [password, ...encodings]) expect(result.stderr).not.toContain(secret);
    expectNoSecret(password, sender.home, result.stdout, result.stderr);
  });

  it('a malformed --header is a usage error (exit 2) and nothing is sent', async () => {
    const before = receivedFor(rcpt.user.email).length;
    for (const header of ['NoColonHere', 'Bad Name: x', ': empty name']) {
      const result = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'never', '--body', 'x', '--header', header, '--json']);
      expect(result.code, header).toBe(2);
      expect(jsonError(result).message).toContain(header);
      expect(jsonError(result).hint).toContain('--header');
    }
    expect(receivedFor(rcpt.user.email)).toHaveLength(before);
  });

  it('--raw FILE sends the prepared message as it is, its envelope from its headers', async () => {
    const file = join(sender.home, 'prepared.eml');
    const raw = textMessage({ subject: 'Prepared from a file', from: sender.user.email, to: rcpt.user.email, messageId: `<raw-file-${Date.now()}@example.org>`, body: 'prepared body' });
    writeFileSync(file, raw);
    const result = await sender.cli(['send', '--raw', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result)).toMatchObject({ sent: true, accepted: [rcpt.user.email], saved_to: 'Sent' });
    const uids = await listUids(rcpt.user, 'INBOX');
    const stored = (await fetchSource(rcpt.user, 'INBOX', uids[uids.length - 1]!))!.toString();
    expect(stored).toContain(raw.trimEnd());
    const missing = await sender.cli(['send', '--raw', join(sender.home, 'no-such.eml')]);
    expect(missing.code).toBe(2);
  });
});

// Concurrent: the tests only read the shared account, or make their own.
describe.concurrent('listing: dates, pages, NDJSON, folder names', () => {
  let account: Account;

  /** Appends with a given arrival time (INTERNALDATE) and Date header. */
  async function appendAt(folder: string, subject: string, arrival: string, dateHeader = arrival): Promise<number> {
    const raw = textMessage({ subject, date: new Date(dateHeader).toUTCString().replace('GMT', '+0000') });
    return withImap(account.user, async (client) => {
      const result = await client.append(folder, raw, [], new Date(arrival));
      return (result as { uid: number }).uid;
    });
  }

  beforeAll(async () => {
    account = await connectedAccount('lister');
    // Around the boundary of 2025-03-10 (UTC, the CLI's time zone in these tests).
    await appendAt('INBOX', 'last minute of the 9th', '2025-03-09T23:59:30Z');
    await appendAt('INBOX', 'first minute of the 10th', '2025-03-10T00:00:30Z');
    await appendAt('INBOX', 'last minute of the 10th', '2025-03-10T23:59:30Z');
    await appendAt('INBOX', 'first minute of the 11th', '2025-03-11T00:00:30Z');
    // Dated weeks earlier, arrived on the 10th.
    await appendAt('INBOX', 'old Date header', '2025-03-10T12:00:00Z', '2025-02-01T12:00:00Z');
  });

  it('--since is inclusive and --before exclusive, by the day of arrival in the local time zone', async () => {
    const ls = async (args: string[], env: Record<string, string> = {}) => {
      const result = await account.cli(['ls', ...args, '--json'], { env });
      expect(result.code, result.stderr).toBe(0);
      return subjects(parseJson(result).messages).sort();
    };
    expect(await ls(['--since', '2025-03-10', '--before', '2025-03-11'])).toEqual(['first minute of the 10th', 'last minute of the 10th', 'old Date header']);
    expect(await ls(['--since', '2025-03-11'])).toEqual(['first minute of the 11th']);
    expect(await ls(['--before', '2025-03-10'])).toEqual(['last minute of the 9th']);
    // Five hours behind UTC, the 10th starts at 05:00 UTC.
    expect(await ls(['--since', '2025-03-10', '--before', '2025-03-11'], { TZ: 'Etc/GMT+5' })).toEqual(['first minute of the 11th', 'last minute of the 10th', 'old Date header']);
    // The query language agrees with the flags.
    const search = await account.cli(['search', 'since:2025-03-10 before:2025-03-11', '--json']);
    expect(subjects(parseJson(search).messages).sort()).toEqual(['first minute of the 10th', 'last minute of the 10th', 'old Date header']);
  });

  it('a page beyond the end is an empty list and exit 0', async () => {
    const json = await account.cli(['ls', '--limit', '2', '--page', '99', '--json']);
    expect(json.code).toBe(0);
    expect(parseJson(json)).toMatchObject({ folder: 'INBOX', messages: [], total: 5, page: 99, page_size: 2, has_next: false });
    const tsv = await account.cli(['ls', '--page', '99']);
    expect(tsv.code).toBe(0);
    expect(tsv.stdout).toBe('');
    const ndjson = await account.cli(['ls', '--page', '99', '--ndjson']);
    expect(ndjson.code).toBe(0);
    expect(ndjson.stdout).toBe('');
    const search = await account.cli(['search', 'minute', '--page', '5', '--json']);
    expect(search.code).toBe(0);
    expect(parseJson(search)).toMatchObject({ messages: [], total: 4, has_next: false });
  });

  it('--ndjson prints one JSON object a line for ls, search and folders, the same objects as --json', async () => {
    const lines = (stdout: string) => {
      expect(stdout.endsWith('\n')).toBe(true);
      return stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const ls = await account.cli(['ls', '--limit', '3', '--ndjson']);
    expect(ls.code).toBe(0);
    const lsJson = parseJson(await account.cli(['ls', '--limit', '3', '--json']));
    expect(lines(ls.stdout)).toEqual(lsJson.messages);

    const search = await account.cli(['search', 'subject:minute', '--ndjson']);
    expect(search.code).toBe(0);
    expect(lines(search.stdout).map((m) => m.subject)).toHaveLength(4);
    expect(lines(search.stdout).every((m) => typeof m.id === 'string' && m.folder === 'INBOX')).toBe(true);

    const folders = await account.cli(['folders', '--ndjson']);
    expect(folders.code).toBe(0);
    const foldersJson = parseJson(await account.cli(['folders', '--json']));
    expect(lines(folders.stdout)).toEqual(foldersJson.folders);
    expect(lines(folders.stdout).map((f) => Object.keys(f).sort())[0]).toEqual(['id', 'name', 'path', 'role', 'total_count', 'unread_count']);
  });

  it('search --all-folders pages through the merged, newest-first list without losing or repeating a message', async () => {
    const other = await connectedAccount('all-folders');
    const dates = ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04', '2025-01-05', '2025-01-06', '2025-01-07'];
    const folderFor = ['INBOX', 'Archive', 'INBOX', 'Sent', 'Archive', 'INBOX', 'Archive'];
    // Arrived on those days (INTERNALDATE): --all-folders merges by arrival, as each folder is listed.
    await withImap(other.user, async (client) => {
      for (const [i, day] of dates.entries()) {
        const arrival = new Date(`${day}T10:00:00Z`);
        await client.append(folderFor[i]!, textMessage({ subject: `pageme ${i + 1}`, date: arrival.toUTCString().replace('GMT', '+0000') }), [], arrival);
      }
    });
    await appendMessage(other.user, 'INBOX', textMessage({ subject: 'not this one' }));

    const seen: Message[] = [];
    for (let page = 1; page <= 4; page++) {
      const result = await other.cli(['search', 'subject:pageme', '--all-folders', '--limit', '3', '--page', String(page), '--json']);
      expect(result.code, result.stderr).toBe(0);
      const body = parseJson(result);
      expect(body).toMatchObject({ total: 7, page, page_size: 3, has_next: page < 3 });
      if (page === 4) expect(body.messages).toEqual([]);
      seen.push(...body.messages);
    }
    expect(subjects(seen)).toEqual(['pageme 7', 'pageme 6', 'pageme 5', 'pageme 4', 'pageme 3', 'pageme 2', 'pageme 1']);
    expect(seen.map((m) => m.folder)).toEqual([...folderFor].reverse());
    expect(new Set(seen.map((m) => m.id)).size).toBe(7);

    const ndjson = await other.cli(['search', 'subject:pageme', '--all-folders', '--limit', '3', '--page', '3', '--ndjson']);
    expect(ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l).subject)).toEqual(['pageme 1']);
  });

  it('a folder named beyond ASCII (Entwürfe/Ärger) is listed, read and moved into by its path', async () => {
    const other = await connectedAccount('umlaut');
    const path = 'Entwürfe/Ärger';
    await createFolder(other.user, path);
    const uid = await appendMessage(other.user, path, textMessage({ subject: 'Ärger im Büro', body: 'Grüße' }));

    const folders = parseJson(await other.cli(['folders', '--json'])).folders as Array<{ path: string; name: string }>;
    expect(folders).toContainEqual(expect.objectContaining({ path, name: 'Ärger' }));
    const tsv = await other.cli(['folders']);
    expect(tsv.stdout.split('\n').some((l) => l.startsWith(`${path}\t`))).toBe(true);

    const ls = await other.cli(['ls', path, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = parseJson(ls);
    expect(listed.folder).toBe(path);
    expect(listed.messages).toEqual([expect.objectContaining({ subject: 'Ärger im Büro', folder: path, uid })]);

    const read = await other.cli(['read', listed.messages[0].id, '--json']);
    expect(read.code, read.stderr).toBe(0);
    expect(parseJson(read)).toMatchObject({ subject: 'Ärger im Büro', folder: path, body_text: expect.stringContaining('Grüße') });
    const byUid = await other.cli(['read', String(uid), '--folder', path]);
    expect(byUid.code, byUid.stderr).toBe(0);
    expect(byUid.stdout).toContain('Subject: Ärger im Büro');

    const inbox = await appendMessage(other.user, 'INBOX', textMessage({ subject: 'file me' }));
    const moved = await other.cli(['move', String(inbox), '--to', path, '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(parseJson(moved)).toMatchObject({ processed: 1, to: path });
    expect(await listUids(other.user, path)).toHaveLength(2);
    const found = parseJson(await other.cli(['search', 'subject:"file me"', '--all-folders', '--json']));
    expect(found.messages.map((m: Message) => m.folder)).toEqual([path]);
  });
});

describe('several accounts in one home', () => {
  let home: string;
  let first: ReturnType<typeof newUser>;
  let second: ReturnType<typeof newUser>;
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { home, env: { ...fileStore, ...env } });

  beforeAll(async () => {
    home = makeHome();
    first = newUser('multi-first');
    second = newUser('multi-second');
    for (const [name, user] of [['first', first], ['second', second]] as const) {
      const result = await cli(['connect', name, ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW'], { PW: user.password });
      expect(result.code, result.stderr).toBe(0);
      await appendMessage(user, 'INBOX', textMessage({ subject: `mail of ${name}` }));
    }
  });

  const inboxOf = async (args: string[], env: Record<string, string> = {}) => {
    const result = await cli(['ls', '--json', ...args], env);
    expect(result.code, result.stderr).toBe(0);
    return subjects(parseJson(result).messages);
  };

  it('the first connected is the default; -a beats MAILOPS_ACCOUNT, which beats the default; connect --default switches it', async () => {
    expect(await inboxOf([])).toEqual(['mail of first']);
    expect(await inboxOf(['-a', 'second'])).toEqual(['mail of second']);
    expect(await inboxOf([], { MAILOPS_ACCOUNT: 'second' })).toEqual(['mail of second']);
    expect(await inboxOf(['--account', 'first'], { MAILOPS_ACCOUNT: 'second' })).toEqual(['mail of first']);
    const unknown = await cli(['ls', '--json'], { MAILOPS_ACCOUNT: 'third' });
    expect(unknown.code).toBe(5);
    expect(jsonError(unknown)).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', hint: expect.stringContaining('first') });

    const switched = await cli(['connect', 'second', '--default', '--json']);
    expect(switched.code, switched.stderr).toBe(0);
    expect(parseJson(switched).account).toMatchObject({ name: 'second', is_default: true, repaired: true });
    expect(await inboxOf([])).toEqual(['mail of second']);
    const back = await cli(['connect', 'first', '--default']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('(default account)');
    expect(await inboxOf([])).toEqual(['mail of first']);
  });

  it('status lists both; with one broken the exit code is the broken one\'s; -a checks only the one named', async () => {
    const healthy = await cli(['status', '--json']);
    expect(healthy.code).toBe(0);
    expect(parseJson(healthy).accounts.map((a: { name: string }) => a.name).sort()).toEqual(['first', 'second']);

    // Someone changed the second account's password on the server.
    await changePassword(mailBed().usersDir, second.email, `changed-${randomBytes(4).toString('hex')}`);
    const broken = await cli(['status', '--json']);
    expect(broken.code).toBe(3);
    const rows = Object.fromEntries(parseJson(broken).accounts.map((a: { name: string }) => [a.name, a]));
    expect(rows.first).toMatchObject({ state: 'active', is_healthy: true, last_error: null });
    expect(rows.second).toMatchObject({ state: 'needs_reauth', is_healthy: false, last_error: expect.stringMatching(/rejected the login/) });

    const onlyFirst = await cli(['status', '-a', 'first', '--json']);
    expect(onlyFirst.code).toBe(0);
    expect(parseJson(onlyFirst).accounts.map((a: { name: string }) => a.name)).toEqual(['first']);
    const onlySecond = await cli(['status', 'second', '--json']);
    expect(onlySecond.code).toBe(3);
    expect(parseJson(onlySecond).accounts.map((a: { name: string }) => a.name)).toEqual(['second']);
    // The broken account does not stop the other one from working.
    expect(await inboxOf(['-a', 'first'])).toEqual(['mail of first']);
  });
});

describe('two homes', () => {
  it('never see each other\'s accounts or keychain secrets, even with the same account name', async () => {
    const [homeA, homeB] = [makeHome(), makeHome()];
    const [userA, userB] = [newUser('home-a'), newUser('home-b')];
    await appendMessage(userA, 'INBOX', textMessage({ subject: 'in home A' }));
    await appendMessage(userB, 'INBOX', textMessage({ subject: 'in home B' }));
    const inHome = (home: string) => (args: string[], opts: { input?: string } = {}) => runCli(args, { home, keychain: true, ...opts });
    const [a, b] = [inHome(homeA), inHome(homeB)];

    // The same name, different users and passwords, both in the keychain.
    for (const [cli, user] of [[a, userA], [b, userB]] as const) {
      const result = await cli(['connect', 'work', ...serverFlags(user), '--password-stdin', '--json'], { input: user.password + '\n' });
      expect(result.code, result.stderr).toBe(0);
      expect(parseJson(result).account).toMatchObject({ name: 'work', email: user.email, secret_store: 'keychain' });
    }
    const subjectsIn = async (cli: typeof a) => {
      const result = await cli(['ls', '--json']);
      expect(result.code, result.stderr).toBe(0);
      return subjects(parseJson(result).messages);
    };
    expect(await subjectsIn(a)).toEqual(['in home A']);
    expect(await subjectsIn(b)).toEqual(['in home B']);
    const statusA = parseJson(await a(['status', '--json'])).accounts;
    expect(statusA).toEqual([expect.objectContaining({ name: 'work', email: userA.email, is_healthy: true })]);

    // Disconnecting in one home deletes only that home's secret.
    const gone = await a(['disconnect', 'work']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(await accountsIn(homeA, {})).toEqual([]);
    const statusB = await b(['status', '--json']);
    expect(statusB.code, statusB.stderr).toBe(0);
    expect(parseJson(statusB).accounts).toEqual([expect.objectContaining({ name: 'work', email: userB.email, state: 'active' })]);
    expect(await subjectsIn(b)).toEqual(['in home B']);

    for (const [home, user] of [[homeA, userA], [homeB, userB]] as const) expectNoSecret(user.password, home);
    expectNoSecret(userB.password, homeA);
  });
});
