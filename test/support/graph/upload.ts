// Attachment upload sessions (POST /me/messages/{id}/attachments/createUploadSession), for
// attachments of 3 MB to 150 MB: Graph answers an `uploadUrl` that takes the file in ordered
// chunks of at most 4 MB by PUT with `Content-Range: bytes a-b/size`, no bearer token (the URL is
// pre-authenticated; Microsoft's docs say not to send an Authorization header, and a token for
// Graph is refused there). Each chunk but the last answers 200 with the next expected range; the
// last 201 with the attachment's Location, and the attachment is on the message.
import { randomBytes } from 'node:crypto';
import type { UploadSession } from '@microsoft/microsoft-graph-types';
import { GraphError, badRequest } from './errors.js';
import type { Mailbox } from './mailbox.js';
import { isoSeconds } from './mime.js';

export interface UploadLimits {
  /** Smallest attachment an upload session takes (Graph: 3 MB; smaller ones go as one request). */
  minBytes: number;
  /** Largest attachment (Graph: 150 MB). */
  maxBytes: number;
  /** Largest chunk per PUT (Graph: 4 MB). */
  chunkBytes: number;
  /** How long a session lives. */
  ttlMs: number;
}

interface Session {
  token: string;
  mailbox: Mailbox;
  messageImmutableId: string;
  name: string;
  contentType: string;
  isInline: boolean;
  size: number;
  received: Buffer[];
  receivedBytes: number;
  expiresAt: number;
}

export interface UploadRecord {
  user: string;
  /** Content-Range as sent. */
  range: string | undefined;
  bytes: number;
  status: number;
  /** An Authorization header came along (which Graph's upload URL refuses). */
  authorization: boolean;
}

export interface UploadReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): UploadReply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

export class UploadStore {
  private readonly sessions = new Map<string, Session>();
  readonly log: UploadRecord[] = [];

  constructor(private readonly limits: UploadLimits) {}

  create(root: string, mailbox: Mailbox, messageImmutableId: string, item: { attachmentType?: unknown; name?: unknown; size?: unknown; contentType?: unknown; isInline?: unknown }): UploadSession {
    if (item.attachmentType !== 'file') throw badRequest("AttachmentItem.attachmentType must be 'file'.", 'ErrorInvalidRequest');
    if (typeof item.name !== 'string' || item.name === '') throw badRequest('AttachmentItem.name is required.', 'ErrorInvalidRequest');
    if (typeof item.size !== 'number' || !Number.isInteger(item.size) || item.size < 0) throw badRequest('AttachmentItem.size is required.', 'ErrorInvalidRequest');
    if (item.size < this.limits.minBytes) throw badRequest('Attachment size must be greater than the minimum size.', 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize');
    if (item.size > this.limits.maxBytes) throw new GraphError(413, 'ErrorAttachmentSizeExceeded', `The attachment is larger than ${this.limits.maxBytes} bytes.`);
    const token = randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + this.limits.ttlMs;
    this.sessions.set(token, {
      token, mailbox, messageImmutableId, name: item.name, size: item.size, received: [], receivedBytes: 0, expiresAt,
      contentType: typeof item.contentType === 'string' ? item.contentType : 'application/octet-stream',
      isInline: item.isInline === true,
    });
    return {
      uploadUrl: `${root}/api/v2.0/Users('${encodeURIComponent(mailbox.email)}')/Messages('${messageImmutableId}')/AttachmentSessions('${token}')?authtoken=${randomBytes(32).toString('base64url')}`,
      expirationDateTime: isoSeconds(expiresAt),
      nextExpectedRanges: ['0-'],
    };
  }

  /** A PUT to an uploadUrl. */
  put(path: string, headers: Record<string, string | undefined>, body: Buffer): UploadReply {
    const token = /AttachmentSessions\('([^']+)'\)/.exec(decodeURIComponent(path))?.[1] ?? '';
    const session = this.sessions.get(token);
    const record: UploadRecord = { user: session?.mailbox.email ?? '', range: headers['content-range'], bytes: body.length, status: 0, authorization: headers.authorization !== undefined };
    this.log.push(record);
    const answer = (reply: UploadReply) => ((record.status = reply.status), reply);
    const error = (e: GraphError) => answer(json(e.status, e.body(), e.headers));
    if (!session || session.expiresAt < Date.now()) return error(new GraphError(404, 'ErrorItemNotFound', 'The upload session was not found or has expired.'));
    if (record.authorization) return error(new GraphError(401, 'InvalidAuthenticationToken', 'The upload URL is pre-authenticated: do not send an Authorization header.'));
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
    if (!m) return error(badRequest('The Content-Range header is missing or malformed.', 'ErrorInvalidRequest'));
    const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (total !== session.size) return error(badRequest(`The Content-Range total ${total} does not match the session's size ${session.size}.`, 'ErrorInvalidRequest'));
    if (end - start + 1 !== body.length) return error(badRequest('The Content-Range does not match the length of the body.', 'ErrorInvalidRequest'));
    if (body.length > this.limits.chunkBytes) return error(new GraphError(413, 'ErrorRequestEntityTooLarge', `A chunk may be at most ${this.limits.chunkBytes} bytes.`));
    if (start !== session.receivedBytes || end >= session.size) {
      return error(new GraphError(416, 'ErrorInvalidRange', `The expected range starts at ${session.receivedBytes}.`));
    }
    session.received.push(body);
    session.receivedBytes += body.length;
    if (session.receivedBytes < session.size) {
      return answer(json(200, { expirationDateTime: isoSeconds(session.expiresAt), nextExpectedRanges: [`${session.receivedBytes}-`] } satisfies UploadSession));
    }
    this.sessions.delete(token);
    const message = session.mailbox.messages.get(session.messageImmutableId);
    if (!message) return error(new GraphError(404, 'ErrorItemNotFound', 'The message of this upload session is gone.'));
    const id = session.mailbox.newAttachmentId();
    message.attachments.push({ id, name: session.name, contentType: session.contentType, content: Buffer.concat(session.received), isInline: session.isInline, lastModifiedDateTime: isoSeconds(Date.now()) });
    session.mailbox.touch(message);
    return answer({ status: 201, headers: { location: `https://outlook.office.com/api/v2.0/Users('${encodeURIComponent(session.mailbox.email)}')/Messages('${message.immutableId}')/Attachments('${id}')` }, body: Buffer.alloc(0) });
  }
}
