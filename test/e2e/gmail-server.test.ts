// The Gmail fake checked the way the product will use it: HTTPS with the suite's CA, bodies as
// the wire carries them (raw bytes, batch multipart), and the library's own client pointed at it
// to prove the shapes are the ones @googleapis/gmail expects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { gmail_v1 } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, type CertAuthority } from '../support/certs.js';
import { startGmailBed } from '../support/gmail-bed.js';
import { SCOPES, startGmailServer, type GmailServer } from '../support/gmail-server.js';
import { gmailClient, type HttpCall } from '../support/gmail/client.js';
import type { GoogleErrorBody } from '../support/gmail/errors.js';

let dir: string;
let ca: CertAuthority;
let gmail: GmailServer;
let http: ReturnType<typeof gmailClient>;
let userCount = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailops-gmail-'));
  ca = await makeCa(join(dir, 'ca'));
  gmail = await startGmailServer({ ca, quota: { unitsPerWindow: Infinity } });
  http = gmailClient(gmail.url, gmail.caFile);
});

afterAll(async () => {
  http?.close();
  await gmail?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh mailbox per test and a token for it: tests share the server, never a mailbox. */
function newUser(scopes: string[] = [SCOPES.modify]) {
  const email = `user${++userCount}@example.com`;
  gmail.addUser(email);
  const token = gmail.token(email, scopes);
  const call = (path: string, opts: HttpCall = {}) => http.call(path, { token, ...opts });
  const json = async <T>(path: string, opts: HttpCall = {}): Promise<T> => {
    const answer = await call(path, opts);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.body.toString()}`);
    return answer.json<T>();
  };
  return { email, token, call, json };
}

function rfc822(subject: string, extra = '', body = 'Hello there.\r\n'): string {
  return `From: Bob <bob@example.org>\r\nTo: ann@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extra}\r\n${body}`;
}

const M = '/gmail/v1/users/me';

describe('profile and labels', () => {
  it('lists system labels, nests user labels on /, counts on get, refuses duplicates', async () => {
    const u = newUser();
    const profile = await u.json<gmail_v1.Schema$Profile>(`${M}/profile`);
    expect(profile).toMatchObject({ emailAddress: u.email, messagesTotal: 0, threadsTotal: 0 });
    expect(profile.historyId).toMatch(/^\d+$/);

    const { labels } = await u.json<gmail_v1.Schema$ListLabelsResponse>(`${M}/labels`);
    for (const id of ['INBOX', 'SENT', 'DRAFT', 'TRASH', 'SPAM', 'STARRED', 'IMPORTANT', 'UNREAD', 'CATEGORY_SOCIAL']) {
      expect(labels).toContainEqual({ id, name: id, type: 'system' });
    }

    const parent = await u.json<gmail_v1.Schema$Label>(`${M}/labels`, { body: { name: 'Projects' } });
    const child = await u.json<gmail_v1.Schema$Label>(`${M}/labels`, { body: { name: 'Projects/Alpha' } });
    expect(child).toMatchObject({ name: 'Projects/Alpha', type: 'user', id: expect.stringMatching(/^Label_\d+$/) });
    const dup = await u.call(`${M}/labels`, { body: { name: 'projects' } });
    expect(dup.status).toBe(409);

    gmail.addMessage(u.email, rfc822('one'), { labelIds: ['INBOX', 'UNREAD', child.id!] });
    gmail.addMessage(u.email, rfc822('two'), { labelIds: ['INBOX'] });
    expect(await u.json(`${M}/labels/INBOX`)).toEqual({ id: 'INBOX', name: 'INBOX', type: 'system', messagesTotal: 2, messagesUnread: 1, threadsTotal: 2, threadsUnread: 1 });
    expect(await u.json(`${M}/labels/${child.id}`)).toMatchObject({ messagesTotal: 1, messagesUnread: 1 });

    const renamed = await u.json<gmail_v1.Schema$Label>(`${M}/labels/${parent.id}`, { method: 'PATCH', body: { name: 'Work' } });
    expect(renamed).toMatchObject({ id: parent.id, name: 'Work', labelListVisibility: 'labelShow' });
    // update replaces: what it does not name is gone (patch above kept it).
    const replaced = await u.json<gmail_v1.Schema$Label>(`${M}/labels/${parent.id}`, { method: 'PUT', body: { name: 'Work', messageListVisibility: 'hide' } });
    expect(replaced).toEqual({ id: parent.id, name: 'Work', type: 'user', messageListVisibility: 'hide' });
    expect((await u.call(`${M}/labels/INBOX`, { method: 'PATCH', body: { name: 'Mine' } })).status).toBe(400);
    expect((await u.call(`${M}/labels/${child.id}`, { method: 'DELETE' })).status).toBe(204);
    expect([...gmail.mailbox(u.email).messages.values()].some((m) => m.labelIds.has(child.id!))).toBe(false);
    expect((await u.call(`${M}/labels/${child.id}`)).status).toBe(404);
  });
});

describe('messages', () => {
  it('keeps the exact bytes: format=raw is base64url of what was inserted, by JSON or upload', async () => {
    const u = newUser();
    // CRLF and a bare LF, 8-bit bytes that are not UTF-8, trailing blanks: nothing may be normalised.
    const bytes = Buffer.concat([Buffer.from(rfc822('bytes', 'Content-Type: text/plain; charset=iso-8859-1\r\n', 'caf\xe9 \t \r\nbare\nend')), Buffer.from([0xe9, 0xff, 0x0d, 0x0a])]);
    const inserted = await u.json<gmail_v1.Schema$Message>(`${M}/messages`, { body: { raw: bytes.toString('base64url'), labelIds: ['INBOX'] } });
    const uploaded = await u.json<gmail_v1.Schema$Message>('/upload/gmail/v1/users/me/messages?uploadType=media', { body: bytes, headers: { 'content-type': 'message/rfc822' } });
    for (const { id } of [inserted, uploaded]) {
      const got = await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}?format=raw`);
      expect(Buffer.from(got.raw!, 'base64url').equals(bytes)).toBe(true);
      expect(got.raw).not.toMatch(/[+/=]/);
      expect(got.sizeEstimate).toBe(bytes.length);
      expect(got.payload).toBeUndefined();
    }
  });

  it('dates an insert by its arrival and an import by its Date header unless told otherwise', async () => {
    const u = newUser();
    const raw = Buffer.from(rfc822('dated', 'Date: Tue, 03 Mar 2026 10:00:00 +0000\r\n')).toString('base64url');
    const before = Date.now();
    const date = async (path: string) => {
      const { id } = await u.json<gmail_v1.Schema$Message>(path, { body: { raw } });
      return Number((await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}?format=minimal`)).internalDate);
    };
    expect(await date(`${M}/messages/import`)).toBe(Date.UTC(2026, 2, 3, 10));
    expect(await date(`${M}/messages?internalDateSource=dateHeader`)).toBe(Date.UTC(2026, 2, 3, 10));
    expect(await date(`${M}/messages`)).toBeGreaterThanOrEqual(before);
  });

  it('answers metadata with the headers asked for, minimal without payload, full as a part tree', async () => {
    const u = newUser();
    const raw = [
      'From: a@example.org', 'To: ann@example.com', 'Subject: parts', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable', '', 'Gr=C3=BC=C3=9Fe aus Berlin', '--b1',
      'Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="a.pdf"',
      'Content-Transfer-Encoding: base64', '', Buffer.from('%PDF-1.4 fake').toString('base64'), '--b1--', '',
    ].join('\r\n');
    const { id } = gmail.addMessage(u.email, raw, { labelIds: ['INBOX'] });

    const meta = await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}?format=metadata&metadataHeaders=subject&metadataHeaders=From`);
    expect(meta.payload!.headers).toEqual([{ name: 'From', value: 'a@example.org' }, { name: 'Subject', value: 'parts' }]);
    expect(meta.snippet).toBe('Grüße aus Berlin');
    const quoted = gmail.addMessage(u.email, rfc822('q', '', "I'm <here> & \"there\"\r\n"));
    expect((await u.json<gmail_v1.Schema$Message>(`${M}/messages/${quoted.id}?format=minimal`)).snippet).toBe('I&#39;m &lt;here&gt; &amp; &quot;there&quot;');

    const minimal = await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}?format=minimal`);
    expect(minimal.payload).toBeUndefined();
    expect(minimal).toMatchObject({ id, labelIds: ['INBOX'], internalDate: expect.stringMatching(/^\d+$/) });

    const full = await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}`);
    const [text, pdf] = full.payload!.parts!;
    expect(full.payload).toMatchObject({ partId: '', mimeType: 'multipart/mixed' });
    expect(Buffer.from(text!.body!.data!, 'base64url').toString()).toBe('Grüße aus Berlin');
    expect(pdf).toMatchObject({ partId: '1', filename: 'a.pdf', body: { size: 13 } });
    const att = await u.json<gmail_v1.Schema$MessagePartBody>(`${M}/messages/${id}/attachments/${pdf!.body!.attachmentId}`);
    expect(Buffer.from(att.data!, 'base64url').toString()).toBe('%PDF-1.4 fake');
  });

  it('lists newest first by internalDate, in pages whose tokens survive new mail', async () => {
    const u = newUser();
    const ids = [5, 1, 7, 3, 6, 2, 4].map((day) => ({ day, id: gmail.addMessage(u.email, rfc822(`day ${day}`), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 0, day) }).id }));
    const expected = ids.sort((a, b) => b.day - a.day).map((m) => m.id);

    const first = await u.json<gmail_v1.Schema$ListMessagesResponse>(`${M}/messages?maxResults=3`);
    expect(first.resultSizeEstimate).toBe(7);
    expect(first.messages!.map((m) => m.id)).toEqual(expected.slice(0, 3));
    expect(first.messages![0]).toEqual({ id: expected[0], threadId: expect.any(String) });
    // A newer message arriving between pages must not shift the next page.
    gmail.addMessage(u.email, rfc822('late'), { labelIds: ['INBOX'], internalDate: Date.UTC(2026, 0, 9) });
    const second = await u.json<gmail_v1.Schema$ListMessagesResponse>(`${M}/messages?maxResults=3&pageToken=${first.nextPageToken}`);
    expect(second.messages!.map((m) => m.id)).toEqual(expected.slice(3, 6));
    const third = await u.json<gmail_v1.Schema$ListMessagesResponse>(`${M}/messages?maxResults=3&pageToken=${second.nextPageToken}`);
    expect(third.messages!.map((m) => m.id)).toEqual(expected.slice(6));
    expect(third.nextPageToken).toBeUndefined();

    const none = await u.json<gmail_v1.Schema$ListMessagesResponse>(`${M}/messages?labelIds=SPAM`);
    expect(none).toEqual({ resultSizeEstimate: 0 });
  });

  it('searches with the q subset the client compiles to', async () => {
    const u = newUser();
    const work = gmail.addLabel(u.email, 'Work/Reports');
    const add = (subject: string, labelIds: string[], day: number, extra = '', body?: string) =>
      gmail.addMessage(u.email, rfc822(subject, extra, body), { labelIds, internalDate: Date.UTC(2026, 2, day) }).id;
    const a = add('quarterly numbers', ['INBOX', 'UNREAD', work], 1);
    const b = add('lunch', ['INBOX'], 5, 'Cc: carol@example.net\r\n', 'see you at the kiosk\r\n');
    const c = add('old trash', ['TRASH'], 2);
    const d = add('big one', ['SENT'], 9, '', `${'x'.repeat(3000)}\r\n`);
    const e = add('with file', ['INBOX'], 3, 'Content-Type: multipart/mixed; boundary=z\r\n', '--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n--z\r\nContent-Disposition: attachment; filename=x.txt\r\n\r\nx\r\n--z--\r\n');
    const search = async (q: string) =>
      (await u.json<gmail_v1.Schema$ListMessagesResponse>(`${M}/messages?q=${encodeURIComponent(q)}`)).messages?.map((m) => m.id) ?? [];
    const day = (n: number) => Date.UTC(2026, 2, n) / 1000;

    expect(await search('in:inbox is:unread')).toEqual([a]);
    expect(await search('label:work-reports')).toEqual([a]);
    expect(await search('label:"Work/Reports"')).toEqual([a]);
    expect(await search('to:carol@example.net')).toEqual([b]);
    expect(await search('from:bob subject:lunch')).toEqual([b]);
    expect(await search('kiosk')).toEqual([b]);
    expect(await search(`after:${day(3)} before:${day(9)}`)).toEqual([b, e]);
    expect(await search('larger:2K')).toEqual([d]);
    expect(await search('has:attachment')).toEqual([e]);
    expect(await search('subject:lunch OR subject:quarterly')).toEqual([b, a]);
    expect(await search('in:inbox -is:unread -has:attachment')).toEqual([b]);
    expect(await search('in:inbox (lunch OR "with file")')).toEqual([b, e]);
    // Trash and spam only when asked for.
    expect(await search('old')).toEqual([]);
    expect(await search('in:trash')).toEqual([c]);
    // A date form Gmail reads as midnight Pacific, and unknown operators, fail loudly.
    expect((await u.call(`${M}/messages?q=${encodeURIComponent('after:2026/03/01')}`)).status).toBe(400);
    expect((await u.call(`${M}/messages?q=${encodeURIComponent('filename:pdf')}`)).status).toBe(400);
  });

  it('modifies, trashes, deletes and sends (media, multipart, JSON) keeping replies in their thread', async () => {
    const u = newUser([SCOPES.full]);
    const other = newUser();
    const { id, threadId } = gmail.addMessage(u.email, rfc822('question'), { labelIds: ['INBOX', 'UNREAD'] });
    expect(await u.json(`${M}/messages/${id}/modify`, { body: { removeLabelIds: ['UNREAD'], addLabelIds: ['STARRED'] } })).toEqual({ id, threadId, labelIds: ['INBOX', 'STARRED'] });
    expect((await u.call(`${M}/messages/${id}/modify`, { body: { addLabelIds: ['NOPE'] } })).status).toBe(400);
    expect((await u.call(`${M}/messages/batchModify`, { body: { ids: [id, 'ffffffffffffffff'], addLabelIds: ['IMPORTANT'] } })).status).toBe(204);
    expect(gmail.mailbox(u.email).message(id).labelIds.has('IMPORTANT')).toBe(true);
    expect((await u.call(`${M}/messages/batchModify`, { body: { ids: ['ffffffffffffffff'], addLabelIds: ['NOPE'] } })).status).toBe(400);
    expect((await u.call(`${M}/messages/batchModify`, { body: { ids: Array.from({ length: 1001 }, (_, i) => String(i)), addLabelIds: ['STARRED'] } })).status).toBe(400);

    const reply = `From: ann@example.com\r\nTo: ${other.email}\r\nBcc: secret@example.com\r\nSubject: Re: question\r\nIn-Reply-To: <question@example.org>\r\n\r\nanswer\r\n`;
    const media = await u.json<gmail_v1.Schema$Message>('/upload/gmail/v1/users/me/messages/send?uploadType=media', { body: reply, headers: { 'content-type': 'message/rfc822' } });
    expect(media).toMatchObject({ threadId, labelIds: ['SENT'] });
    const boundary = 'xyz';
    const multipart = `--${boundary}\r\ncontent-type: application/json\r\n\r\n${JSON.stringify({ threadId })}\r\n--${boundary}\r\ncontent-type: message/rfc822\r\n\r\n${rfc822('unrelated')}\r\n--${boundary}--`;
    const viaMultipart = await u.json<gmail_v1.Schema$Message>('/upload/gmail/v1/users/me/messages/send?uploadType=multipart', { body: multipart, headers: { 'content-type': `multipart/related; boundary=${boundary}` } });
    expect(viaMultipart.threadId).toBe(threadId);
    const viaJson = await u.json<gmail_v1.Schema$Message>(`${M}/messages/send`, { body: { raw: Buffer.from(rfc822('fresh')).toString('base64url') } });
    expect(viaJson.threadId).toBe(viaJson.id);
    // The recipient hosted here got it, without the Bcc line; the sender's copy keeps it.
    const [delivered] = gmail.mailbox(other.email).messages.values();
    expect(delivered!.raw.toString()).not.toMatch(/Bcc/);
    expect(gmail.mailbox(u.email).message(media.id!).raw.toString()).toMatch(/Bcc: secret/);
    expect(gmail.sent().filter((s) => s.from === u.email)).toHaveLength(3);
    const tooBig = await u.call(`${M}/messages/send`, { body: { raw: Buffer.alloc(6 * 1024 * 1024).toString('base64url') } });
    expect(tooBig.status).toBe(413);

    expect(await u.json(`${M}/messages/${id}/trash`, { method: 'POST' })).toMatchObject({ labelIds: expect.arrayContaining(['TRASH']) });
    expect((await u.json<gmail_v1.Schema$Message>(`${M}/messages/${id}/untrash`, { method: 'POST' })).labelIds).not.toContain('TRASH');
    expect((await u.call(`${M}/messages/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await u.call(`${M}/messages/${id}?format=minimal`)).status).toBe(404);
  });
});

describe('batch', () => {
  it('answers each application/http part in its own part, in order, with response-<id>', async () => {
    const u = newUser();
    const a = gmail.addMessage(u.email, rfc822('first'), { labelIds: ['INBOX'] });
    const b = gmail.addMessage(u.email, rfc822('second'), { labelIds: ['INBOX'] });
    const targets = [`${M}/messages/${a.id}?format=raw`, `${M}/messages/ffffffffffffffff`, `${M}/messages/${b.id}?format=metadata&metadataHeaders=Subject`];
    const gets = targets.map((t, i) => `--END\r\nContent-Type: application/http\r\nContent-ID: <item${i}>\r\n\r\nGET ${t}\r\n\r\n`);
    const modify = `--END\r\nContent-Type: application/http\r\nContent-ID: <item3>\r\n\r\nPOST ${M}/messages/${b.id}/modify HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"addLabelIds":["STARRED"]}\r\n`;
    const body = [...gets, modify].join('') + '--END--\r\n';
    const answer = await u.call('/batch/gmail/v1', { body, headers: { 'content-type': 'multipart/mixed; boundary=END' } });
    expect(answer.status).toBe(200);
    const parts = splitBatchAnswer(answer.headers['content-type']!, answer.body);
    expect(parts.map((p) => [p.contentId, p.status])).toEqual([['response-item0', 200], ['response-item1', 404], ['response-item2', 200], ['response-item3', 200]]);
    expect(parts[3]!.json<gmail_v1.Schema$Message>().labelIds).toEqual(['INBOX', 'STARRED']);
    expect(Buffer.from(parts[0]!.json<gmail_v1.Schema$Message>().raw!, 'base64url').toString()).toBe(rfc822('first'));
    expect(parts[1]!.json<GoogleErrorBody>().error.status).toBe('NOT_FOUND');
    expect(parts[2]!.json<gmail_v1.Schema$Message>().payload!.headers).toEqual([{ name: 'Subject', value: 'second' }]);
    // Each part is its own call for the log and the quota, the one that found nothing included.
    const parts2 = gmail.requests({ user: u.email, inBatch: true });
    expect(parts2.map((r) => r.api)).toEqual(['messages.get', 'messages.get', 'messages.get', 'messages.modify']);
    expect(gmail.unitsSpent(u.email)).toBe(3 * 20 + 5);
  });

  it('refuses more than 100 parts and parts without a token', async () => {
    const u = newUser();
    const many = Array.from({ length: 101 }, () => `--B\r\nContent-Type: application/http\r\n\r\nGET ${M}/profile\r\n\r\n`).join('') + '--B--';
    expect((await u.call('/batch/gmail/v1', { body: many, headers: { 'content-type': 'multipart/mixed; boundary=B' } })).status).toBe(400);
    const anonymous = `--B\r\nContent-Type: application/http\r\n\r\nGET ${M}/profile\r\n\r\n--B--`;
    const answer = await http.call('/batch/gmail/v1', { body: anonymous, headers: { 'content-type': 'multipart/mixed; boundary=B' } });
    expect(splitBatchAnswer(answer.headers['content-type']!, answer.body)[0]!.status).toBe(401);
  });
});

describe('history', () => {
  it('records every change after startHistoryId, filters by type, pages, and expires with 404', async () => {
    const u = newUser([SCOPES.full]);
    const start = (await u.json<gmail_v1.Schema$Profile>(`${M}/profile`)).historyId!;
    const empty = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}`);
    expect(empty).toEqual({ historyId: start });

    const { id } = gmail.addMessage(u.email, rfc822('h'), { labelIds: ['INBOX', 'UNREAD'] });
    await u.json(`${M}/messages/${id}/modify`, { body: { removeLabelIds: ['UNREAD'] } });
    await u.json(`${M}/messages/${id}/trash`, { method: 'POST' });
    await u.call(`${M}/messages/${id}`, { method: 'DELETE' });

    const all = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}`);
    const kinds = all.history!.map((h) => Object.keys(h).filter((k) => !['id', 'messages'].includes(k))[0]);
    expect(kinds).toEqual(['messagesAdded', 'labelsRemoved', 'labelsAdded', 'messagesDeleted']);
    expect(all.history![2]!.labelsAdded).toEqual([{ message: { id, threadId: id, labelIds: ['INBOX', 'TRASH'] }, labelIds: ['TRASH'] }]);
    const ids = all.history!.map((h) => BigInt(h.id!));
    expect(ids.every((v, i) => i === 0 || v > ids[i - 1]!)).toBe(true);
    expect(all.historyId).toBe((await u.json<gmail_v1.Schema$Profile>(`${M}/profile`)).historyId);

    const trashOnly = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}&labelId=TRASH`);
    expect(trashOnly.history!.map((h) => h.id)).toEqual([all.history![2]!.id, all.history![3]!.id]);

    const added = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}&historyTypes=messageAdded&historyTypes=messageDeleted`);
    expect(added.history!.map((h) => (h.messagesAdded ? 'added' : 'deleted'))).toEqual(['added', 'deleted']);

    const page1 = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}&maxResults=3`);
    expect(page1.history).toHaveLength(3);
    const page2 = await u.json<gmail_v1.Schema$ListHistoryResponse>(`${M}/history?startHistoryId=${start}&maxResults=3&pageToken=${page1.nextPageToken}`);
    expect(page2.history!.map((h) => h.id)).toEqual([all.history![3]!.id]);
    expect(page2.nextPageToken).toBeUndefined();

    gmail.expireHistory(u.email);
    const expired = await u.call(`${M}/history?startHistoryId=${start}`);
    expect(expired.status).toBe(404);
    expect(expired.json<GoogleErrorBody>().error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    // From the current historyId the feed works again.
    expect((await u.call(`${M}/history?startHistoryId=${all.historyId}`)).status).toBe(200);
  });

  it('forgets the oldest records past the kept window', async () => {
    const email = `short${++userCount}@example.com`;
    const box = gmail.addUser(email, { historyLimit: 2 });
    const token = gmail.token(email);
    const start = box.historyId;
    for (const s of ['a', 'b']) gmail.addMessage(email, rfc822(s));
    expect((await http.call(`${M}/history?startHistoryId=${start}`, { token })).status).toBe(200);
    const middle = box.historyId;
    gmail.addMessage(email, rfc822('c'));
    expect((await http.call(`${M}/history?startHistoryId=${start}`, { token })).status).toBe(404);
    const kept = await http.call(`${M}/history?startHistoryId=${middle}`, { token });
    expect(kept.json<gmail_v1.Schema$ListHistoryResponse>().history).toHaveLength(1);
  });
});

describe('auth and scopes', () => {
  it('refuses what a scope does not cover with Google 403 body, and bad tokens with 401', async () => {
    const reader = newUser([SCOPES.readonly]);
    const { id } = gmail.addMessage(reader.email, rfc822('r'), { labelIds: ['INBOX'] });
    expect((await reader.call(`${M}/messages/${id}?format=raw`)).status).toBe(200);
    const refused = await reader.call(`${M}/messages/${id}/modify`, { body: { addLabelIds: ['STARRED'] } });
    expect(refused.status).toBe(403);
    expect(refused.json<GoogleErrorBody>()).toEqual({
      error: { code: 403, message: 'Request had insufficient authentication scopes.', errors: [{ message: 'Request had insufficient authentication scopes.', domain: 'global', reason: 'insufficientPermissions' }], status: 'PERMISSION_DENIED' },
    });
    expect(refused.headers['www-authenticate']).toMatch(/insufficient_scope/);

    const modifier = newUser([SCOPES.modify]);
    const m = gmail.addMessage(modifier.email, rfc822('m'), { labelIds: ['INBOX'] });
    expect((await modifier.call(`${M}/messages/${m.id}`, { method: 'DELETE' })).status).toBe(403);
    expect((await modifier.call(`${M}/messages/${m.id}/trash`, { method: 'POST' })).status).toBe(200);

    const meta = newUser([SCOPES.metadata]);
    const x = gmail.addMessage(meta.email, rfc822('x'), { labelIds: ['INBOX'] });
    expect((await meta.call(`${M}/messages?q=subject:x`)).status).toBe(403);
    expect((await meta.call(`${M}/messages/${x.id}?format=raw`)).json<GoogleErrorBody>().error.message).toBe("Metadata scope doesn't allow format RAW");
    expect((await meta.call(`${M}/messages/${x.id}?format=metadata`)).status).toBe(200);
    expect((await meta.call(`${M}/history?startHistoryId=${gmail.mailbox(meta.email).historyId}`)).status).toBe(200);

    const bad = await http.call(`${M}/profile`, { token: 'ya29.nonsense' });
    expect(bad.status).toBe(401);
    expect(bad.json<GoogleErrorBody>().error.status).toBe('UNAUTHENTICATED');
    gmail.revokeToken(reader.token);
    expect((await reader.call(`${M}/profile`)).status).toBe(401);
    expect((await modifier.call(`/gmail/v1/users/${meta.email}/profile`)).status).toBe(403);
  });

  it('accepts tokens from the suite OAuth server, granted through the fake browser (the Gmail bed)', async () => {
    const bed = await startGmailBed();
    const client = gmailClient(bed.gmail.url, bed.gmail.caFile);
    try {
      const email = bed.newUser('ann');
      const token = await bed.grantToken(email, [SCOPES.readonly]);
      expect((await client.call(`${M}/profile`, { token })).json<gmail_v1.Schema$Profile>().emailAddress).toBe(email);
      // The scopes are the ones granted at the server.
      expect((await client.call(`${M}/labels`, { token, body: { name: 'x' } })).status).toBe(403);
      bed.idp.revokeUser(email);
      expect((await client.call(`${M}/profile`, { token })).status).toBe(401);
      expect((await client.call(`${M}/profile`, { token: 'ya29.unknown' })).status).toBe(401);
      expect(bed.env()).toMatchObject({ MAILOPS_GMAIL_API_URL: bed.gmail.url, NODE_EXTRA_CA_CERTS: bed.ca.certPath, BROWSER: bed.browser });
    } finally {
      client.close();
      await bed.stop();
    }
  });
});

describe('quota', () => {
  it('spends units per method per user and answers 429 with Retry-After past the limit', async () => {
    const limited = await startGmailServer({ ca, quota: { unitsPerWindow: 45, windowMs: 1500 } });
    const client = gmailClient(limited.url, limited.caFile);
    try {
      limited.addUser('q@example.com');
      const token = limited.token('q@example.com');
      const { id } = limited.addMessage('q@example.com', rfc822('q'));
      expect((await client.call(`${M}/messages/${id}`, { token })).status).toBe(200);
      expect((await client.call(`${M}/messages/${id}`, { token })).status).toBe(200);
      const third = await client.call(`${M}/messages/${id}`, { token });
      expect(third.status).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(third.json<GoogleErrorBody>().error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded' }] });
      expect(third.json<GoogleErrorBody>().error.message).toMatch(/Retry after \d{4}-\d\d-\d\dT/);
      // A cheaper method still fits (40 + 2 ≤ 45), as units, not requests, are the limit.
      expect((await client.call(`${M}/history?startHistoryId=${limited.mailbox('q@example.com').historyId}`, { token })).status).toBe(200);
      expect(limited.unitsSpent('q@example.com')).toBe(42);

      limited.setQuota({ refusal: '403-userRateLimitExceeded' });
      const forbidden = await client.call(`${M}/messages/${id}`, { token });
      expect(forbidden.status).toBe(403);
      expect(forbidden.json<GoogleErrorBody>().error.errors[0]).toMatchObject({ reason: 'userRateLimitExceeded', domain: 'usageLimits' });

      await new Promise((r) => setTimeout(r, 1600));
      expect((await client.call(`${M}/messages/${id}`, { token })).status).toBe(200);
      expect(limited.requests({ api: 'messages.get' }).map((r) => r.status)).toEqual([200, 200, 429, 403, 200]);
    } finally {
      client.close();
      await limited.stop();
    }
  });
});

describe('latency and concurrency', () => {
  it('holds each request for latencyMs and refuses a user past maxConcurrentPerUser', async () => {
    const slow = await startGmailServer({ ca, latencyMs: 200, maxConcurrentPerUser: 2, quota: { unitsPerWindow: Infinity } });
    const client = gmailClient(slow.url, slow.caFile);
    try {
      slow.addUser('c@example.com');
      const token = slow.token('c@example.com');
      const started = Date.now();
      const statuses = await Promise.all([1, 2, 3].map(() => client.call(`${M}/profile`, { token }).then((a) => a.status)));
      expect(statuses.sort()).toEqual([200, 200, 429]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect((await client.call(`${M}/profile`, { token })).status).toBe(200);
    } finally {
      client.close();
      await slow.stop();
    }
  });
});

describe('error injection', () => {
  it('fails the next N matching requests, delays, and drops connections', async () => {
    const u = newUser();
    gmail.inject({ path: `${M}/profile`, times: 2, status: 503 });
    expect((await u.call(`${M}/profile`)).status).toBe(503);
    expect((await u.call(`${M}/profile`)).status).toBe(503);
    expect((await u.call(`${M}/profile`)).status).toBe(200);

    gmail.inject({ path: /\/profile$/, delayMs: 300 });
    const started = Date.now();
    expect((await u.call(`${M}/profile`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    // A whole batch can fail too, as when Google's front end answers for it.
    gmail.inject({ path: '/batch/gmail/v1', status: 503 });
    const batchBody = `--B\r\nContent-Type: application/http\r\n\r\nGET ${M}/profile\r\n\r\n--B--`;
    expect((await u.call('/batch/gmail/v1', { body: batchBody, headers: { 'content-type': 'multipart/mixed; boundary=B' } })).status).toBe(503);

    gmail.inject({ path: `${M}/labels`, drop: true });
    await expect(u.call(`${M}/labels`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await u.call(`${M}/labels`)).status).toBe(200);

    // Served, then the answer lost: the message is in Sent although the client saw no reply.
    gmail.inject({ path: `${M}/messages/send`, drop: 'after' });
    await expect(u.call(`${M}/messages/send`, { body: { raw: Buffer.from(rfc822("it's gone")).toString('base64url') } })).rejects.toThrow();
    const [sentCopy] = gmail.mailbox(u.email).messages.values();
    expect(sentCopy!.labelIds).toEqual(new Set(['SENT']));
    expect((await u.json<gmail_v1.Schema$Message>(`${M}/messages/${sentCopy!.id}?format=minimal`)).snippet).toBe('Hello there.');

    gmail.inject({ path: `${M}/profile`, status: 429, body: { error: { code: 429, message: 'custom' } }, headers: { 'retry-after': '7' } });
    const custom = await u.call(`${M}/profile`);
    expect([custom.status, custom.headers['retry-after'], custom.json<GoogleErrorBody>().error.message]).toEqual([429, '7', 'custom']);
    expect(gmail.requests({ user: null, method: 'GET' }).some((r) => r.injected)).toBe(true);
  });
});

describe('the @googleapis/gmail client', () => {
  it('reads the fake as it reads Google (rootUrl pointed here)', async () => {
    const { gmail: gmailApi } = await import('@googleapis/gmail');
    const u = newUser();
    const { id } = gmail.addMessage(u.email, rfc822('lib'), { labelIds: ['INBOX'] });
    const api = gmailApi({ version: 'v1', rootUrl: `${gmail.url}/`, agent: http.agent, headers: { authorization: `Bearer ${u.token}` } });
    expect((await api.users.getProfile({ userId: 'me' })).data.emailAddress).toBe(u.email);
    expect((await api.users.messages.list({ userId: 'me', q: 'in:inbox' })).data.messages).toEqual([{ id, threadId: id }]);
    const raw = (await api.users.messages.get({ userId: 'me', id, format: 'raw' })).data.raw!;
    expect(Buffer.from(raw, 'base64url').toString()).toBe(rfc822('lib'));
    const start = (await api.users.getProfile({ userId: 'me' })).data.historyId!;
    const label = (await api.users.labels.create({ userId: 'me', requestBody: { name: 'Lib/Nested' } })).data;
    await api.users.messages.batchModify({ userId: 'me', requestBody: { ids: [id], addLabelIds: [label.id!], removeLabelIds: ['INBOX'] } });
    // Array parameters go out repeated (historyTypes=a&historyTypes=b), as the fake reads them.
    const history = (await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['labelAdded', 'labelRemoved'] })).data;
    expect(history.history!.map((h) => [h.labelsAdded?.[0]?.labelIds, h.labelsRemoved?.[0]?.labelIds])).toEqual([[[label.id], undefined], [undefined, ['INBOX']]]);
    expect((await api.users.labels.get({ userId: 'me', id: label.id! })).data).toMatchObject({ name: 'Lib/Nested', messagesTotal: 1 });
    const denied = await api.users.messages.delete({ userId: 'me', id }).catch((err: { status?: number }) => err);
    expect(denied).toMatchObject({ status: 403 });
  });
});

/** Reads a batch answer the way a client must: parts in order, each an HTTP response. */
function splitBatchAnswer(contentType: string, body: Buffer) {
  const boundary = /boundary=([^;\s]+)/.exec(contentType)![1]!;
  return body
    .toString('utf8')
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => {
      const [outer, inner] = splitOnce(part.replace(/^\r\n/, ''));
      const [head, payload] = splitOnce(inner);
      return {
        contentId: /Content-ID: <([^>]+)>/i.exec(outer)?.[1],
        status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]),
        json: <T>() => JSON.parse(payload.replace(/\r\n$/, '')) as T,
      };
    });
}

function splitOnce(text: string): [string, string] {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 4)];
}
