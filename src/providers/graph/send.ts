/**
 * Sending MIME over Microsoft Graph. `sendMail` takes the message as base64 MIME, but a Graph
 * request carries at most 4 MB: a larger message goes as a draft made from its MIME without its
 * largest attachments, those attachments added to the draft (an upload session each, in chunks,
 * for 3 MB and more; a plain attachment POST below that), then the draft sent. Either way
 * Exchange files the copy in Sent Items itself, and either way the answer is 202: accepted for
 * delivery, not delivered.
 *
 * Nothing here is retried after the request was sent: a send that timed out may have gone out.
 */
import type { Attachment, Message, UploadSession } from '@microsoft/microsoft-graph-types';
import { MailopsError } from '../../domain/errors.js';
import { headerValue, readHeaderBlock } from '../../mime/headers.js';
import type { CallOptions, GraphApi } from './api.js';

/** Graph's request limit, for the base64 body of sendMail or of a draft. */
export const REQUEST_LIMIT = 4 * 1024 * 1024;
/** Below this an attachment is one POST; from it, an upload session (Graph's guidance). */
const UPLOAD_SESSION_FROM = 3 * 1024 * 1024;
/** Upload chunks must be multiples of 320 KiB; twelve of them stay under the request limit. */
const CHUNK = 12 * 320 * 1024;
/** Exchange Online's largest message (a tenant may allow less). */
export const MESSAGE_LIMIT = 150 * 1024 * 1024;

export async function sendMime(api: GraphApi, raw: Buffer, options: CallOptions): Promise<void> {
  if (raw.length > MESSAGE_LIMIT) {
    throw new MailopsError('SEND_FAILED', `the message is ${mib(raw.length)}; Exchange Online takes at most ${mib(MESSAGE_LIMIT)}`, { hint: 'send large files as links' });
  }
  if (base64Length(raw.length) <= REQUEST_LIMIT) {
    await api.json({ method: 'POST', path: '/me/sendMail', body: { data: raw.toString('base64'), contentType: 'text/plain' }, what: 'sendMail' }, options);
    return;
  }
  const { reduced, detached } = detachAttachments(raw);
  if (base64Length(reduced.length) > REQUEST_LIMIT) {
    throw new MailopsError('SEND_FAILED', `the message is ${mib(raw.length)} and its text and small parts alone are over Graph's 4 MB request limit`, {
      hint: 'send large content as attachments, or as links',
    });
  }
  const draft = await api.json<Message>({ method: 'POST', path: '/me/messages', body: { data: reduced.toString('base64'), contentType: 'text/plain' }, query: { $select: 'id' }, what: 'messages.create' }, options);
  if (!draft.id) throw new MailopsError('SEND_FAILED', 'Microsoft Graph made a draft without an id; nothing was sent');
  const id = encodeURIComponent(draft.id);
  for (const part of detached) {
    if (part.content.length < UPLOAD_SESSION_FROM) {
      const attachment: Attachment & { contentBytes: string; '@odata.type': string } = {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: part.name,
        contentType: part.contentType,
        size: part.content.length,
        isInline: false,
        contentBytes: part.content.toString('base64'),
      };
      await api.json({ method: 'POST', path: `/me/messages/${id}/attachments`, json: attachment, what: 'attachments.add' }, options);
      continue;
    }
    const session = await api.json<UploadSession>(
      { method: 'POST', path: `/me/messages/${id}/attachments/createUploadSession`, json: { AttachmentItem: { attachmentType: 'file', name: part.name, size: part.content.length, contentType: part.contentType } }, what: 'attachments.createUploadSession' },
      options,
    );
    if (!session.uploadUrl) throw new MailopsError('SEND_FAILED', 'Microsoft Graph opened an upload session without an address; the draft was not sent');
    await api.upload(session.uploadUrl, part.content, CHUNK, options);
  }
  await api.json({ method: 'POST', path: `/me/messages/${id}/send`, what: 'messages.send' }, options);
}

export interface DetachedPart {
  name: string;
  contentType: string;
  content: Buffer;
}

/**
 * The message without its largest attachment parts (top-level multipart/mixed parts with a
 * file name, largest first) until it fits one request, and those parts decoded. A message with
 * no such parts comes back whole.
 */
export function detachAttachments(raw: Buffer): { reduced: Buffer; detached: DetachedPart[] } {
  const head = readHeaderBlock(raw);
  const type = headerValue(head.headers, 'Content-Type') ?? '';
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!/^\s*multipart\/mixed/i.test(type) || !boundary) return { reduced: raw, detached: [] };
  const dash = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  // Delimiter lines: `--boundary` at the start of a line of the body (the last one is `--boundary--`).
  const marks: number[] = [];
  for (let at = raw.indexOf(dash, head.bodyOffset); at >= 0; at = raw.indexOf(dash, at + dash.length)) {
    if (at === head.bodyOffset || raw[at - 1] === 0x0a) marks.push(at);
  }
  // Part i is the delimiter line at marks[i] and what follows up to the next delimiter line.
  const parts: Array<{ start: number; end: number; attachment: DetachedPart | null }> = [];
  for (let i = 0; i + 1 < marks.length; i++) {
    const lineEnd = raw.indexOf(0x0a, marks[i]!);
    if (lineEnd < 0 || lineEnd > marks[i + 1]!) break;
    const next = marks[i + 1]!;
    const contentEnd = raw[next - 2] === 0x0d ? next - 2 : next - 1;
    parts.push({ start: marks[i]!, end: next, attachment: attachmentOf(raw.subarray(lineEnd + 1, Math.max(lineEnd + 1, contentEnd))) });
  }
  const candidates = parts.filter((p) => p.attachment).sort((a, b) => b.attachment!.content.length - a.attachment!.content.length);
  const dropped = new Set<(typeof parts)[number]>();
  let size = raw.length;
  for (const part of candidates) {
    if (base64Length(size) <= REQUEST_LIMIT) break;
    dropped.add(part);
    size -= part.end - part.start;
  }
  if (dropped.size === 0) return { reduced: raw, detached: [] };
  const pieces: Buffer[] = [];
  let from = 0;
  for (const part of parts) {
    if (!dropped.has(part)) continue;
    pieces.push(raw.subarray(from, part.start));
    from = part.end;
  }
  pieces.push(raw.subarray(from));
  return { reduced: Buffer.concat(pieces), detached: parts.filter((p) => dropped.has(p)).map((p) => p.attachment!) };
}

function attachmentOf(part: Buffer): DetachedPart | null {
  const head = readHeaderBlock(part);
  const disposition = headerValue(head.headers, 'Content-Disposition') ?? '';
  const type = headerValue(head.headers, 'Content-Type') ?? 'application/octet-stream';
  const name = paramOf(disposition, 'filename') ?? paramOf(type, 'name');
  if (!name || /^\s*multipart\//i.test(type)) return null;
  const encoding = (headerValue(head.headers, 'Content-Transfer-Encoding') ?? '').trim().toLowerCase();
  const bytes = part.subarray(head.bodyOffset);
  const content = encoding === 'base64' ? Buffer.from(bytes.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') : bytes;
  return { name, contentType: type.split(';')[0]!.trim() || 'application/octet-stream', content };
}

function paramOf(value: string, name: string): string | null {
  const m = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
