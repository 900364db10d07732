// The Gmail API provider against the local Gmail fake over HTTPS: the real wire (JSON, the batch
// endpoint's multipart, the upload endpoint), the quota and its refusals, scopes per method.
// In process, like imap-provider.test.ts: the CLI's use of it is covered by the CLI tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { globalAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../src/domain/types.js';
import type { ProviderRuntime } from '../../src/domain/provider.js';
import { backendFor } from '../../src/providers/registry.js';
import { MailopsError } from '../../src/domain/errors.js';
import { ALL_MAIL } from '../../src/providers/gmail/folders.js';
import type { GmailProvider } from '../../src/providers/gmail/provider.js';
import { parseQuery } from '../../src/core/query/index.js';
import { makeCa } from '../support/certs.js';
import { SCOPES, startGmailServer, type GmailServer } from '../support/gmail-server.js';

let dir: string;
let gmail: GmailServer;
let users = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailops-gmail-provider-'));
  const ca = await makeCa(join(dir, 'ca'));
  gmail = await startGmailServer({ ca, quota: { unitsPerWindow: Infinity } });
  // This worker's https requests trust the suite's CA (a CLI run gets NODE_EXTRA_CA_CERTS instead).
  globalAgent.options.ca = [readFileSync(gmail.caFile)];
});

afterAll(async () => {
  await gmail?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  email: string;
  token: string;
  provider: GmailProvider;
  trace: string[];
  signal: AbortSignal;
}

async function fixture(
  options: { scopes?: string[]; env?: Record<string, string>; timeoutMs?: number; accessToken?: (email: string, token: string, opts?: { forceRefresh?: boolean }) => Promise<string> } = {},
): Promise<Fixture> {
  const email = `user${++users}@example.com`;
  gmail.addUser(email);
  const scopes = options.scopes ?? [SCOPES.modify];
  const token = gmail.token(email, scopes);
  const trace: string[] = [];
  const runtime: ProviderRuntime = {
    timeoutMs: options.timeoutMs ?? 10_000,
    trace: (source, direction, line) => trace.push(`[${source}] ${direction}: ${line}`),
    warn: () => undefined,
    env: { MAILOPS_GMAIL_API_URL: gmail.url, ...options.env },
  };
  const config = {
    name: 'g', provider: 'gmail', backend: 'gmail', email, user: email, imap: null, smtp: null, insecure: false, caFile: null,
    secretStore: 'file', passwordCommand: null, priority: 0, isDefault: true, createdAt: new Date().toISOString(),
    oauth: { clientId: 'c', hasClientSecret: false, tenant: null, redirectUri: null, scopes, grantedScopes: scopes, grantedAt: '', endpoints: null, homeAccountId: null },
  } satisfies AccountConfig;
  const provider = (await backendFor('gmail').create(config, { kind: 'oauth2', user: email, accessToken: async (opts) => (options.accessToken ? options.accessToken(email, token, opts) : token) }, runtime)) as GmailProvider;
  return { email, token, provider, trace, signal: new AbortController().signal };
}

function rfc822(subject: string, extra = '', body = 'Hello there.\r\n'): string {
  return `From: Bob Example <bob@example.org>\r\nTo: ann@example.com\r\nCc: Carol <carol@example.net>\r\nSubject: ${subject}\r\nDate: Tue, 2 Jun 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}\r\n${body}`;
}

describe('folders', () => {
  it('labels as folders: system labels by Gmail name with roles, user labels nested, All Mail, counts; no categories or UNREAD', async () => {
    const f = await fixture();
    const work = gmail.addLabel(f.email, 'Work/Alpha');
    gmail.addMessage(f.email, rfc822('one'), { labelIds: ['INBOX', 'UNREAD', work] });
    gmail.addMessage(f.email, rfc822('two'), { labelIds: ['INBOX', 'STARRED'] });
    gmail.addMessage(f.email, rfc822('spam'), { labelIds: ['SPAM'] });
    gmail.clearRequests();
    const folders = await f.provider.listFolders(f.signal);
    const byPath = new Map(folders.map((x) => [x.path, x]));
    expect([...byPath.keys()]).toEqual(['INBOX', 'Sent', 'Drafts', 'Trash', 'Spam', 'Starred', 'Important', 'Work/Alpha', 'All Mail']);
    expect(byPath.get('INBOX')).toMatchObject({ id: 'INBOX', role: 'inbox', totalCount: 2, unreadCount: 1 });
    expect(byPath.get('Spam')).toMatchObject({ role: 'junk', totalCount: 1 });
    expect(byPath.get('Starred')).toMatchObject({ role: 'flagged', totalCount: 1 });
    expect(byPath.get('Work/Alpha')).toMatchObject({ id: work, name: 'Alpha', role: null, totalCount: 1 });
    expect(byPath.get('All Mail')).toMatchObject({ id: ALL_MAIL, role: 'all' });
    // labels.get for counts went in one batch, not one request each.
    expect(gmail.requests({ api: 'batch' })).toHaveLength(1);
    expect(gmail.requests({ api: 'labels.get', inBatch: false })).toHaveLength(0);
  });
});

describe('list and read', () => {
  it('lists newest first by internalDate with envelopes from one batch, pages by token, exact totals for a label', async () => {
    const f = await fixture();
    for (let i = 1; i <= 5; i++) gmail.addMessage(f.email, rfc822(`m${i}`), { labelIds: ['INBOX', ...(i % 2 ? ['UNREAD'] : [])], internalDate: new Date(Date.UTC(2026, 5, i)) });
    gmail.clearRequests();
    const first = await f.provider.list('INBOX', { query: null, page: { limit: 2, page: 1 } }, f.signal);
    expect(first.items.map((e) => e.subject)).toEqual(['m5', 'm4']);
    expect(first).toMatchObject({ total: 5, totalIsEstimate: false, hasNext: true });
    expect(first.items[0]).toMatchObject({
      uid: null, from: { name: 'Bob Example', address: 'bob@example.org' }, cc: [{ name: 'Carol', address: 'carol@example.net' }],
      messageId: '<m5@example.org>', flags: { seen: false, flagged: false, answered: false, draft: false },
    });
    expect(first.items[0]!.received?.toISOString()).toBe('2026-06-05T00:00:00.000Z');
    expect(gmail.requests({ api: 'messages.get', inBatch: false })).toHaveLength(0);
    expect(gmail.requests({ api: 'messages.get', inBatch: true })).toHaveLength(2);
    const second = await f.provider.list('INBOX', { query: null, page: { limit: 2, page: 2, cursor: first.nextCursor } }, f.signal);
    expect(second.items.map((e) => e.subject)).toEqual(['m3', 'm2']);
  });

  it('a query goes to Gmail as q and what q cannot say is checked here; a whole answer on one page is counted exactly', async () => {
    const f = await fixture();
    gmail.addMessage(f.email, rfc822('kiwi one'), { labelIds: ['INBOX', 'UNREAD'] });
    gmail.addMessage(f.email, rfc822('kiwi two'), { labelIds: ['INBOX'] });
    gmail.addMessage(f.email, rfc822('mango'), { labelIds: ['INBOX', 'UNREAD'] });
    const page = await f.provider.list('INBOX', { query: parseQuery('subject:kiwi is:unread'), page: { limit: 50, page: 1 } }, f.signal);
    expect(page.items.map((e) => e.subject)).toEqual(['kiwi one']);
    // Everything Gmail matched is on this page: the count is exact, not resultSizeEstimate.
    expect(page).toMatchObject({ total: 1, totalIsEstimate: false, hasNext: false });
    const lastList = gmail.requests({ api: 'messages.list' }).at(-1)!;
    expect(new URLSearchParams(lastList.query).get('q')).toBe('subject:kiwi is:unread');
    // Across pages it is Gmail's estimate, less what the local check dropped.
    const first = await f.provider.list('INBOX', { query: parseQuery('to:ann'), page: { limit: 2, page: 1 } }, f.signal);
    expect(first).toMatchObject({ total: 3, totalIsEstimate: true, hasNext: true });
    // Gmail's to: also matches Cc; the contract's means the To field: checked here.
    const to = await f.provider.list('INBOX', { query: parseQuery('to:carol'), page: { limit: 50, page: 1 } }, f.signal);
    expect(to.items).toEqual([]);
    // Gmail counted the three it matched (Cc: Carol); none is the contract's to:carol.
    expect(to).toMatchObject({ total: 0, totalIsEstimate: false });
    // message-id: goes as rfc822msgid: (the one Gmail operator with digits in its name).
    const byId = await f.provider.list('INBOX', { query: parseQuery('message-id:<kiwione@example.org>'), page: { limit: 50, page: 1 } }, f.signal);
    expect(byId.items.map((e) => e.subject)).toEqual(['kiwi one']);
    expect(new URLSearchParams(gmail.requests({ api: 'messages.list' }).at(-1)!.query).get('q')).toBe('rfc822msgid:kiwione@example.org');
    expect(await f.provider.explain(parseQuery('is:answered OR kiwi'), 'INBOX')).toMatch(/Gmail keeps no answered state/);
  });

  it('read: the raw bytes exactly, peek leaves UNREAD, a read without peek takes it off', async () => {
    const f = await fixture();
    const raw = Buffer.from(rfc822('bytes', 'X-Odd: \u00e9t\u00e9\r\n', 'Line one\r\n\r\n.dot\r\n'), 'latin1');
    const m = gmail.addMessage(f.email, raw, { labelIds: ['INBOX', 'UNREAD'] });
    const peeked = await f.provider.fetchMessage({ id: m.id, folder: 'INBOX' }, { peek: true }, f.signal);
    expect(peeked.raw.equals(raw)).toBe(true);
    expect(gmail.mailbox(f.email).message(m.id).labelIds).toContain('UNREAD');
    const read = await f.provider.fetchMessage({ id: m.id, folder: 'INBOX' }, { peek: false }, f.signal);
    expect(read.envelope.flags.seen).toBe(true);
    expect(gmail.mailbox(f.email).message(m.id).labelIds).not.toContain('UNREAD');
    await expect(f.provider.fetchMessage({ id: 'ffffffffffff', folder: 'INBOX' }, { peek: true }, f.signal)).rejects.toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
  });
});

describe('changes', () => {
  it('setFlags is one batchModify for every id; ids that do not exist are reported, not an error', async () => {
    const f = await fixture();
    const a = gmail.addMessage(f.email, rfc822('a'), { labelIds: ['INBOX', 'UNREAD'] });
    const b = gmail.addMessage(f.email, rfc822('b'), { labelIds: ['INBOX', 'UNREAD'] });
    gmail.clearRequests();
    const outcome = await f.provider.setFlags(
      [{ id: a.id, folder: 'INBOX' }, { id: b.id, folder: 'INBOX' }, { id: 'abcdef012345', folder: 'INBOX' }],
      { seen: true, flagged: true },
      f.signal,
    );
    expect(outcome).toEqual({ processed: 2, missing: [{ id: 'abcdef012345', folder: 'INBOX' }] });
    expect(gmail.requests({ api: 'messages.batchModify' })).toHaveLength(1);
    for (const m of [a, b]) expect([...gmail.mailbox(f.email).message(m.id).labelIds].sort()).toEqual(['INBOX', 'STARRED']);
    expect(gmail.mailbox(f.email).message(a.id).labelIds).not.toContain('UNREAD');
    await expect(f.provider.setFlags([{ id: a.id, folder: 'INBOX' }], { answered: true }, f.signal)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('move adds the target label and takes the source one off; to Trash is messages.trash; to All Mail archives', async () => {
    const f = await fixture();
    const label = gmail.addLabel(f.email, 'Projects');
    const a = gmail.addMessage(f.email, rfc822('a'), { labelIds: ['INBOX', 'STARRED'] });
    const b = gmail.addMessage(f.email, rfc822('b'), { labelIds: ['INBOX'] });
    const c = gmail.addMessage(f.email, rfc822('c'), { labelIds: ['INBOX'] });
    expect(await f.provider.move([{ id: a.id, folder: 'INBOX' }], label, f.signal)).toEqual({ processed: 1, missing: [] });
    expect([...gmail.mailbox(f.email).message(a.id).labelIds].sort()).toEqual([label, 'STARRED'].sort());
    await f.provider.move([{ id: b.id, folder: 'INBOX' }], 'TRASH', f.signal);
    expect(gmail.mailbox(f.email).message(b.id).labelIds).toContain('TRASH');
    expect(gmail.requests({ api: 'messages.trash' })).toHaveLength(1);
    await f.provider.move([{ id: c.id, folder: 'INBOX' }], ALL_MAIL, f.signal);
    expect([...gmail.mailbox(f.email).message(c.id).labelIds]).toEqual([]);
    await expect(f.provider.move([{ id: c.id, folder: ALL_MAIL }], 'Label_404', f.signal)).rejects.toMatchObject({ code: 'FOLDER_NOT_FOUND' });
  });

  it('deleting for good needs the full scope: without it INSUFFICIENT_SCOPE and nothing is deleted; with it, gone', async () => {
    const f = await fixture();
    const m = gmail.addMessage(f.email, rfc822('keep'), { labelIds: ['INBOX'] });
    await expect(f.provider.deleteForever!([{ id: m.id, folder: 'INBOX' }], f.signal)).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE', exitCode: 3 });
    expect(gmail.requests({ api: 'messages.batchDelete', user: f.email })).toHaveLength(0);
    const full = await fixture({ scopes: [SCOPES.full] });
    const gone = gmail.addMessage(full.email, rfc822('gone'), { labelIds: ['INBOX'] });
    expect(await full.provider.deleteForever!([{ id: gone.id, folder: 'INBOX' }], full.signal)).toEqual({ processed: 1, missing: [] });
    expect(() => gmail.mailbox(full.email).message(gone.id)).toThrow();
  });

  it('a read-only grant changing mail is INSUFFICIENT_SCOPE (exit 3) before anything is asked', async () => {
    const f = await fixture({ scopes: [SCOPES.readonly] });
    const m = gmail.addMessage(f.email, rfc822('ro'), { labelIds: ['INBOX', 'UNREAD'] });
    await expect(f.provider.setFlags([{ id: m.id, folder: 'INBOX' }], { seen: true }, f.signal)).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE', exitCode: 3 });
    await expect(f.provider.move([{ id: m.id, folder: 'INBOX' }], 'TRASH', f.signal)).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    expect(gmail.mailbox(f.email).message(m.id).labelIds).toContain('UNREAD');
    expect(gmail.requests({ user: f.email })).toHaveLength(0);
    // Reading still works, and the peek leaves it unread.
    expect((await f.provider.fetchMessage({ id: m.id, folder: 'INBOX' }, { peek: true }, f.signal)).envelope.flags.seen).toBe(false);
  });
});

describe('send', () => {
  it('sends through messages.send; a reply joins the thread of the message it answers; big messages take the upload endpoint', async () => {
    const f = await fixture();
    const original = gmail.addMessage(f.email, rfc822('question'), { labelIds: ['INBOX'], threadId: 'thread0001' });
    const reply = Buffer.from(`From: ${f.email}\r\nTo: bob@example.org\r\nSubject: Re: question\r\nIn-Reply-To: <question@example.org>\r\nMessage-ID: <r1@x>\r\n\r\nAnswer.\r\n`);
    const receipt = await f.provider.send({ raw: reply, envelope: { from: f.email, to: ['bob@example.org'] }, messageId: '<r1@x>' }, f.signal);
    expect(receipt).toMatchObject({ providerSavedCopy: true, accepted: ['bob@example.org'] });
    const sent = gmail.sent().at(-1)!;
    expect(sent.raw.equals(reply)).toBe(true);
    expect(gmail.mailbox(f.email).message(sent.id).threadId).toBe(original.threadId);

    const big = Buffer.concat([Buffer.from(`From: ${f.email}\r\nTo: bob@example.org\r\nSubject: big\r\n\r\n`), Buffer.alloc(6 * 1024 * 1024, 'a')]);
    await f.provider.send({ raw: big, envelope: { from: f.email, to: ['bob@example.org'] }, messageId: '<big@x>' }, f.signal);
    expect(gmail.sent().at(-1)!.raw.equals(big)).toBe(true);
    expect(gmail.requests({ api: 'messages.send' }).at(-1)!.path).toMatch(/^\/upload\//);
  });

  it('a send whose answer never came is not sent again (it may have gone out)', async () => {
    const f = await fixture({ timeoutMs: 2000 });
    gmail.inject({ path: '/gmail/v1/users/me/messages/send', drop: 'after' });
    const raw = Buffer.from(`From: ${f.email}\r\nTo: bob@example.org\r\nSubject: once\r\n\r\nx\r\n`);
    await expect(f.provider.send({ raw, envelope: { from: f.email, to: ['bob@example.org'] }, messageId: '<once@x>' }, f.signal)).rejects.toMatchObject({ exitCode: 4 });
    expect(gmail.sent().filter((s) => s.from === f.email)).toHaveLength(1);
  });
});

describe('quota and throttling', () => {
  it('429 with Retry-After is waited out and the call succeeds; the trace never shows the bearer token', async () => {
    const f = await fixture();
    gmail.inject({ path: '/gmail/v1/users/me/profile', status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 429, message: 'Too many', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits', message: 'x' }], status: 'RESOURCE_EXHAUSTED' } } });
    const started = Date.now();
    await f.provider.verify(f.signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(f.trace.length).toBeGreaterThan(3);
    expect(f.trace.join('\n')).not.toContain(f.token);
    expect(f.trace.join('\n')).toMatch(/authorization: Bearer \[REDACTED\]/i);
  });

  it('batch parts refused for the quota are asked again alone, and the whole list still arrives', async () => {
    const f = await fixture();
    for (let i = 0; i < 6; i++) gmail.addMessage(f.email, rfc822(`q${i}`), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 0, i + 1) });
    gmail.inject({ path: /\/messages\/[0-9a-f]+$/, status: 429, times: 2, headers: { 'retry-after': '1' } });
    const page = await f.provider.list('INBOX', { query: null, page: { limit: 10, page: 1 } }, f.signal);
    expect(page.items).toHaveLength(6);
    expect(gmail.requests({ api: 'batch' }).filter((r) => r.user === f.email || r.user === null).length).toBeGreaterThanOrEqual(2);
  });

  it('the client spends units under MAILOPS_GMAIL_QUOTA and is THROTTLED (exit 4) when the wait would pass --timeout', async () => {
    const f = await fixture({ env: { MAILOPS_GMAIL_QUOTA: '3/60s' }, timeoutMs: 1500 });
    await f.provider.verify(f.signal);
    await f.provider.verify(f.signal);
    await f.provider.verify(f.signal);
    const started = Date.now();
    await expect(f.provider.verify(f.signal)).rejects.toMatchObject({ code: 'THROTTLED', exitCode: 4 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(f.provider.api.unitsSpent).toBe(3);
  });
});

describe('client shorthands', () => {
  it('listHistory walks every page (500 records each) and returns the latest historyId; an expired start is the caller\'s 404', async () => {
    const f = await fixture();
    const { historyId: start } = await f.provider.api.getProfile({ signal: f.signal });
    for (let i = 0; i < 620; i++) gmail.addMessage(f.email, rfc822(`h${i}`), { labelIds: ['INBOX'] });
    gmail.clearRequests();
    const { history, historyId } = await f.provider.api.listHistory(start!, { historyTypes: ['messageAdded'] }, { signal: f.signal });
    expect(history.flatMap((h) => h.messagesAdded ?? [])).toHaveLength(620);
    expect(historyId).toBe(String(gmail.mailbox(f.email).historyId));
    expect(gmail.requests({ api: 'history.list' })).toHaveLength(2);
    gmail.expireHistory(f.email);
    await expect(
      f.provider.api.listHistory(start!, {}, { signal: f.signal, notFound: () => new MailopsError('NOT_FOUND', 'history gone') }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'history gone' });
  });

  it('an answer that is not JSON is a clear FAILED (exit 1), never a crash', async () => {
    const f = await fixture();
    gmail.inject({ path: '/gmail/v1/users/me/labels', status: 200, body: Buffer.from('<html>captive portal</html>'), headers: { 'content-type': 'text/html' } });
    await expect(f.provider.api.listLabels({ signal: f.signal })).rejects.toMatchObject({ code: 'FAILED', exitCode: 1, message: expect.stringMatching(/not JSON/) });
  });
});

describe('tokens', () => {
  it('a refused token is refreshed once and the call made again; refused again, it is NEEDS_REAUTH (exit 3) naming connect', async () => {
    const asked: boolean[] = [];
    let fresh = '';
    const f = await fixture({
      accessToken: async (email, token, opts) => {
        asked.push(Boolean(opts?.forceRefresh));
        if (!opts?.forceRefresh) return token;
        fresh = gmail.token(email, [SCOPES.modify]);
        return fresh;
      },
    });
    gmail.revokeToken(f.token);
    await f.provider.verify(f.signal);
    expect(asked).toEqual([false, true]);
    expect(f.trace.join('\n')).not.toContain(fresh);

    const g = await fixture({ accessToken: async (_email, token) => token });
    gmail.revokeToken(g.token);
    await expect(g.provider.verify(g.signal)).rejects.toMatchObject({ code: 'NEEDS_REAUTH', exitCode: 3, hint: expect.stringMatching(/mailops connect g/) });
    expect(gmail.requests({ api: 'users.getProfile', status: 401 }).filter((r) => r.user === null || r.user === g.email).length).toBeGreaterThanOrEqual(2);
  });
});
