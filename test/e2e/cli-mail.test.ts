// folders, ls, read, send, mark, move and search against the bed's Dovecot and SMTP server,
// each result checked on the server independently (test/support/mailbox.ts).
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { receivedFor } from '../support/bed.js';
import { appendMessage, fetchSource, getFlags, listUids } from '../support/mailbox.js';
import { connectedAccount, jsonError, parseJson, textMessage, type Account } from './helpers.js';

const ATTACHMENT_MESSAGE = [
  'From: Carol <carol@example.org>',
  'To: bob@example.org',
  'Subject: =?UTF-8?B?UmVwb3J0IMOcYmVyc2ljaHQ=?=',
  'Date: Fri, 10 Jan 2025 08:00:00 +0100',
  'Message-ID: <attach-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=FC=DFe aus K=F6ln',
  '--b1',
  'Content-Type: application/octet-stream',
  'Content-Disposition: attachment; filename="../../etc/passwd"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('root:x:0:0\n').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

describe('reading mail', () => {
  let account: Account;
  const uids: number[] = [];

  beforeAll(async () => {
    account = await connectedAccount('reader');
    for (let i = 1; i <= 5; i++) {
      uids.push(await appendMessage(account.user, 'INBOX', textMessage({ subject: `Message ${i}`, body: `Body ${i}` }), i <= 2 ? ['\\Seen'] : []));
    }
    uids.push(await appendMessage(account.user, 'INBOX', ATTACHMENT_MESSAGE));
  });

  it('folders lists full paths with SPECIAL-USE roles and counts', async () => {
    const result = await account.cli(['folders', '--json']);
    expect(result.code).toBe(0);
    const folders = parseJson(result).folders as Array<{ path: string; role: string | null; unread_count: number; total_count: number }>;
    const byPath = Object.fromEntries(folders.map((f) => [f.path, f]));
    expect(byPath.INBOX).toMatchObject({ role: 'inbox', total_count: 6, unread_count: 4 });
    expect(byPath.Sent?.role).toBe('sent');
    expect(byPath.Trash?.role).toBe('trash');
    expect(byPath.Junk?.role).toBe('junk');

    const tsv = await account.cli(['folders']);
    expect(tsv.stdout.split('\n')).toContain('INBOX\tinbox\t4\t6');

    const offline = await account.cli(['folders', '--offline', '--json']);
    expect(parseJson(offline).folders).toEqual(parseJson(result).folders);
    expect(parseJson(offline).cache_synced_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(offline.stderr).toMatch(/from the cache/);
  });

  it('ls pages newest first with total and has_next, and the contract fields', async () => {
    const first = parseJson((await account.cli(['ls', '--limit', '4', '--json'])));
    expect(first).toMatchObject({ folder: 'INBOX', total: 6, page: 1, page_size: 4, has_next: true });
    expect(first.messages.map((m: { uid: number }) => m.uid)).toEqual([...uids].reverse().slice(0, 4));
    const m = first.messages[1];
    expect(Object.keys(m).sort()).toEqual(
      ['id', 'uid', 'folder', 'message_id', 'subject', 'from', 'to', 'cc', 'date', 'size', 'flags', 'is_read', 'is_flagged', 'has_attachments'].sort(),
    );
    expect(m).toMatchObject({ subject: 'Message 5', from: { name: 'Alice Example', address: 'alice@example.org' }, date: '2025-01-09T10:30:00Z', is_read: false, has_attachments: false });
    expect(first.messages[0]).toMatchObject({ subject: 'Report Übersicht', has_attachments: true });

    const second = parseJson((await account.cli(['ls', '--limit', '4', '--page', '2', '--json'])));
    expect(second).toMatchObject({ page: 2, has_next: false });
    expect(second.messages.map((x: { subject: string }) => x.subject)).toEqual(['Message 2', 'Message 1']);

    const unread = parseJson((await account.cli(['ls', '--unread', '--json'])));
    expect(unread.total).toBe(4);
    const empty = await account.cli(['ls', '--from', 'nobody-at-all', '--json']);
    expect(empty.code).toBe(0);
    expect(parseJson(empty)).toMatchObject({ messages: [], total: 0, has_next: false });

    const tsv = await account.cli(['ls', '--limit', '2']);
    const rows = tsv.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows).toHaveLength(2);
    expect(rows[1]).toEqual([first.messages[1].id, '2025-01-09T10:30:00Z', 'Alice Example <alice@example.org>', 'Message 5', 'N']);
  });

  it('ls of a missing folder exits 5; a bad date exits 2', async () => {
    const missing = await account.cli(['ls', 'No/Such/Folder', '--json']);
    expect(missing.code).toBe(5);
    expect(jsonError(missing).code).toBe('FOLDER_NOT_FOUND');
    const badDate = await account.cli(['ls', '--since', 'last tuesday']);
    expect(badDate.code).toBe(2);
  });

  it('read shows decoded headers, body and attachments without marking the message read', async () => {
    const id = parseJson((await account.cli(['ls', '--limit', '1', '--json']))).messages[0].id;
    const text = await account.cli(['read', id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Subject: Report Übersicht');
    expect(text.stdout).toContain('Grüße aus Köln');
    expect(text.stdout).toMatch(/passwd/);
    expect(await getFlags(account.user, 'INBOX', uids[5]!)).not.toContain('\\Seen');

    const json = parseJson((await account.cli(['read', id, '--json'])));
    expect(json).toMatchObject({ id, subject: 'Report Übersicht', body_text: expect.stringContaining('Grüße aus Köln'), message_id: '<attach-1@example.org>' });
    expect(json.attachments).toEqual([{ filename: expect.stringMatching(/passwd$/), content_type: 'application/octet-stream', size: 11 }]);
    expect(json).toHaveProperty('in_reply_to');
    expect(json).toHaveProperty('reply_to');
    expect(json).toHaveProperty('bcc');

    const marked = await account.cli(['read', id, '--mark-read']);
    expect(marked.code).toBe(0);
    expect(await getFlags(account.user, 'INBOX', uids[5]!)).toContain('\\Seen');
  });

  it('read --raw prints the message byte for byte as stored', async () => {
    const result = await account.cli(['read', String(uids[5]), '--raw']);
    expect(result.code).toBe(0);
    const stored = await fetchSource(account.user, 'INBOX', uids[5]!);
    expect(Buffer.from(result.stdout, 'utf8').equals(stored!)).toBe(true);
  });

  it('--save-attachments keeps hostile names inside DIR and never overwrites without --force', async () => {
    const dir = mkdtempSync(join(account.home, 'att-'));
    const saved = await account.cli(['read', String(uids[5]), '--save-attachments', dir]);
    expect(saved.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['passwd']);
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).toBe('root:x:0:0\n');

    writeFileSync(join(dir, 'passwd'), 'mine');
    const again = await account.cli(['read', String(uids[5]), '--save-attachments', dir]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).toBe('mine');
    const forced = await account.cli(['read', String(uids[5]), '--save-attachments', dir, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'passwd'), 'utf8')).toBe('root:x:0:0\n');
  });

  it('a message id that does not exist exits 5', async () => {
    const result = await account.cli(['read', '999999', '--json']);
    expect(result.code).toBe(5);
    expect(jsonError(result).code).toBe('MESSAGE_NOT_FOUND');
    const garbage = await account.cli(['read', 'not-an-id']);
    expect(garbage.code).toBe(5);
  });
});

describe('search', () => {
  let account: Account;

  beforeAll(async () => {
    account = await connectedAccount('searcher');
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'Quarterly report', from: 'Alice <alice@example.org>', body: 'numbers' }));
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'Lunch?', from: 'Bob <bob@example.org>', body: 'pizza' }), ['\\Seen']);
    await appendMessage(account.user, 'Archive', textMessage({ subject: 'Old report', from: 'Alice <alice@example.org>' }));
  });

  it('finds by the query language, in one folder or all of them', async () => {
    const result = parseJson((await account.cli(['search', 'from:alice', 'report', '--json'])));
    expect(result.messages.map((m: { subject: string }) => m.subject)).toEqual(['Quarterly report']);
    const orQuery = parseJson((await account.cli(['search', '(subject:lunch OR subject:quarterly) is:read', '--json'])));
    expect(orQuery.messages.map((m: { subject: string }) => m.subject)).toEqual(['Lunch?']);
    const all = parseJson((await account.cli(['search', 'from:alice', '--all-folders', '--json'])));
    expect(all.messages.map((m: { folder: string }) => m.folder).sort()).toEqual(['Archive', 'INBOX']);
  });

  it('--explain prints the IMAP SORT it would run (the bed\'s Dovecot has SORT)', async () => {
    const result = await account.cli(['search', 'from:alice is:unread', '--explain']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^UID SORT \(ARRIVAL\) UTF-8 /m);
    expect(result.stdout).toMatch(/FROM "?alice"?/);
    expect(result.stdout).toMatch(/UNSEEN/);
  });

  it('a malformed query exits 2 and points at the position', async () => {
    const result = await account.cli(['search', 'from:alice (is:unread']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/column \d+/);
  });
});

describe('changing mail', () => {
  it('mark sets and clears flags, by id or by --query', async () => {
    const account = await connectedAccount('marker');
    const a = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'one' }));
    const b = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'two' }));
    const result = await account.cli(['mark', String(a), '--read', '--flagged', '--json']);
    expect(parseJson(result)).toEqual({ action: 'read,flagged', processed: 1, total: 1, missing: [] });
    expect(await getFlags(account.user, 'INBOX', a)).toEqual(expect.arrayContaining(['\\Seen', '\\Flagged']));
    expect(await getFlags(account.user, 'INBOX', b)).not.toContain('\\Seen');

    const byQuery = await account.cli(['mark', '--query', 'subject:two', '--read', '--json']);
    expect(parseJson(byQuery)).toEqual({ action: 'read', processed: 1, total: 1, missing: [] });
    expect(await getFlags(account.user, 'INBOX', b)).toContain('\\Seen');

    const nothing = await account.cli(['mark', String(a)]);
    expect(nothing.code).toBe(2);
  });

  it('move --to, --trash and --expunge --yes act on exactly the selected messages', async () => {
    const account = await connectedAccount('mover');
    const keep = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'keep' }), ['\\Deleted']);
    const a = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'to archive' }));
    const b = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'to trash' }));
    const c = await appendMessage(account.user, 'INBOX', textMessage({ subject: 'gone' }));

    const moved = await account.cli(['move', String(a), '--to', 'Archive', '--json']);
    expect(parseJson(moved)).toEqual({ action: 'move', processed: 1, total: 1, to: 'Archive', missing: [] });
    const trashed = await account.cli(['move', String(b), '--trash', '--json']);
    expect(parseJson(trashed)).toMatchObject({ action: 'trash', processed: 1, to: 'Trash' });

    const unconfirmed = await account.cli(['move', String(c), '--expunge']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(await listUids(account.user, 'INBOX')).toContain(c);

    const expunged = await account.cli(['move', String(c), '--expunge', '--yes', '--json']);
    expect(parseJson(expunged)).toMatchObject({ action: 'expunge', processed: 1, total: 1 });
    // The message already flagged \Deleted by someone else is still there.
    expect(await listUids(account.user, 'INBOX')).toEqual([keep]);
    expect(await listUids(account.user, 'Archive')).toHaveLength(1);
    expect(await listUids(account.user, 'Trash')).toHaveLength(1);

    const noFolder = await account.cli(['move', String(keep), '--to', 'Nowhere', '--json']);
    expect(noFolder.code).toBe(5);
    expect(await listUids(account.user, 'INBOX')).toEqual([keep]);
  });

  it('send delivers, returns the receipt, and keeps a \\Seen copy in Sent', async () => {
    const sender = await connectedAccount('sender');
    const rcpt = await connectedAccount('rcpt');
    const result = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'Hello there', '--body', 'Plain body', '--html', '<p>Rich <b>body</b></p>', '--header', 'X-Ticket: 42', '--json']);
    expect(result.code).toBe(0);
    const receipt = parseJson(result);
    expect(receipt).toMatchObject({ sent: true, accepted: [rcpt.user.email], rejected: [], saved_to: 'Sent' });
    expect(receipt.message_id).toMatch(/^<.+@.+>$/);

    const inbox = parseJson((await rcpt.cli(['ls', '--json'])));
    expect(inbox.messages[0]).toMatchObject({ subject: 'Hello there', message_id: receipt.message_id });
    const read = parseJson((await rcpt.cli(['read', inbox.messages[0].id, '--json'])));
    expect(read.body_text.trim()).toBe('Plain body');
    expect(read.body_html).toContain('<b>body</b>');
    expect(receivedFor(rcpt.user.email).some((m) => m.raw.toString().includes('X-Ticket: 42'))).toBe(true);

    const sentUids = await listUids(sender.user, 'Sent');
    expect(sentUids).toHaveLength(1);
    expect(await getFlags(sender.user, 'Sent', sentUids[0]!)).toContain('\\Seen');
  });

  it('send --dry-run prints the message and sends nothing; --raw - sends a prepared message as it is', async () => {
    const sender = await connectedAccount('raw-sender');
    const rcpt = await connectedAccount('raw-rcpt');
    const dry = await sender.cli(['send', '--to', rcpt.user.email, '--subject', 'Dry', '--body', 'x', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Subject: Dry');
    expect(receivedFor(rcpt.user.email)).toHaveLength(0);

    const raw = textMessage({ subject: 'Prepared', from: sender.user.email, to: rcpt.user.email, messageId: '<prepared-1@example.org>' });
    const sent = await sender.cli(['send', '--raw', '-', '--no-save', '--json'], { input: raw });
    expect(sent.code).toBe(0);
    expect(parseJson(sent)).toMatchObject({ sent: true, message_id: '<prepared-1@example.org>', saved_to: null });
    const got = receivedFor(rcpt.user.email);
    expect(got).toHaveLength(1);
    expect(got[0]!.raw.toString()).toContain(raw.trimEnd());
    expect(await listUids(sender.user, 'Sent')).toHaveLength(0);
  });

  it('send with a rejected recipient reports it and exits 1; with no body source on a pipe it reads stdin', async () => {
    const sender = await connectedAccount('partial');
    const rcpt = await connectedAccount('partial-rcpt');
    const result = await sender.cli(['send', '--to', `${rcpt.user.email},someone@relay-denied.test`, '--subject', 'Partial', '--json'], { input: 'from stdin\n' });
    expect(result.code).toBe(1);
    expect(parseJson(result)).toMatchObject({ sent: true, accepted: [rcpt.user.email], rejected: ['someone@relay-denied.test'] });
    const inbox = parseJson((await rcpt.cli(['ls', '--json'])));
    const read = parseJson((await rcpt.cli(['read', inbox.messages[0].id, '--json'])));
    expect(read.body_text.trim()).toBe('from stdin');
  });
});

