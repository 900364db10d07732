// The Microsoft Graph fake checked against Graph's documented behaviour, over the wire as the
// product will meet it: HTTPS with the suite's CA, absolute next and delta links followed as
// given, raw MIME bytes, JSON batching, throttling by 429 and Retry-After, and tokens from a real
// sign-in checked by introspection (the bed at the end).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MailFolder, Message, UploadSession } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, type CertAuthority } from '../support/certs.js';
import { startGraphBed } from '../support/graph-bed.js';
import { startGraphServer, type GraphErrorBody, type GraphServer } from '../support/graph-server.js';
import { graphClient, type HttpCall } from '../support/graph/client.js';

let dir: string;
let ca: CertAuthority;
let graph: GraphServer;
let http: ReturnType<typeof graphClient>;
let userCount = 0;

const IMMUTABLE = { prefer: 'IdType="ImmutableId"' };

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
  '@odata.count'?: number;
}
type Row = Message & { '@odata.etag'?: string; '@removed'?: { reason: string } };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailops-graph-'));
  ca = await makeCa(join(dir, 'ca'));
  graph = await startGraphServer({ ca });
  http = graphClient(graph.url, graph.caFile);
});

afterAll(async () => {
  http?.close();
  await graph?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh mailbox per test and a token for it: tests share the server, never a mailbox. */
function newUser(scopes: string[] = ['https://graph.microsoft.com/Mail.ReadWrite', 'Mail.Send'], server = graph, client = http) {
  const email = `user${++userCount}@contoso.test`;
  server.addUser(email);
  const token = server.token(email, scopes);
  const call = (path: string, opts: HttpCall = {}) => client.call(path, { token, ...opts });
  const json = async <T>(path: string, opts: HttpCall = {}): Promise<T> => {
    const answer = await call(path, opts);
    if (answer.status >= 300) throw new Error(`${path}: ${answer.status} ${answer.body.toString()}`);
    return answer.json<T>();
  };
  /** Every page from `path` on, following @odata.nextLink as given. */
  const all = async <T>(path: string, opts: HttpCall = {}): Promise<{ pages: Page<T>[]; items: T[] }> => {
    const pages: Page<T>[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: Page<T> = await json<Page<T>>(next, opts);
      pages.push(page);
      next = page['@odata.nextLink'];
    }
    return { pages, items: pages.flatMap((p) => p.value) };
  };
  return { email, token, call, json, all };
}

function rfc822(subject: string, extra = '', body = 'Hello there.\r\n'): string {
  return `From: Bob Sender <bob@example.org>\r\nTo: Ann <ann@contoso.test>\r\nSubject: ${subject}\r\nDate: Tue, 03 Mar 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}\r\n${body}`;
}

const day = (n: number) => new Date(Date.UTC(2026, 0, n, 12));

describe('mail folders', () => {
  it('lists the default folders of the root in pages of $top, with absolute next links, no wellKnownName, hidden ones on request', async () => {
    const u = newUser();
    const { items, pages } = await u.all<MailFolder>('/v1.0/me/mailFolders?$top=3');
    expect(items.map((f) => f.displayName)).toEqual(['Archive', 'Conversation History', 'Deleted Items', 'Drafts', 'Inbox', 'Junk Email', 'Outbox', 'Sent Items']);
    expect(pages).toHaveLength(3);
    expect(pages[0]!['@odata.nextLink']).toMatch(new RegExp(`^${graph.url}/v1\\.0/me/mailFolders\\?.*%24skip=3`));
    const inbox = items.find((f) => f.displayName === 'Inbox')!;
    expect(Object.keys(inbox).sort()).toEqual(['childFolderCount', 'displayName', 'id', 'isHidden', 'parentFolderId', 'totalItemCount', 'unreadItemCount']);
    expect(inbox).not.toHaveProperty('wellKnownName');
    // Default page is 10: all eight at once.
    expect((await u.json<Page<MailFolder>>('/v1.0/me/mailFolders'))['@odata.nextLink']).toBeUndefined();
    const hidden = await u.json<Page<MailFolder>>('/v1.0/me/mailFolders?includeHiddenFolders=true');
    expect(hidden.value.filter((f) => f.isHidden).map((f) => f.displayName)).toEqual(['Yammer Root']);
  });

  it('resolves well-known names in any case, counts items, lists children with any name, 404/400 for unknown or malformed ids', async () => {
    const u = newUser();
    graph.addMessage(u.email, rfc822('one'), { isRead: false });
    graph.addMessage(u.email, rfc822('two'), { isRead: true });
    const inbox = await u.json<MailFolder>('/v1.0/me/mailFolders/inbox');
    expect(inbox).toMatchObject({ displayName: 'Inbox', totalItemCount: 2, unreadItemCount: 1, childFolderCount: 0, isHidden: false });
    expect((await u.json<MailFolder>('/v1.0/me/mailFolders/Inbox')).id).toBe(inbox.id);
    expect((await u.json<MailFolder>(`/v1.0/me/mailFolders/${inbox.id}`)).id).toBe(inbox.id);
    const root = await u.json<MailFolder>('/v1.0/me/mailFolders/msgfolderroot');
    expect(inbox.parentFolderId).toBe(root.id);
    for (const [name, display] of [['sentitems', 'Sent Items'], ['deleteditems', 'Deleted Items'], ['junkemail', 'Junk Email'], ['drafts', 'Drafts'], ['archive', 'Archive'], ['outbox', 'Outbox']]) {
      expect((await u.json<MailFolder>(`/v1.0/me/mailFolders/${name}?$select=displayName`)).displayName).toBe(display);
    }

    const projects = graph.addFolder(u.email, 'inbox', 'Projets/2026 – été');
    graph.addFolder(u.email, ['Inbox', 'Projets/2026 – été'], 'Ünter');
    const kids = await u.json<Page<MailFolder>>(`/v1.0/me/mailFolders('${inbox.id}')/childFolders`);
    expect(kids.value).toEqual([expect.objectContaining({ id: projects.id, displayName: 'Projets/2026 – été', parentFolderId: inbox.id, childFolderCount: 1 })]);
    expect((await u.json<MailFolder>('/v1.0/me/mailFolders/inbox')).childFolderCount).toBe(1);
    graph.renameFolder(u.email, projects.id, 'Renamed');
    expect((await u.json<MailFolder>(`/v1.0/me/mailFolders/${encodeURIComponent(projects.id)}`)).displayName).toBe('Renamed');
    graph.deleteFolder(u.email, projects.id);

    const missing = await u.call(`/v1.0/me/mailFolders/${projects.id}`);
    expect(missing.status).toBe(404);
    expect(missing.json<GraphErrorBody>().error.code).toBe('ErrorItemNotFound');
    const malformed = await u.call('/v1.0/me/mailFolders/not-an-id');
    expect(malformed.status).toBe(400);
    expect(malformed.json<GraphErrorBody>().error.code).toBe('ErrorInvalidIdMalformed');

    // Search folders are not in the root's listing, only under their own well-known root.
    const search = await u.json<Page<MailFolder & { '@odata.type'?: string }>>('/v1.0/me/mailFolders/searchfolders/childFolders');
    expect(search.value).toEqual([expect.objectContaining({ '@odata.type': '#microsoft.graph.mailSearchFolder', displayName: 'Unread Mail' })]);
  });
});

describe('messages', () => {
  it('derives the message resource from the MIME', async () => {
    const u = newUser();
    const raw = [
      'From: =?utf-8?q?Bj=C3=B6rn?= <bjorn@example.org>', 'To: Ann <ann@contoso.test>, carl@contoso.test', 'Cc: Dee <dee@example.org>',
      'Reply-To: replies@example.org', 'Subject: =?utf-8?b?w5xiZXIgYWxsZXM=?=', 'Date: Tue, 03 Mar 2026 10:00:00 +0100', 'Message-ID: <m1@example.org>',
      'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '',
      'Grüße   aus\r\nBerlin', '--b1', 'Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64', '', Buffer.from('%PDF').toString('base64'), '--b1--', '',
    ].join('\r\n');
    const seeded = graph.addMessage(u.email, raw, { receivedDateTime: day(5), flagged: true });
    const m = await u.json<Row>(`/v1.0/me/messages/${seeded.immutableId}`, { headers: IMMUTABLE });
    expect(m).toMatchObject({
      id: seeded.immutableId,
      subject: 'Über alles',
      from: { emailAddress: { name: 'Björn', address: 'bjorn@example.org' } },
      sender: { emailAddress: { name: 'Björn', address: 'bjorn@example.org' } },
      toRecipients: [{ emailAddress: { name: 'Ann', address: 'ann@contoso.test' } }, { emailAddress: { name: 'carl@contoso.test', address: 'carl@contoso.test' } }],
      ccRecipients: [{ emailAddress: { name: 'Dee', address: 'dee@example.org' } }],
      bccRecipients: [],
      replyTo: [{ emailAddress: { address: 'replies@example.org' } }],
      receivedDateTime: '2026-01-05T12:00:00Z',
      sentDateTime: '2026-03-03T09:00:00Z',
      internetMessageId: '<m1@example.org>',
      isRead: false,
      isDraft: false,
      flag: { flagStatus: 'flagged' },
      hasAttachments: true,
      bodyPreview: 'Grüße aus Berlin',
      parentFolderId: graph.mailbox(u.email).wellKnown('inbox').id,
    });
    expect(m['@odata.etag']).toBe(`W/"${m.changeKey}"`);
    expect(m.conversationId).toMatch(/^AAQkA/);
  });

  it('$select, $top, $skip, $orderby and $count, with next links carrying $skip', async () => {
    const u = newUser();
    for (let i = 1; i <= 12; i++) graph.addMessage(u.email, rfc822(`m${i}`), { receivedDateTime: day(i) });
    const first = await u.json<Page<Row>>('/v1.0/me/mailFolders/inbox/messages?$select=subject,receivedDateTime&$count=true');
    expect(first.value).toHaveLength(10);
    expect(first['@odata.count']).toBe(12);
    expect(first.value.map((m) => m.subject).slice(0, 3)).toEqual(['m12', 'm11', 'm10']);
    expect(Object.keys(first.value[0]!).sort()).toEqual(['@odata.etag', 'id', 'receivedDateTime', 'subject']);
    const next = first['@odata.nextLink']!;
    expect(new URL(next).searchParams.get('$skip')).toBe('10');
    const second = await u.json<Page<Row>>(next);
    expect(second.value.map((m) => m.subject)).toEqual(['m2', 'm1']);
    expect(second['@odata.nextLink']).toBeUndefined();

    const asc = await u.all<Row>('/v1.0/me/messages?$orderby=receivedDateTime asc&$top=5&$select=subject');
    expect(asc.pages).toHaveLength(3);
    expect(asc.items.map((m) => m.subject)).toEqual(Array.from({ length: 12 }, (_, i) => `m${i + 1}`));
    // The size is no property of a message: it is PR_MESSAGE_SIZE, asked for as an extended property.
    const sized = await u.json<Page<Row>>(`/v1.0/me/messages?$top=1&$select=subject&$expand=${encodeURIComponent("singleValueExtendedProperties($filter=id eq 'Integer 0xE08')")}`);
    const m12 = [...graph.mailbox(u.email).messages.values()].find((m) => m.facts.subject === 'm12')!;
    expect(sized.value[0]).toMatchObject({ subject: 'm12', singleValueExtendedProperties: [{ id: 'Integer 0xe08', value: String(m12.raw.length) }] });
    expect((await u.call('/v1.0/me/messages?$expand=attachments')).status).toBe(400);
    const unknown = await u.call('/v1.0/me/messages?$select=subject,wellKnownName');
    expect(unknown.status).toBe(400);
    expect(unknown.json<GraphErrorBody>().error.message).toBe("Could not find a property named 'wellKnownName' on type 'microsoft.graph.message'.");
  });

  it('$filter: comparisons on state, flag, attachments, dates, sender and Message-ID; and/or/not and parentheses; Graph\'s refusals', async () => {
    const u = newUser();
    const a = graph.addMessage(u.email, rfc822('a'), { receivedDateTime: day(1), isRead: true });
    const b = graph.addMessage(u.email, rfc822('b', 'Content-Type: multipart/mixed; boundary=x\r\n', '--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=p.png\r\n\r\nPNG\r\n--x--\r\n'), { receivedDateTime: day(10), flagged: true });
    const c = graph.addMessage(u.email, rfc822('c').replace('bob@example.org', 'carol@example.net'), { receivedDateTime: day(20), flagged: 'complete', isRead: true });
    const subjects = async (filter: string) =>
      (await u.json<Page<Row>>(`/v1.0/me/messages?$filter=${encodeURIComponent(filter)}&$select=subject`)).value.map((m) => m.subject).sort();
    expect(await subjects('isRead eq false')).toEqual(['b']);
    expect(await subjects('isRead eq true')).toEqual(['a', 'c']);
    expect(await subjects("flag/flagStatus eq 'flagged'")).toEqual(['b']);
    expect(await subjects("flag/flagStatus ne 'flagged'")).toEqual(['a', 'c']);
    expect(await subjects('hasAttachments eq true')).toEqual(['b']);
    expect(await subjects('receivedDateTime ge 2026-01-10T00:00:00Z')).toEqual(['b', 'c']);
    expect(await subjects('receivedDateTime lt 2026-01-10T00:00:00Z')).toEqual(['a']);
    expect(await subjects("from/emailAddress/address eq 'CAROL@example.net'")).toEqual(['c']);
    expect(await subjects(`internetMessageId eq '${a.facts.internetMessageId}'`)).toEqual(['a']);
    expect(await subjects("isRead eq true and not (from/emailAddress/address eq 'carol@example.net')")).toEqual(['a']);
    expect(await subjects("(isRead eq false or flag/flagStatus eq 'complete') and receivedDateTime gt 2026-01-05T00:00:00Z")).toEqual(['b', 'c']);
    expect([b, c].every((m) => m.immutableId)).toBe(true);

    const refused = async (query: string) => {
      const answer = await u.call(`/v1.0/me/messages?${query}`);
      expect(answer.status, query).toBe(400);
      return answer.json<GraphErrorBody>().error;
    };
    expect(await refused(`$filter=${encodeURIComponent('colour eq 1')}`)).toMatchObject({ code: 'BadRequest', message: "Could not find a property named 'colour' on type 'microsoft.graph.message'." });
    expect((await refused(`$filter=${encodeURIComponent('isRead eq')}`)).message).toMatch(/^Invalid filter clause/);
    expect((await refused(`$filter=${encodeURIComponent("isRead eq 'yes'")}`)).message).toMatch(/incompatible types/);
    expect((await refused(`$filter=${encodeURIComponent("contains(subject,'a')")}`)).message).toMatch(/unknown function/);
    // $orderby properties must lead the $filter (Exchange's InefficientFilter rule).
    expect(await refused(`$filter=${encodeURIComponent('isRead eq true')}&$orderby=receivedDateTime desc`)).toMatchObject({ code: 'InefficientFilter' });
    const sorted = await u.json<Page<Row>>(`/v1.0/me/messages?$filter=${encodeURIComponent('receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq true')}&$orderby=receivedDateTime desc&$select=subject`);
    expect(sorted.value.map((m) => m.subject)).toEqual(['c', 'a']);
  });

  it('$search in KQL; refused with $orderby or $filter; no exact @odata.count', async () => {
    const u = newUser();
    graph.addMessage(u.email, rfc822('Quarterly report', '', 'The numbers for pizza night.\r\n'), { receivedDateTime: day(1) });
    graph.addMessage(u.email, rfc822('Lunch plans').replace('bob@example.org', 'carol@example.net'), { receivedDateTime: day(2) });
    graph.addMessage(u.email, rfc822('Other report', '', 'Nothing about food.\r\n'), { receivedDateTime: day(3), folder: 'archive' });
    const found = async (q: string) =>
      (await u.json<Page<Row>>(`/v1.0/me/messages?$search=${encodeURIComponent(q)}&$select=subject`)).value.map((m) => m.subject);
    expect(await found('"report"')).toEqual(['Other report', 'Quarterly report']);
    expect(await found('"pizza"')).toEqual(['Quarterly report']);
    expect(await found('"from:carol@example.net"')).toEqual(['Lunch plans']);
    expect(await found('"subject:lunch OR body:pizza"')).toEqual(['Lunch plans', 'Quarterly report']);
    expect(await found('"report NOT pizza"')).toEqual(['Other report']);
    expect(await found('"subject:\\"quarterly report\\""')).toEqual(['Quarterly report']);
    expect(await found('"participants:ann@contoso.test subject:other"')).toEqual(['Other report']);
    expect(await found('"nomatch"')).toEqual([]);
    // Folder-scoped.
    expect((await u.json<Page<Row>>('/v1.0/me/mailFolders/inbox/messages?$search="report"')).value).toHaveLength(1);

    const withOrder = await u.call('/v1.0/me/messages?$search="report"&$orderby=receivedDateTime desc');
    expect(withOrder.status).toBe(400);
    expect(withOrder.json<GraphErrorBody>().error).toMatchObject({ code: 'SearchWithOrderBy', message: "The query parameter '$orderBy' is not supported with '$search'." });
    const withFilter = await u.call('/v1.0/me/messages?$search="report"&$filter=isRead eq false');
    expect(withFilter.status).toBe(400);
    expect(withFilter.json<GraphErrorBody>().error.message).toBe("The query parameter '$filter' is not supported with '$search'.");
    const counted = await u.json<Page<Row>>('/v1.0/me/messages?$search="report"&$count=true');
    expect(counted.value).toHaveLength(2);
    expect(counted['@odata.count']).toBeUndefined();
  });

  it('$value returns the MIME byte for byte, as text/plain', async () => {
    const u = newUser();
    // CRLF and a bare LF, 8-bit bytes that are not UTF-8, trailing blanks: nothing may be normalised.
    const bytes = Buffer.concat([Buffer.from(rfc822('bytes', 'Content-Type: text/plain; charset=iso-8859-1\r\n', 'caf\xe9 \t \r\nbare\nend'), 'latin1'), Buffer.from([0xe9, 0xff, 0x0d, 0x0a])]);
    const m = graph.addMessage(u.email, bytes);
    for (const id of [m.immutableId, m.regularId]) {
      const answer = await u.call(`/v1.0/me/messages/${id}/$value`);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/plain');
      expect(answer.body.equals(bytes)).toBe(true);
    }
    expect((await u.call(`/v1.0/me/messages/${m.immutableId}/%24value`)).body.equals(bytes)).toBe(true);
  });
});

describe('changing messages', () => {
  it('PATCH sets isRead and the flag, with a new changeKey; unknown properties refused', async () => {
    const u = newUser();
    const m = graph.addMessage(u.email, rfc822('patch'));
    const before = m.changeKey;
    const patched = await u.json<Row>(`/v1.0/me/messages/${m.immutableId}`, { method: 'PATCH', headers: IMMUTABLE, body: { isRead: true, flag: { flagStatus: 'flagged' } } });
    expect(patched).toMatchObject({ id: m.immutableId, isRead: true, flag: { flagStatus: 'flagged' } });
    expect(patched.changeKey).not.toBe(before);
    expect(graph.mailbox(u.email).messages.get(m.immutableId)).toMatchObject({ isRead: true, flagStatus: 'flagged' });
    await u.json(`/v1.0/me/messages/${m.immutableId}`, { method: 'PATCH', body: { flag: { flagStatus: 'complete' } } });
    expect(m.flagStatus).toBe('complete');
    const bad = await u.call(`/v1.0/me/messages/${m.immutableId}`, { method: 'PATCH', body: { wellKnownName: 'x' } });
    expect(bad.status).toBe(400);
    const badFlag = await u.call(`/v1.0/me/messages/${m.immutableId}`, { method: 'PATCH', body: { flag: { flagStatus: 'red' } } });
    expect(badFlag.status).toBe(400);
  });

  it('move keeps an immutable id; a regular id changes with the folder and the old one stops resolving', async () => {
    const u = newUser();
    const one = graph.addMessage(u.email, rfc822('immutable'));
    const moved = await u.json<Row>(`/v1.0/me/messages/${one.immutableId}/move`, { headers: IMMUTABLE, body: { destinationId: 'archive' } });
    expect(moved.id).toBe(one.immutableId);
    expect(moved.parentFolderId).toBe(graph.mailbox(u.email).wellKnown('archive').id);
    expect((await u.call(`/v1.0/me/messages/${one.immutableId}`, { headers: IMMUTABLE })).status).toBe(200);

    const two = graph.addMessage(u.email, rfc822('regular'));
    const oldId = two.regularId;
    const listed = await u.json<Page<Row>>('/v1.0/me/mailFolders/inbox/messages?$select=id');
    expect(listed.value.map((m) => m.id)).toEqual([oldId]);
    const archive = graph.mailbox(u.email).wellKnown('archive').id;
    const movedAgain = await u.call(`/v1.0/me/messages/${oldId}/move`, { body: { destinationId: archive } });
    expect(movedAgain.status).toBe(201);
    const newId = movedAgain.json<Row>().id!;
    expect(newId).not.toBe(oldId);
    expect(newId).toBe(two.regularId);
    const gone = await u.call(`/v1.0/me/messages/${oldId}`);
    expect(gone.status).toBe(404);
    expect(gone.json<GraphErrorBody>().error).toMatchObject({ code: 'ErrorItemNotFound' });
    expect((await u.call(`/v1.0/me/messages/${newId}`)).status).toBe(200);

    // The log says which requests asked for immutable ids.
    expect(graph.requests({ user: u.email, api: 'messages.move' }).map((r) => r.immutableIds)).toEqual([true, false]);
    const bad = await u.call(`/v1.0/me/messages/${newId}/move`, { body: { destinationId: 'nowhere' } });
    expect(bad.status).toBe(400);
  });

  it('DELETE moves to Deleted Items (and from there for good); permanentDelete removes at once; another mailbox\'s id is refused', async () => {
    const u = newUser();
    const m = graph.addMessage(u.email, rfc822('bin'));
    expect((await u.call(`/v1.0/me/messages/${m.immutableId}`, { method: 'DELETE' })).status).toBe(204);
    expect(m.folderId).toBe(graph.mailbox(u.email).wellKnown('deleteditems').id);
    expect((await u.call(`/v1.0/me/messages/${m.immutableId}`, { method: 'DELETE' })).status).toBe(204);
    expect(graph.mailbox(u.email).messages.has(m.immutableId)).toBe(false);

    const p = graph.addMessage(u.email, rfc822('perm'));
    expect((await u.call(`/v1.0/me/messages/${p.immutableId}/permanentDelete`, { method: 'POST' })).status).toBe(204);
    expect((await u.call(`/v1.0/me/messages/${p.immutableId}`)).status).toBe(404);

    const other = newUser();
    const theirs = graph.addMessage(other.email, rfc822('theirs'));
    const refused = await u.call(`/v1.0/me/messages/${theirs.immutableId}`);
    expect(refused.status).toBe(400);
    expect(refused.json<GraphErrorBody>().error.code).toBe('ErrorInvalidMailboxItemId');
  });
});

describe('delta', () => {
  it('pages a first sync by odata.maxpagesize with $skiptoken links, ends with a $deltatoken link, then reports only changes', async () => {
    const u = newUser();
    for (let i = 1; i <= 25; i++) graph.addMessage(u.email, rfc822(`d${i}`), { receivedDateTime: day(i) });
    const prefer = { prefer: 'IdType="ImmutableId", odata.maxpagesize=10' };
    const first = await u.all<Row>('/v1.0/me/mailFolders/inbox/messages/delta?$select=subject,isRead', { headers: prefer });
    expect(first.pages.map((p) => p.value.length)).toEqual([10, 10, 5]);
    expect(first.pages[0]!['@odata.nextLink']).toMatch(new RegExp(`^${graph.url}/v1\\.0/.*\\$skiptoken=`));
    const deltaLink = first.pages[2]!['@odata.deltaLink']!;
    expect(deltaLink).toMatch(/\$deltatoken=/);
    expect(new Set(first.items.map((m) => m.subject)).size).toBe(25);
    expect(Object.keys(first.items[0]!).sort()).toEqual(['@odata.etag', 'id', 'isRead', 'subject']);

    // Nothing changed: one call, empty, a new delta link.
    const quiet = await u.json<Page<Row>>(deltaLink, { headers: prefer });
    expect(quiet.value).toEqual([]);
    expect(quiet['@odata.deltaLink']).toMatch(/\$deltatoken=/);
    expect(quiet['@odata.deltaLink']).not.toBe(deltaLink);

    const box = graph.mailbox(u.email);
    const [read, moved, deleted] = [...box.inFolder(box.wellKnown('inbox').id)].slice(0, 3);
    await u.json(`/v1.0/me/messages/${read!.immutableId}`, { method: 'PATCH', body: { isRead: true }, headers: IMMUTABLE });
    await u.json(`/v1.0/me/messages/${moved!.immutableId}/move`, { body: { destinationId: 'archive' }, headers: IMMUTABLE });
    await u.call(`/v1.0/me/messages/${deleted!.immutableId}/permanentDelete`, { method: 'POST', headers: IMMUTABLE });
    const added = graph.addMessage(u.email, rfc822('new one'));
    const changes = await u.json<Page<Row>>(quiet['@odata.deltaLink']!, { headers: prefer });
    expect(changes.value).toEqual([
      { '@odata.etag': expect.any(String), id: read!.immutableId, subject: read!.facts.subject, isRead: true },
      { '@odata.type': '#microsoft.graph.message', id: moved!.immutableId, '@removed': { reason: 'deleted' } },
      { '@odata.type': '#microsoft.graph.message', id: deleted!.immutableId, '@removed': { reason: 'deleted' } },
      { '@odata.etag': expect.any(String), id: added.immutableId, subject: 'new one', isRead: false },
    ]);
    expect(graph.requests({ user: u.email, api: 'messages.delta' }).every((r) => r.immutableIds)).toBe(true);
  });

  it('a move shows as removed in the old folder and new in the other: same id when immutable, old and new regular ids otherwise', async () => {
    const u = newUser();
    const m = graph.addMessage(u.email, rfc822('traveller'));
    const sync = async (folder: string, headers: Record<string, string>) => (await u.all<Row>(`/v1.0/me/mailFolders/${folder}/messages/delta?$select=subject`, { headers })).pages.at(-1)!['@odata.deltaLink']!;
    const links = {
      inboxImm: await sync('inbox', IMMUTABLE), archiveImm: await sync('archive', IMMUTABLE),
      inboxReg: await sync('inbox', {}), archiveReg: await sync('archive', {}),
    };
    const oldRegular = m.regularId;
    await u.json(`/v1.0/me/messages/${m.immutableId}/move`, { body: { destinationId: 'archive' } });
    const page = (link: string, headers: Record<string, string> = {}) => u.json<Page<Row>>(link, { headers });
    expect((await page(links.inboxImm, IMMUTABLE)).value).toEqual([{ '@odata.type': '#microsoft.graph.message', id: m.immutableId, '@removed': { reason: 'deleted' } }]);
    expect((await page(links.archiveImm, IMMUTABLE)).value).toEqual([expect.objectContaining({ id: m.immutableId, subject: 'traveller' })]);
    expect((await page(links.inboxReg)).value).toEqual([{ '@odata.type': '#microsoft.graph.message', id: oldRegular, '@removed': { reason: 'deleted' } }]);
    expect((await page(links.archiveReg)).value).toEqual([expect.objectContaining({ id: m.regularId, subject: 'traveller' })]);
    expect(m.regularId).not.toBe(oldRegular);
  });

  it('expired sync state: old links answer 410 SyncStateNotFound, a fresh sync works; other folders unaffected', async () => {
    const u = newUser();
    graph.addMessage(u.email, rfc822('x'));
    const start = (folder: string) => u.json<Page<Row>>(`/v1.0/me/mailFolders/${folder}/messages/delta`, { headers: { prefer: 'odata.maxpagesize=1' } });
    const inbox = await start('inbox');
    const archive = await start('archive');
    graph.addMessage(u.email, rfc822('y'));
    const pending = (await start('inbox'))['@odata.nextLink']!;
    graph.expireDelta(u.email, 'inbox');
    for (const link of [inbox['@odata.nextLink'] ?? inbox['@odata.deltaLink']!, pending]) {
      const gone = await u.call(link);
      expect(gone.status).toBe(410);
      expect(gone.json<GraphErrorBody>().error.code).toBe('SyncStateNotFound');
    }
    expect((await u.call(archive['@odata.deltaLink']!)).status).toBe(200);
    expect((await start('inbox')).value).toHaveLength(1);
    graph.expireDelta(u.email);
    expect((await u.call(archive['@odata.deltaLink']!)).status).toBe(410);
    expect((await u.call('/v1.0/me/mailFolders/inbox/messages/delta?$deltatoken=never-given')).status).toBe(410);
  });
});

describe('$batch', () => {
  it('answers each request by id; a part can be throttled (429, Retry-After) while the others succeed; non-JSON bodies base64', async () => {
    const u = newUser();
    const m = graph.addMessage(u.email, rfc822('batched'));
    graph.injectError({ api: 'mailFolders.get', user: u.email, status: 429, retryAfter: 7 });
    const answer = await u.json<{ responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] }>('/v1.0/$batch', {
      body: {
        requests: [
          { id: '1', method: 'GET', url: '/me/mailFolders/inbox?$select=id', headers: IMMUTABLE },
          { id: '2', method: 'GET', url: '/me/mailFolders/sentitems?$select=id', headers: IMMUTABLE },
          { id: '3', method: 'GET', url: `/me/messages/${m.immutableId}/$value`, headers: IMMUTABLE },
          { id: '4', method: 'PATCH', url: `me/messages/${m.immutableId}`, headers: { 'content-type': 'application/json', ...IMMUTABLE }, body: { isRead: true } },
        ],
      },
    });
    const byId = Object.fromEntries(answer.responses.map((r) => [r.id, r]));
    expect(byId['1']).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'ApplicationThrottled' } } });
    expect(byId['2']).toMatchObject({ status: 200, body: { id: graph.mailbox(u.email).wellKnown('sentitems').id } });
    expect(Buffer.from(byId['3']!.body as string, 'base64').equals(m.raw)).toBe(true);
    expect(byId['4']).toMatchObject({ status: 200, body: { isRead: true } });
    expect(m.isRead).toBe(true);
    const parts = graph.requests({ user: u.email, inBatch: true });
    expect(parts).toHaveLength(4);
    expect(parts.every((r) => r.immutableIds)).toBe(true);
    expect(graph.requests({ user: u.email, api: 'batch' })).toHaveLength(1);
  });

  it('refuses more than 20 requests, a part without Content-Type for its body; scopes apply per part', async () => {
    const u = newUser(['Mail.Read']);
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me/mailFolders/inbox' }));
    const tooMany = await u.call('/v1.0/$batch', { body: { requests: many } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json<GraphErrorBody>().error.code).toBe('BadRequest');
    const noType = await u.call('/v1.0/$batch', { body: { requests: [{ id: '1', method: 'PATCH', url: '/me/messages/x', body: { isRead: true } }] } });
    expect(noType.status).toBe(400);
    const m = graph.addMessage(u.email, rfc822('scoped'));
    const mixed = await u.json<{ responses: { id: string; status: number; body?: GraphErrorBody }[] }>('/v1.0/$batch', {
      body: {
        requests: [
          { id: 'r', method: 'GET', url: `/me/messages/${m.immutableId}?$select=subject` },
          { id: 'w', method: 'PATCH', url: `/me/messages/${m.immutableId}`, headers: { 'content-type': 'application/json' }, body: { isRead: true } },
          { id: 'after', method: 'GET', url: `/me/messages/${m.immutableId}`, dependsOn: ['w'] },
        ],
      },
    });
    expect(mixed.responses.map((r) => [r.id, r.status])).toEqual([['r', 200], ['w', 403], ['after', 424]]);
    expect(mixed.responses[1]!.body!.error).toMatchObject({ code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
  });
});

describe('auth and scopes', () => {
  it('reads need Mail.Read or Mail.ReadWrite; changes Mail.ReadWrite; sending Mail.Send; bad tokens 401', async () => {
    const reader = newUser(['Mail.Read']);
    const m = graph.addMessage(reader.email, rfc822('scoped'));
    expect((await reader.call('/v1.0/me/mailFolders/inbox/messages')).status).toBe(200);
    const patch = await reader.call(`/v1.0/me/messages/${m.immutableId}`, { method: 'PATCH', body: { isRead: true } });
    expect(patch.status).toBe(403);
    expect(patch.json<GraphErrorBody>().error).toMatchObject({ code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' });
    for (const [path, method] of [[`/v1.0/me/messages/${m.immutableId}/move`, 'POST'], [`/v1.0/me/messages/${m.immutableId}`, 'DELETE'], [`/v1.0/me/messages/${m.immutableId}/permanentDelete`, 'POST']] as const) {
      expect((await reader.call(path, { method, body: method === 'POST' ? { destinationId: 'archive' } : undefined })).status).toBe(403);
    }
    const send = await reader.call('/v1.0/me/sendMail', { body: Buffer.from(rfc822('s')).toString('base64'), headers: { 'content-type': 'text/plain' } });
    expect(send.status).toBe(403);
    expect(m.isRead).toBe(false);

    const writer = newUser(['https://graph.microsoft.com/Mail.ReadWrite']);
    expect((await writer.call('/v1.0/me/sendMail', { body: Buffer.from(rfc822('s')).toString('base64'), headers: { 'content-type': 'text/plain' } })).status).toBe(403);
    const sender = newUser(['Mail.Send']);
    expect((await sender.call('/v1.0/me/messages')).status).toBe(403);

    const bad = await http.call('/v1.0/me/mailFolders', { token: 'not-a-token' });
    expect(bad.status).toBe(401);
    expect(bad.json<GraphErrorBody>().error.code).toBe('InvalidAuthenticationToken');
    expect((await http.call('/v1.0/me/mailFolders')).status).toBe(401);
    const revoked = newUser();
    graph.revokeToken(revoked.token);
    expect((await revoked.call('/v1.0/me/mailFolders')).status).toBe(401);
    // /users/{upn} is the same mailbox for its owner, someone else's is refused.
    expect((await reader.call(`/v1.0/users/${reader.email}/mailFolders/inbox`)).status).toBe(200);
    expect((await reader.call(`/v1.0/users/${writer.email}/mailFolders/inbox`)).status).toBe(403);
  });
});

describe('sending', () => {
  it('sendMail takes base64 MIME as text/plain: 202, a copy in Sent Items, delivery here without Bcc; 4 MB limit; bad base64', async () => {
    const u = newUser();
    const rcpt = newUser();
    const raw = `From: ${u.email}\r\nTo: ${rcpt.email}\r\nBcc: hidden@example.org\r\nSubject: sent by MIME\r\nMessage-ID: <sent1@contoso.test>\r\n\r\nbody\r\n`;
    const answer = await u.call('/v1.0/me/sendMail', { body: Buffer.from(raw).toString('base64'), headers: { 'content-type': 'text/plain' } });
    expect(answer.status).toBe(202);
    expect(answer.body.length).toBe(0);
    const record = graph.sent().find((s) => s.from === u.email)!;
    expect(record.recipients).toEqual([rcpt.email, 'hidden@example.org']);
    expect(record.raw.toString()).toBe(raw);
    const sentItems = await u.json<Page<Row>>('/v1.0/me/mailFolders/sentitems/messages?$select=subject,isRead,bccRecipients');
    expect(sentItems.value).toEqual([expect.objectContaining({ subject: 'sent by MIME', isRead: true, bccRecipients: [{ emailAddress: { name: 'hidden@example.org', address: 'hidden@example.org' } }] })]);
    const delivered = [...graph.mailbox(rcpt.email).messages.values()];
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.raw.toString()).not.toMatch(/hidden@/);

    const big = Buffer.alloc(3.2 * 1024 * 1024, 'a');
    const tooBig = await u.call('/v1.0/me/sendMail', { body: Buffer.concat([Buffer.from(raw), big]).toString('base64'), headers: { 'content-type': 'text/plain' } });
    expect(tooBig.status).toBe(413);
    expect(tooBig.json<GraphErrorBody>().error.code).toBe('ErrorRequestEntityTooLarge');
    const badBase64 = await u.call('/v1.0/me/sendMail', { body: 'not base64 at all!', headers: { 'content-type': 'text/plain' } });
    expect(badBase64.status).toBe(400);
    expect(badBase64.json<GraphErrorBody>().error.code).toBe('ErrorMimeContentInvalidBase64String');
    expect(graph.sent().filter((s) => s.from === u.email)).toHaveLength(1);

    // The JSON form too: Exchange writes the MIME, From is the mailbox.
    const asJson = await u.call('/v1.0/me/sendMail', { body: { message: { subject: 'as JSON', body: { contentType: 'Text', content: 'hi' }, toRecipients: [{ emailAddress: { address: rcpt.email } }] }, saveToSentItems: false } });
    expect(asJson.status).toBe(202);
    const last = graph.sent().at(-1)!;
    expect(last).toMatchObject({ from: u.email, recipients: [rcpt.email] });
    expect(last.raw.toString()).toMatch(new RegExp(`^From: ${u.email}\r\nTo: <${rcpt.email}>\r\n`));
    expect((await u.json<Page<Row>>('/v1.0/me/mailFolders/sentitems/messages?$select=subject')).value.map((m) => m.subject)).toEqual(['sent by MIME']);
  });

  it('large path: draft from MIME, upload session in ordered chunks without a bearer token, then send', async () => {
    const u = newUser();
    const rcpt = 'far@example.org';
    const draft = await u.json<Row>('/v1.0/me/messages', { body: Buffer.from(`To: ${rcpt}\r\nSubject: big one\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n`).toString('base64'), headers: { 'content-type': 'text/plain', ...IMMUTABLE } });
    expect(draft).toMatchObject({ isDraft: true, subject: 'big one', parentFolderId: graph.mailbox(u.email).wellKnown('drafts').id });
    const small = await u.call(`/v1.0/me/messages/${draft.id}/attachments/createUploadSession`, { body: { AttachmentItem: { attachmentType: 'file', name: 'small.bin', size: 1000 } } });
    expect(small.status).toBe(400);
    expect(small.json<GraphErrorBody>().error.code).toBe('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');

    const content = Buffer.alloc(3.5 * 1024 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
    const created = await u.call(`/v1.0/me/messages/${draft.id}/attachments/createUploadSession`, { body: { AttachmentItem: { attachmentType: 'file', name: 'big.bin', size: content.length, contentType: 'application/octet-stream' } } });
    expect(created.status).toBe(201);
    const session = created.json<UploadSession>();
    expect(session.expirationDateTime).toMatch(/Z$/);
    const put = (start: number, end: number, token?: string) =>
      http.call(session.uploadUrl!, { method: 'PUT', token, body: content.subarray(start, end), headers: { 'content-range': `bytes ${start}-${end - 1}/${content.length}`, 'content-type': 'application/octet-stream' } });
    const half = 2 * 1024 * 1024;
    expect((await put(0, half, u.token)).status).toBe(401);
    expect((await put(half, content.length)).status).toBe(416);
    const one = await put(0, half);
    expect(one.status).toBe(200);
    expect(one.json<UploadSession>().nextExpectedRanges).toEqual([`${half}-`]);
    const two = await put(half, content.length);
    expect(two.status).toBe(201);
    expect(two.headers.location).toMatch(/Attachments\('/);

    expect((await u.call(`/v1.0/me/messages/${draft.id}/send`, { method: 'POST' })).status).toBe(202);
    const record = graph.sent().find((s) => s.from === u.email)!;
    expect(record.recipients).toEqual([rcpt]);
    expect(record.raw.toString('latin1')).toMatch(/Content-Type: multipart\/mixed/);
    expect(record.raw.toString('latin1')).toContain('filename="big.bin"');
    expect(record.raw.toString('latin1')).toContain(content.subarray(0, 57).toString('base64'));
    expect(graph.mailbox(u.email).counts(graph.mailbox(u.email).wellKnown('drafts').id).total).toBe(0);
    expect((await u.json<Page<Row>>('/v1.0/me/mailFolders/sentitems/messages?$select=subject,hasAttachments')).value).toEqual([expect.objectContaining({ subject: 'big one', hasAttachments: true })]);
    expect(graph.uploads().map((x) => x.status)).toEqual(expect.arrayContaining([401, 416, 200, 201]));
  });
});

describe('throttling', () => {
  it('a fifth request in flight for a mailbox gets 429 MailboxConcurrency with Retry-After; the request budget runs out with 429 too', async () => {
    const slow = await startGraphServer({ ca, latencyMs: 300, throttle: { requestsPerWindow: 8, windowMs: 60_000 } });
    const client = graphClient(slow.url, slow.caFile);
    try {
      const u = newUser(['Mail.Read'], slow, client);
      const other = newUser(['Mail.Read'], slow, client);
      const answers = await Promise.all([...Array.from({ length: 5 }, () => u.call('/v1.0/me/mailFolders/inbox')), other.call('/v1.0/me/mailFolders/inbox')]);
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(1);
      expect(statuses[5]).toBe(200);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json<GraphErrorBody>().error).toMatchObject({ code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' });
      expect(slow.maxInFlightSeen(u.email)).toBe(4);

      // 4 spent above; 4 more fit in the window of 8, the next is refused until the window moves.
      for (let i = 0; i < 4; i++) expect((await u.call('/v1.0/me/mailFolders/inbox')).status).toBe(200);
      const over = await u.call('/v1.0/me/mailFolders/inbox');
      expect(over.status).toBe(429);
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(50);
      expect(over.json<GraphErrorBody>().error.code).toBe('TooManyRequests');
      // Batch parts spend from the same budget, each on its own.
      const batch = await u.json<{ responses: { status: number }[] }>('/v1.0/$batch', { body: { requests: [{ id: '1', method: 'GET', url: '/me/mailFolders/inbox' }] } });
      expect(batch.responses[0]!.status).toBe(429);
      slow.setThrottle({ requestsPerWindow: Infinity });
      expect((await u.call('/v1.0/me/mailFolders/inbox')).status).toBe(200);
    } finally {
      client.close();
      await slow.stop();
    }
  });
});

describe('the bed', () => {
  it('grants a token the way a person does, which the fake checks by introspection with its scopes', async () => {
    const bed = await startGraphBed();
    try {
      const email = bed.newUser('ann');
      expect(email).toMatch(/^ann-1-[0-9a-f]{6}@contoso\.test$/);
      bed.graph.addMessage(email, rfc822('from the bed'));
      const token = await bed.grantToken(email, ['https://graph.microsoft.com/Mail.Read']);
      const client = graphClient(bed.graph.url, bed.ca.certPath);
      try {
        const list = await client.call('/v1.0/me/mailFolders/inbox/messages?$select=subject', { token });
        expect(list.status).toBe(200);
        expect(list.json<Page<Row>>().value.map((m) => m.subject)).toEqual(['from the bed']);
        const id = list.json<Page<Row>>().value[0]!.id!;
        expect((await client.call(`/v1.0/me/messages/${id}`, { token, method: 'PATCH', body: { isRead: true } })).status).toBe(403);
        expect(bed.idp.introspections().active).toBeGreaterThanOrEqual(2);
        bed.idp.revokeUser(email);
        expect((await client.call('/v1.0/me/mailFolders', { token })).status).toBe(401);
      } finally {
        client.close();
      }
      expect(bed.env()).toMatchObject({ MAILOPS_GRAPH_URL: bed.graph.url, MAILOPS_MS_AUTHORITY: bed.idp.msAuthority, NODE_EXTRA_CA_CERTS: bed.ca.certPath, BROWSER: bed.browser });
    } finally {
      await bed.stop();
    }
  });
});
