// Outlook over Microsoft Graph from the command line: `connect --provider outlook` (the api
// backend by default) through MSAL, the test authorization server (Microsoft flavour) and the fake
// browser, then every command and sync against the local Graph fake (test/support/graph-bed.ts).
// Asserted: output, exit codes, what the fake saw (request counts where they are the point) and
// holds, and that no token is left on disk or in a trace.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, runCli, startCli, type CliOptions, type CliResult } from '../support/cli.js';
import { makeServerCert } from '../support/certs.js';
import { startGraphBed, type GraphBed } from '../support/graph-bed.js';
import { PASSPHRASE, cachedRows, expectNoSecret, jsonError, parseJson, subjectMessage } from './helpers.js';

let bed: GraphBed;

beforeAll(async () => {
  bed = await startGraphBed();
});

afterAll(async () => {
  await bed?.stop();
});

interface Home {
  email: string;
  home: string;
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

function newHome(label: string, env: Record<string, string> = {}): Home {
  const email = bed.newUser(label);
  const home = makeHome();
  const base = { ...bed.env(), FAKE_BROWSER_LOG: bed.browserLog(), MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20', ...env };
  return { email, home, cli: (args, opts = {}) => runCli(args, { home, ...opts, env: { ...base, ...opts.env } }) };
}

const connectArgs = (h: Home, ...extra: string[]) => [
  'connect', 'o', '--provider', 'outlook', '--email', h.email, '--client-id', bed.client.clientId, '--tenant', bed.tenant, '--secret-store', 'file', '--json', ...extra,
];

async function connected(label: string, ...extra: string[]): Promise<Home> {
  const h = newHome(label);
  const result = await h.cli(connectArgs(h, ...extra));
  expect(result.code, result.stderr).toBe(0);
  return h;
}

/** The fake's requests for one user, by what they were. */
const calls = (email: string, api?: string) => bed.graph.requests({ user: email }).filter((r) => api === undefined || r.api === api);
const box = (email: string) => bed.graph.mailbox(email);
const inFolder = (email: string, path: string) => box(email).inFolder(box(email).folderByPath(path.split('/')).id);

describe('connect --provider outlook: Microsoft Graph by default', () => {
  it('asks for Mail.ReadWrite and Mail.Send, checks the inbox, saves an api account; every command then works with immutable ids', async () => {
    const h = newHome('api');
    bed.graph.addMessage(h.email, subjectMessage('hello kiwi'), { receivedDateTime: Date.UTC(2026, 5, 2) });
    bed.graph.addMessage(h.email, subjectMessage('older mango'), { receivedDateTime: Date.UTC(2026, 5, 1), isRead: true });
    const projects = bed.graph.addFolder(h.email, 'inbox', 'Projects');
    bed.graph.addFolder(h.email, projects.id, 'Café/2026');
    const connected = await h.cli(connectArgs(h));
    expect(connected.code, connected.stderr).toBe(0);
    const account = parseJson(connected).account;
    expect(account).toMatchObject({ provider: 'outlook', backend: 'api', email: h.email });
    expect(account.oauth.scopes.map((s: string) => s.replace('https://graph.microsoft.com/', ''))).toEqual(expect.arrayContaining(['Mail.ReadWrite', 'Mail.Send']));
    expect(calls(h.email, 'mailFolders.get').length).toBeGreaterThanOrEqual(1);

    const folders = parseJson(await h.cli(['folders', '--json'])).folders as Array<{ path: string; role: string | null; total_count: number }>;
    expect(folders.find((f) => f.path === 'Inbox')).toMatchObject({ role: 'inbox', total_count: 2 });
    expect(folders.find((f) => f.path === 'Sent Items')).toMatchObject({ role: 'sent' });
    expect(folders.find((f) => f.path === 'Deleted Items')).toMatchObject({ role: 'trash' });
    // Nested, non-ASCII, and a / inside a name written \/.
    expect(folders.map((f) => f.path)).toContain('Inbox/Projects/Café\\/2026');

    const list = parseJson(await h.cli(['ls', '--json']));
    expect(list.messages.map((m: { subject: string }) => m.subject)).toEqual(['hello kiwi', 'older mango']);
    expect(list).toMatchObject({ total: 2, has_next: false });
    const [first, second] = list.messages;
    expect(first).toMatchObject({ is_read: false, uid: null, from: { name: 'Bob', address: 'bob@example.org' } });

    const raw = await h.cli(['read', first.id, '--raw']);
    expect(raw.stdout).toBe(subjectMessage('hello kiwi'));
    expect(box(h.email).message(first.id).isRead).toBe(false);

    const found = parseJson(await h.cli(['search', '--json', '--', 'subject:kiwi']));
    expect(found.messages.map((m: { id: string }) => m.id)).toEqual([first.id]);
    expect(calls(h.email, 'messages.list').some((r) => /\$search/.test(decodeURIComponent(r.query)))).toBe(true);
    expect((await h.cli(['search', '--explain', '--', 'subject:kiwi is:unread'])).stdout).toMatch(/\$search="subject:kiwi"/);

    expect(parseJson(await h.cli(['mark', first.id, '--read', '--flagged', '--json']))).toMatchObject({ processed: 1, total: 1 });
    expect(box(h.email).message(first.id)).toMatchObject({ isRead: true, flagStatus: 'flagged' });

    // A move keeps the id: ls of the target prints the same one, and read takes it.
    const moved = await h.cli(['move', first.id, '--to', 'Inbox/Projects', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(inFolder(h.email, 'Inbox/Projects').map((m) => m.immutableId)).toEqual([first.id]);
    expect(parseJson(await h.cli(['ls', 'Inbox/Projects', '--json'])).messages.map((m: { id: string }) => m.id)).toEqual([first.id]);
    expect((await h.cli(['read', first.id, '--raw'])).stdout).toBe(subjectMessage('hello kiwi'));

    expect((await h.cli(['move', first.id, '--trash', '--json'])).code).toBe(0);
    expect(inFolder(h.email, 'Deleted Items').map((m) => m.immutableId)).toEqual([first.id]);
    const gone = await h.cli(['move', second.id, '--expunge', '--yes', '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(box(h.email).messages.has(second.id)).toBe(false);

    const sent = await h.cli(['send', '--to', 'carol@example.net', '--subject', 'graph send', '--body', 'hi', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(parseJson(sent)).toMatchObject({ sent: true, saved_to: 'Sent Items' });
    expect(bed.graph.sent().at(-1)?.recipients).toEqual(['carol@example.net']);

    // Every request asked for immutable ids, batch parts included.
    const all = calls(h.email);
    expect(all.length).toBeGreaterThan(10);
    expect(all.filter((r) => r.api !== 'batch' && !r.immutableIds)).toEqual([]);

    const traced = await h.cli(['ls', '--trace', '--json']);
    expect(traced.code).toBe(0);
    expect(traced.stderr).toMatch(/authorization: Bearer \[REDACTED\]/);
    const issued = bed.idp.issuedSecrets();
    expect(issued.length).toBeGreaterThan(0);
    for (const secret of issued) expectNoSecret(secret, h.home, traced.stderr, traced.stdout, connected.stdout, connected.stderr);
  });

  it('--read-only asks for Mail.Read: reading works; mark, move and send exit 3 before Graph is asked to change anything', async () => {
    const h = newHome('readonly');
    const m = bed.graph.addMessage(h.email, subjectMessage('read only'));
    const connected = await h.cli(connectArgs(h, '--read-only'));
    expect(connected.code, connected.stderr).toBe(0);
    expect(parseJson(connected).account.oauth.scopes.map((s: string) => s.replace('https://graph.microsoft.com/', ''))).not.toContain('Mail.ReadWrite');
    expect(parseJson(await h.cli(['ls', '--json'])).messages).toHaveLength(1);
    const before = calls(h.email).length;
    for (const args of [
      ['mark', m.immutableId, '--read', '--json'],
      ['move', m.immutableId, '--trash', '--json'],
      ['send', '--to', 'carol@example.net', '--subject', 'no', '--body', 'no', '--json'],
    ]) {
      const refused = await h.cli(args);
      expect(refused.code, args.join(' ')).toBe(3);
      expect(jsonError(refused).code).toBe('INSUFFICIENT_SCOPE');
    }
    expect(calls(h.email).length).toBe(before);
    expect(box(h.email).message(m.immutableId).isRead).toBe(false);
  });

  it('send above the 4 MB request limit: a draft without the large file, an upload session in chunks with no token, then the draft sent', async () => {
    const h = await connected('bigsend');
    const content = randomBytes(5 * 1024 * 1024);
    const file = join(h.home, 'big.bin');
    writeFileSync(file, content);
    const sent = await h.cli(['send', '--to', 'carol@example.net', '--subject', 'big file', '--body', 'see attached', '--attach', file, '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(parseJson(sent)).toMatchObject({ sent: true, saved_to: 'Sent Items' });
    expect(calls(h.email, 'sendMail')).toHaveLength(0);
    expect(calls(h.email, 'messages.create')).toHaveLength(1);
    expect(calls(h.email, 'attachments.createUploadSession')).toHaveLength(1);
    const uploads = bed.graph.uploads().filter((u) => u.user === h.email);
    expect(uploads.length).toBeGreaterThanOrEqual(2);
    expect(uploads.every((u) => !u.authorization && u.status < 300)).toBe(true);
    // What went out carries the text and the file, byte for byte.
    const out = await simpleParser(bed.graph.sent().at(-1)!.raw);
    expect(out.subject).toBe('big file');
    expect(out.text?.trim()).toBe('see attached');
    expect(out.attachments.map((a) => a.filename)).toEqual(['big.bin']);
    expect(out.attachments[0]!.content.equals(content)).toBe(true);
  });

  it('status checks Graph live; --diagnose steps through the authority and Graph, the refresh and the inbox call; --scope-full is refused', async () => {
    const h = await connected('status');
    const live = parseJson(await h.cli(['status', '--json'])).accounts[0];
    expect(live).toMatchObject({ backend: 'api', state: 'active', is_healthy: true, latency_ms: expect.any(Number) });
    const diagnosed = await h.cli(['status', '--diagnose', '--json']);
    expect(diagnosed.code, diagnosed.stderr).toBe(0);
    const checks = parseJson(diagnosed).accounts[0].checks as Array<{ step: string; ok: boolean; detail: string }>;
    expect(checks.map((c) => c.step)).toEqual(['token.dns', 'token.tcp', 'token.tls', 'api.dns', 'api.tcp', 'api.tls', 'token.refresh', 'api.call']);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks.find((c) => c.step === 'api.call')!.detail).toMatch(/inbox: \d+ messages/);
    const nagios = await h.cli(['status', '--nagios']);
    expect(nagios.code, nagios.stdout).toBe(0);
    const refused = await h.cli(connectArgs(newHome('full'), '--scope-full'));
    expect(refused.code).toBe(2);
  });
});

describe('sync over Microsoft Graph', () => {
  it('a delta link per folder: a no-change run is one delta request per folder; a move is not a refetch; a flag change and a delete arrive', async () => {
    const h = await connected('sync');
    const archive = box(h.email).wellKnown('archive');
    const ids = ['one', 'two', 'three'].map((s, i) => bed.graph.addMessage(h.email, subjectMessage(`sync ${s}`), { receivedDateTime: Date.UTC(2026, 5, 1 + i) }).immutableId);
    bed.graph.addMessage(h.email, subjectMessage('archived'), { folder: archive.id });

    const first = await h.cli(['sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(parseJson(first).accounts[0]).toMatchObject({ status: 'ok', new: 4 });
    expect(calls(h.email, 'messages.value')).toHaveLength(4);

    bed.graph.clearRequests();
    const quiet = await h.cli(['sync', '--json']);
    expect(parseJson(quiet).accounts[0]).toMatchObject({ new: 0, updated: 0, deleted: 0 });
    const folderCount = parseJson(await h.cli(['folders', '--offline', '--json'])).folders.length;
    const deltas = calls(h.email, 'messages.delta');
    expect(deltas).toHaveLength(folderCount);
    expect(calls(h.email, 'messages.value')).toHaveLength(0);

    // Another client: a move, a flag change, a delete for good, a new message.
    const m1 = box(h.email).message(ids[0]!);
    box(h.email).move(m1, archive);
    box(h.email).update(box(h.email).message(ids[1]!), { isRead: true, flagStatus: 'flagged' });
    box(h.email).remove(box(h.email).message(ids[2]!));
    bed.graph.addMessage(h.email, subjectMessage('sync four'));
    bed.graph.clearRequests();
    const changes = await h.cli(['sync', '--json']);
    expect(changes.code, changes.stderr).toBe(0);
    expect(parseJson(changes).accounts[0]).toMatchObject({ new: 1 });
    // Only the new message's MIME: the moved one kept its body.
    expect(calls(h.email, 'messages.value')).toHaveLength(1);
    const offlineArchive = parseJson(await h.cli(['ls', 'Archive', '--offline', '--json'])).messages.map((m: { id: string }) => m.id);
    expect(offlineArchive).toContain(ids[0]);
    expect((await h.cli(['read', ids[0]!, '--raw', '--offline'])).stdout).toBe(subjectMessage('sync one'));
    const inbox = parseJson(await h.cli(['ls', 'Inbox', '--offline', '--json'])).messages as Array<{ id: string; subject: string; is_read: boolean; is_flagged: boolean }>;
    expect(inbox.map((m) => m.subject).sort()).toEqual(['sync four', 'sync two']);
    expect(inbox.find((m) => m.id === ids[1])).toMatchObject({ is_read: true, is_flagged: true });
  });

  it('an expired delta link (410) resyncs that folder reconciled by id: nothing kept is fetched again, nothing gone is served', async () => {
    const h = await connected('expired');
    const ids = ['a', 'b'].map((s) => bed.graph.addMessage(h.email, subjectMessage(`kept ${s}`)).immutableId);
    expect((await h.cli(['sync', '--json'])).code).toBe(0);
    box(h.email).remove(box(h.email).message(ids[1]!));
    bed.graph.addMessage(h.email, subjectMessage('kept c'));
    bed.graph.expireDelta(h.email);
    bed.graph.clearRequests();
    const resync = await h.cli(['sync', '--json']);
    expect(resync.code, resync.stderr).toBe(0);
    expect(calls(h.email).some((r) => r.status === 410)).toBe(true);
    expect(calls(h.email, 'messages.value')).toHaveLength(1);
    const subjects = parseJson(await h.cli(['ls', 'Inbox', '--offline', '--json'])).messages.map((m: { subject: string }) => m.subject).sort();
    expect(subjects).toEqual(['kept a', 'kept c']);
    // And the next run is quiet again.
    bed.graph.clearRequests();
    expect(parseJson(await h.cli(['sync', '--json'])).accounts[0]).toMatchObject({ new: 0, deleted: 0 });
    expect(calls(h.email, 'messages.value')).toHaveLength(0);
  });

  it('folders created, renamed and deleted are followed', async () => {
    const h = await connected('tree');
    const folder = bed.graph.addFolder(h.email, 'inbox', 'Receipts');
    bed.graph.addMessage(h.email, subjectMessage('receipt one'), { folder: folder.id });
    expect((await h.cli(['sync', '--json'])).code).toBe(0);
    expect(parseJson(await h.cli(['ls', 'Inbox/Receipts', '--offline', '--json'])).messages).toHaveLength(1);
    bed.graph.renameFolder(h.email, folder.id, 'Bills');
    expect((await h.cli(['sync', '--json'])).code).toBe(0);
    expect(parseJson(await h.cli(['ls', 'Inbox/Bills', '--offline', '--json'])).messages).toHaveLength(1);
    bed.graph.deleteFolder(h.email, folder.id);
    expect((await h.cli(['sync', '--json'])).code).toBe(0);
    const gone = await h.cli(['ls', 'Inbox/Bills', '--offline', '--json']);
    expect(gone.code).toBe(5);
    expect(parseJson(await h.cli(['search', '--offline', '--all-folders', '--json', '--', 'receipt'])).messages).toEqual([]);
  });

  it('throttling: a $batch part answered 429 is asked again after Retry-After; at most 4 requests in flight', async () => {
    const h = await connected('throttle');
    const ids = Array.from({ length: 6 }, (_, i) => bed.graph.addMessage(h.email, subjectMessage(`throttled ${i}`)).immutableId);
    bed.graph.injectError({ api: 'messages.update', user: h.email, status: 429, retryAfter: 1, times: 2 });
    const marked = await h.cli(['mark', ...ids, '--read', '--json']);
    expect(marked.code, marked.stderr).toBe(0);
    expect(parseJson(marked)).toMatchObject({ processed: 6 });
    expect(ids.every((id) => box(h.email).message(id).isRead)).toBe(true);
    expect(calls(h.email, 'messages.update').filter((r) => r.status === 429)).toHaveLength(2);
    expect((await h.cli(['sync', '--json'])).code).toBe(0);
    expect(bed.graph.maxInFlightSeen(h.email)).toBeLessThanOrEqual(4);
  });
});

describe('sync over Microsoft Graph: crashes and ingestion', () => {
  it('killed with SIGKILL in the middle of the first sync, the next run finishes it: nothing lost, nothing twice', async () => {
    const h = await connected('kill');
    const seeded: string[] = [];
    for (let i = 0; i < 450; i++) seeded.push(bed.graph.addMessage(h.email, subjectMessage(`bulk ${i}`), { receivedDateTime: Date.UTC(2026, 0, 1) + i * 60_000 }).immutableId);
    // Slow answers (four in flight), so the run is still going when its first page is committed.
    bed.graph.setLatency(15);
    try {
      const running = startCli(['sync', '--json'], { home: h.home, timeoutMs: 120_000, env: { ...bed.env(), MAILOPS_PASSPHRASE: PASSPHRASE } });
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && cachedRows(h.home) === 0) await new Promise((r) => setTimeout(r, 50));
      running.child.kill('SIGKILL');
      await running.result;
    } finally {
      bed.graph.setLatency(0);
    }
    const partial = cachedRows(h.home);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(450);
    bed.graph.clearRequests();
    const resumed = await h.cli(['sync', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(cachedRows(h.home)).toBe(450);
    // What the killed run stored is not fetched again (a page may be fetched twice, never the mailbox).
    expect(calls(h.email, 'messages.value').length).toBeLessThanOrEqual(450 - partial + 100);
    const listed = parseJson(await h.cli(['ls', 'Inbox', '--offline', '--json', '--limit', '1000']));
    expect(new Set(listed.messages.map((m: { id: string }) => m.id))).toEqual(new Set(seeded));
    expect(listed.total).toBe(450);
  });

  it('--on-new hands each new message over once across runs; --mark-read marks it read at Graph', async () => {
    const h = await connected('onnew');
    const log = join(h.home, 'handed.log');
    const hook = `cat >/dev/null; echo "$MAILOPS_GRAPH_ID" >> ${log}`;
    const first = bed.graph.addMessage(h.email, subjectMessage('first'));
    expect((await h.cli(['sync', '--json', '--on-new', hook, '--mark-read'])).code).toBe(0);
    const second = bed.graph.addMessage(h.email, subjectMessage('second'));
    expect((await h.cli(['sync', '--json', '--on-new', hook, '--mark-read'])).code).toBe(0);
    expect((await h.cli(['sync', '--json', '--on-new', hook, '--mark-read'])).code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n').sort()).toEqual([first.immutableId, second.immutableId].sort());
    for (const m of [first, second]) expect(box(h.email).message(m.immutableId).isRead).toBe(true);
  });
});

describe('a Graph service that misbehaves', () => {
  it('a certificate that changes mid-sync to one nobody vouches for: exit 4 naming the certificate, no request (no token) sent to it, and the next sync completes', async () => {
    const h = await connected('swapped');
    for (let i = 0; i < 300; i++) bed.graph.addMessage(h.email, subjectMessage(`swap ${i}`), { receivedDateTime: Date.UTC(2026, 0, 1) + i * 60_000 });
    const genuine = bed.graph.certificate;
    const impostor = await makeServerCert(null, { cn: '127.0.0.1', sans: ['127.0.0.1', 'localhost'], selfSigned: true, dir: join(bed.dir, 'impostor') });
    bed.graph.setLatency(15);
    let requestsBefore = 0;
    try {
      const running = startCli(['sync', '--json'], { home: h.home, timeoutMs: 120_000, env: { ...bed.env(), MAILOPS_PASSPHRASE: PASSPHRASE } });
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && cachedRows(h.home) === 0) await new Promise((r) => setTimeout(r, 20));
      requestsBefore = bed.graph.requests().length;
      bed.graph.swapCertificate(impostor);
      const result = await running.result;
      expect(result.code, result.stdout + result.stderr).toBe(4);
      expect(parseJson(result).accounts[0].error).toMatch(/certificate/i);
      if (process.env.MAILOPS_PRINT_FIGURES) console.log(`certificate swapped mid-sync: exit ${result.code}: ${parseJson(result).accounts[0].error}`);
    } finally {
      bed.graph.setLatency(0);
    }
    // Not one request got through the handshake with the impostor's certificate.
    expect(bed.graph.requests().length).toBeLessThanOrEqual(requestsBefore + 4);
    const partial = cachedRows(h.home);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(300);

    bed.graph.swapCertificate(genuine);
    const resumed = await h.cli(['sync', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(cachedRows(h.home)).toBe(300);
  });

  it('an answer that is not JSON, a 10 MB error body, a redirect to another host: clear errors, and the token never goes elsewhere', async () => {
    const h = await connected('hostile');
    bed.graph.addMessage(h.email, subjectMessage('still here'));

    bed.graph.injectError({ api: 'messages.list', user: h.email, status: 200, body: Buffer.from('<html>not json</html>') });
    const garbled = await h.cli(['ls', '--json']);
    expect(garbled.code).toBe(1);
    expect(jsonError(garbled).message).toMatch(/not JSON/);

    bed.graph.injectError({ api: 'messages.list', user: h.email, status: 500, body: Buffer.alloc(10 * 1024 * 1024, 0x41) });
    const huge = await h.cli(['ls', '--json']);
    expect(huge.code).toBe(1);
    expect(jsonError(huge).message).toMatch(/500/);
    expect(huge.stderr.length).toBeLessThan(10_000);

    // A redirect to a server that records what it is sent: no request reaches it, with or without the token.
    const seen: string[] = [];
    const { createServer } = await import('node:http');
    const trap = createServer((req, res) => {
      seen.push(String(req.headers.authorization ?? 'none'));
      res.end('{}');
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (trap.address() as { port: number }).port;
      bed.graph.injectError({ api: 'messages.list', user: h.email, status: 302, headers: { location: `http://127.0.0.1:${port}/v1.0/me/messages` }, body: {} });
      const redirected = await h.cli(['ls', '--json']);
      expect(redirected.code).toBe(1);
      expect(jsonError(redirected).message).toMatch(/302/);
      expect(seen).toEqual([]);
    } finally {
      trap.close();
    }
    // And the account is fine afterwards.
    expect(parseJson(await h.cli(['ls', '--json'])).messages).toHaveLength(1);
  });
});
