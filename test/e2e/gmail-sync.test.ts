// `mailops sync` of a Gmail API account against the Gmail fake: the first listing, history
// afterwards (label changes as membership changes, never a refetch), an expired history
// reconciled by id, a kill -9 in the middle of the first sync, and --on-new. Request counts at
// the fake are asserted where they are the point.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, runCli, startCli, type CliOptions, type CliResult } from '../support/cli.js';
import { startGmailBed, type GmailBed } from '../support/gmail-bed.js';
import { runPty } from '../support/pty.js';
import { PASSPHRASE, cachedRows, parseJson } from './helpers.js';

let bed: GmailBed;

beforeAll(async () => {
  bed = await startGmailBed({ quota: { unitsPerWindow: Infinity } });
});

afterAll(async () => {
  await bed?.stop();
});

interface Home {
  email: string;
  home: string;
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

async function connected(label: string): Promise<Home> {
  const email = bed.newUser(label);
  const home = makeHome();
  const env = { ...bed.env(), FAKE_BROWSER_LOG: bed.browserLog(), MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20' };
  const h: Home = { email, home, cli: (args, opts = {}) => runCli(args, { home, timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } }) };
  const result = await h.cli(['connect', 'g', '--provider', 'gmail', '--email', email, '--client-id', bed.client.clientId, '--client-secret', bed.client.clientSecret, '--secret-store', 'file', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return h;
}

function rfc822(subject: string, body = `Body of ${subject}.\r\n`): string {
  return `From: Bob <bob@example.org>\r\nTo: ann@example.com\r\nSubject: ${subject}\r\nDate: Tue, 2 Jun 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n${body}`;
}

async function sync(h: Home, ...extra: string[]) {
  const result = await h.cli(['sync', '--json', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return parseJson(result).accounts[0];
}

const ids = (list: { messages: Array<{ id: string }> }) => list.messages.map((m) => m.id);


describe('sync of a Gmail API account', () => {
  it('first sync stores each message once with its labels as folders; offline answers as live; then history, one request when nothing changed', async () => {
    const h = await connected('first');
    const work = bed.gmail.addLabel(h.email, 'Work');
    const news = bed.gmail.addLabel(h.email, 'News');
    const three = bed.gmail.addMessage(h.email, rfc822('three labels kiwi'), { labelIds: ['INBOX', work, news, 'UNREAD'], internalDate: Date.UTC(2026, 5, 3) });
    const plain = bed.gmail.addMessage(h.email, rfc822('inbox only'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 5, 2) });
    const spam = bed.gmail.addMessage(h.email, rfc822('spammy'), { labelIds: ['SPAM'], internalDate: Date.UTC(2026, 5, 1) });

    const first = await sync(h);
    expect(first).toMatchObject({ status: 'ok', new: 3, error: null });
    expect(first.quota_units).toBeGreaterThan(0);
    expect(cachedRows(h.home)).toBe(3);

    for (const folder of ['INBOX', 'Work', 'News']) {
      const listed = parseJson(await h.cli(['ls', folder, '--offline', '--json']));
      expect(ids(listed)).toEqual(folder === 'INBOX' ? [three.id, plain.id] : [three.id]);
    }
    expect(ids(parseJson(await h.cli(['ls', '@junk', '--offline', '--json'])))).toEqual([spam.id]);
    expect(ids(parseJson(await h.cli(['ls', '@all', '--offline', '--json'])))).toEqual([three.id, plain.id]);
    const live = parseJson(await h.cli(['ls', 'INBOX', '--json']));
    const offline = parseJson(await h.cli(['ls', 'INBOX', '--offline', '--json']));
    const fields = (l: { messages: Array<Record<string, unknown>> }) => l.messages.map(({ id, subject, from, date, is_read, is_flagged, has_attachments }) => ({ id, subject, from, date, is_read, is_flagged, has_attachments }));
    expect(fields(offline)).toEqual(fields(live));
    expect((await h.cli(['read', three.id, '--offline', '--raw'])).stdout).toBe(rfc822('three labels kiwi'));
    expect(ids(parseJson(await h.cli(['search', '--offline', '--json', '--folder', 'Work', '--', 'kiwi'])))).toEqual([three.id]);

    bed.gmail.clearRequests();
    const quiet = await sync(h);
    expect(quiet).toMatchObject({ status: 'ok', new: 0, updated: 0, deleted: 0 });
    expect(bed.gmail.requests({ user: h.email }).map((r) => r.api)).toEqual(['history.list']);
  });

  it('history: a label change is a membership change with no refetch; new mail is fetched; deleted mail goes; trash is a label', async () => {
    const h = await connected('history');
    const work = bed.gmail.addLabel(h.email, 'Work');
    const a = bed.gmail.addMessage(h.email, rfc822('alpha'), { labelIds: ['INBOX', 'UNREAD'], internalDate: Date.UTC(2026, 5, 1) });
    const b = bed.gmail.addMessage(h.email, rfc822('bravo'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 5, 2) });
    const c = bed.gmail.addMessage(h.email, rfc822('charlie'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 5, 3) });
    await sync(h);

    // Another client: a label added and UNREAD taken off, b trashed, c deleted, d arrives (the
    // fake's mailbox records history as its API does).
    const mailbox = bed.gmail.mailbox(h.email);
    mailbox.modify(a.id, [work, 'STARRED'], ['UNREAD']);
    mailbox.trash(b.id);
    mailbox.delete(c.id);
    const d = bed.gmail.addMessage(h.email, rfc822('delta'), { labelIds: ['INBOX', 'UNREAD'], internalDate: Date.UTC(2026, 5, 4) });

    bed.gmail.clearRequests();
    const result = await sync(h);
    expect(result).toMatchObject({ status: 'ok', new: 1, deleted: 1 });
    const gets = bed.gmail.requests({ api: 'messages.get', user: h.email });
    expect(gets.map((r) => r.path)).toEqual([`/gmail/v1/users/me/messages/${d.id}`]);

    expect(ids(parseJson(await h.cli(['ls', 'INBOX', '--offline', '--json'])))).toEqual([d.id, a.id]);
    expect(ids(parseJson(await h.cli(['ls', 'Work', '--offline', '--json'])))).toEqual([a.id]);
    expect(ids(parseJson(await h.cli(['ls', '@trash', '--offline', '--json'])))).toEqual([b.id]);
    const alpha = parseJson(await h.cli(['ls', 'Work', '--offline', '--json'])).messages[0];
    expect(alpha).toMatchObject({ is_read: true, is_flagged: true });
    expect((await h.cli(['read', c.id, '--offline'])).code).toBe(5);
    expect(cachedRows(h.home)).toBe(3);
  });

  it('an expired history is a resync reconciled by id: deleted mail goes, kept mail is not fetched whole again', async () => {
    const h = await connected('expired');
    const keep = bed.gmail.addMessage(h.email, rfc822('keep me'), { labelIds: ['INBOX'] });
    const drop = bed.gmail.addMessage(h.email, rfc822('drop me'), { labelIds: ['INBOX'] });
    await sync(h);
    bed.gmail.mailbox(h.email).delete(drop.id);
    const added = bed.gmail.addMessage(h.email, rfc822('while away'), { labelIds: ['INBOX', 'STARRED'] });
    bed.gmail.expireHistory(h.email);

    bed.gmail.clearRequests();
    const result = await sync(h);
    expect(result).toMatchObject({ status: 'ok', new: 1, deleted: 1 });
    const gets = bed.gmail.requests({ api: 'messages.get', user: h.email });
    const formats = gets.map((r) => `${r.path.split('/').pop()} ${new URLSearchParams(r.query).get('format')}`);
    expect(formats.sort()).toEqual([`${added.id} raw`, `${keep.id} minimal`].sort());
    expect(ids(parseJson(await h.cli(['ls', 'INBOX', '--offline', '--json']))).sort()).toEqual([added.id, keep.id].sort());
    expect((await h.cli(['read', keep.id, '--offline', '--raw'])).stdout).toBe(rfc822('keep me'));

    bed.gmail.clearRequests();
    await sync(h);
    expect(bed.gmail.requests({ user: h.email }).map((r) => r.api)).toEqual(['history.list']);
  });

  it('a first sync of some folders, then a plain sync: the rest is listed and fetched once, the covered mail never again', async () => {
    const h = await connected('widen');
    const work = bed.gmail.addLabel(h.email, 'Work');
    const inbox = bed.gmail.addMessage(h.email, rfc822('in the inbox'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 5, 1) });
    const both = bed.gmail.addMessage(h.email, rfc822('inbox and work'), { labelIds: ['INBOX', work], internalDate: Date.UTC(2026, 5, 2) });
    const archived = bed.gmail.addMessage(h.email, rfc822('work only'), { labelIds: [work], internalDate: Date.UTC(2026, 5, 3) });

    bed.gmail.clearRequests();
    expect(await sync(h, '--folders', 'INBOX')).toMatchObject({ status: 'ok', new: 2 });
    expect(cachedRows(h.home)).toBe(2);
    // Listed by its label, not the whole mailbox fetched and sorted out.
    expect(bed.gmail.requests({ api: 'messages.get', user: h.email })).toHaveLength(2);

    // Meanwhile a new message in Work only: history sees it, but Work is not covered yet.
    const later = bed.gmail.addMessage(h.email, rfc822('work later'), { labelIds: [work], internalDate: Date.UTC(2026, 5, 4) });
    bed.gmail.clearRequests();
    expect(await sync(h, '--folders', 'INBOX')).toMatchObject({ status: 'ok', new: 0 });
    expect(bed.gmail.requests({ api: 'messages.get', user: h.email })).toHaveLength(0);

    bed.gmail.clearRequests();
    expect(await sync(h)).toMatchObject({ status: 'ok', new: 2 });
    const fetched = bed.gmail.requests({ api: 'messages.get', user: h.email }).map((r) => r.path.split('/').pop());
    expect(fetched.sort()).toEqual([archived.id, later.id].sort());
    expect(ids(parseJson(await h.cli(['ls', 'Work', '--offline', '--json'])))).toEqual([later.id, archived.id, both.id]);
    expect(ids(parseJson(await h.cli(['ls', 'INBOX', '--offline', '--json'])))).toEqual([both.id, inbox.id]);

    bed.gmail.clearRequests();
    await sync(h);
    expect(bed.gmail.requests({ user: h.email }).map((r) => r.api)).toEqual(['history.list']);
  });

  it('a quota smaller than the sync needs is waited out (429 with Retry-After), or paced under when told (MAILOPS_GMAIL_QUOTA); quota_units as spent', async () => {
    const h = await connected('quota');
    for (let i = 0; i < 60; i++) bed.gmail.addMessage(h.email, rfc822(`paced ${i}`), { labelIds: ['INBOX'] });
    // 1,000 units in 2 s: the 60 gets (1,200 units) cannot all pass at once.
    bed.gmail.setQuota({ unitsPerWindow: 1000, windowMs: 2000 });
    try {
      bed.gmail.clearRequests();
      const throttled = await sync(h, '--max-time', '60');
      expect(throttled).toMatchObject({ status: 'ok', new: 60, error: null });
      expect(bed.gmail.requests({ user: h.email, status: 429 }).length).toBeGreaterThan(0);
      expect(cachedRows(h.home)).toBe(60);
      // Refused parts were asked again: the client counts at least what Google kept.
      expect(throttled.quota_units).toBeGreaterThanOrEqual(bed.gmail.unitsSpent(h.email));

      // The same first sync with the client told the quota (a little under Google's, for the
      // clocks): no refusal at all, and quota_units is what Google counted.
      bed.gmail.clearRequests();
      const result = await h.cli(['sync', '--json', '--full', '--max-time', '60'], { env: { MAILOPS_GMAIL_QUOTA: '1000/2.5s' } });
      expect(result.code, result.stderr).toBe(0);
      const paced = parseJson(result).accounts[0];
      expect(paced).toMatchObject({ status: 'ok', new: 60 });
      expect(bed.gmail.requests({ user: h.email, status: 429 })).toHaveLength(0);
      expect(paced.quota_units).toBe(bed.gmail.unitsSpent(h.email));
      expect(cachedRows(h.home)).toBe(60);
    } finally {
      bed.gmail.setQuota({ unitsPerWindow: Infinity });
    }
  });

  it('killed with SIGKILL in the middle of the first sync, the next run finishes it: nothing lost, nothing twice', async () => {
    const h = await connected('kill');
    const seeded: string[] = [];
    for (let i = 0; i < 450; i++) seeded.push(bed.gmail.addMessage(h.email, rfc822(`bulk ${i}`), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 0, 1) + i * 60_000 }).id);
    // Slow batches, so the run is still going when the first page of 200 is committed.
    bed.gmail.inject({ path: '/batch/gmail/v1', delayMs: 700, times: 8 });
    const running = startCli(['sync', '--json'], { home: h.home, timeoutMs: 120_000, env: { ...bed.env(), MAILOPS_PASSPHRASE: PASSPHRASE } });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      let rows = 0;
      try {
        rows = cachedRows(h.home);
      } catch {
        rows = 0;
      }
      if (rows > 0) break;
    }
    running.child.kill('SIGKILL');
    await running.result;
    const partial = cachedRows(h.home);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(450);

    const resumed = await sync(h);
    expect(resumed.status).toBe('ok');
    expect(cachedRows(h.home)).toBe(450);
    const listed = parseJson(await h.cli(['ls', 'INBOX', '--offline', '--json', '--limit', '1000']));
    expect(new Set(ids(listed))).toEqual(new Set(seeded));
    expect(listed.total).toBe(450);
  });

  it('a terminal sees a progress bar (messages of the total, MB, rate, ETA) on stderr; a pipe and --json never do', async () => {
    const h = await connected('bar');
    for (let i = 0; i < 120; i++) bed.gmail.addMessage(h.email, rfc822(`bar ${i}`), { labelIds: ['INBOX'] });
    bed.gmail.inject({ path: '/batch/gmail/v1', delayMs: 300, times: 4 });
    const tty = await runPty(['sync'], { home: h.home, timeoutMs: 60_000, env: { ...bed.env(), MAILOPS_PASSPHRASE: PASSPHRASE } });
    expect(tty.code, tty.text).toBe(0);
    expect(tty.text).toMatch(/g \[[█░]+\] \d+\/120 messages, [\d.]+ MB, \d+\/s, ETA /);
    // The table of the run follows on stdout; the bar was cleared from the screen.
    expect(tty.text).toMatch(/ACCOUNT\s+STATUS/);

    bed.gmail.addMessage(h.email, rfc822('one more'), { labelIds: ['INBOX'] });
    const piped = await h.cli(['sync']);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toMatch(/messages, .* MB|ETA/);
  });

  it('--on-new hands each new message over once across runs; --mark-read marks it read at Gmail', async () => {
    const h = await connected('onnew');
    const log = `${h.home}/handed.log`;
    const hook = `cat >/dev/null; echo "$MAILOPS_GMAIL_ID" >> ${log}`;
    const first = bed.gmail.addMessage(h.email, rfc822('first'), { labelIds: ['INBOX', 'UNREAD'] });
    await sync(h, '--on-new', hook, '--mark-read');
    const second = bed.gmail.addMessage(h.email, rfc822('second'), { labelIds: ['INBOX', 'UNREAD'] });
    await sync(h, '--on-new', hook, '--mark-read');
    await sync(h, '--on-new', hook, '--mark-read');
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual([first.id, second.id].sort());
    for (const m of [first, second]) expect([...bed.gmail.mailbox(h.email).message(m.id).labelIds]).not.toContain('UNREAD');
  });
});
