// The Gmail API's methods over one mailbox: routing of `/gmail/v1/users/{userId}/...` and
// `/upload/gmail/v1/...` paths to handlers, request parsing, and the response shapes. Every body
// read or written here is a `gmail_v1.Schema$*` type, so a field the real API does not have is a
// type error. Auth, quota, batching and the HTTP listener are the server's (gmail-server.ts).
import type { gmail_v1 } from '@googleapis/gmail';
import { GoogleError, badRequest, metadataForbids, notFound } from './errors.js';
import { Mailbox, type HistoryType, type StoredMessage } from './mailbox.js';
import { boundaryOf } from './batch.js';
import { header, parseHeaders, partById, splitHead, splitMultipart, toPayload } from './mime.js';
import { GmailQueryError, mentionsSpamTrash, parseQuery } from './query.js';
import { SCOPES, type ApiMethod } from './policy.js';

export interface ApiRequest {
  method: string;
  url: URL;
  headers: Record<string, string | undefined>;
  body: Buffer;
  mailbox: Mailbox;
  /** Scopes of the caller's token: the metadata scope narrows what some methods return. */
  scopes: readonly string[];
}

/** Every answer is one of the API's own schemas, so a field the real API lacks does not type-check. */
type GmailBody =
  | gmail_v1.Schema$Profile
  | gmail_v1.Schema$Label
  | gmail_v1.Schema$ListLabelsResponse
  | gmail_v1.Schema$Message
  | gmail_v1.Schema$ListMessagesResponse
  | gmail_v1.Schema$MessagePartBody
  | gmail_v1.Schema$ListHistoryResponse;

export interface ApiReply {
  status: number;
  /** JSON to send, or null for an empty answer (204). */
  json: GmailBody | null;
}

export interface ApiLimits {
  /** Largest request body of the JSON (non-upload) endpoints; Google's is 5 MB for messages. */
  jsonBytes: number;
  /** Largest message through the upload endpoints: Gmail's 35 MB. */
  uploadBytes: number;
}

/** What the server does with a message sent to addresses it hosts (delivery), given to the routes. */
export type Deliver = (from: Mailbox, sent: StoredMessage) => void;

type Handler = (req: ApiRequest, params: string[]) => ApiReply;

interface Route {
  method: string;
  pattern: RegExp;
  api: ApiMethod;
  handle: Handler;
}

const ok = <T extends GmailBody>(json: T): ApiReply => ({ status: 200, json });
const message = (json: gmail_v1.Schema$Message): ApiReply => ({ status: 200, json });
const empty = (): ApiReply => ({ status: 204, json: null });

export function routes(limits: ApiLimits, deliver: Deliver): Route[] {
  const u = '^/gmail/v1/users/([^/]+)';
  const up = '^/upload/gmail/v1/users/([^/]+)';
  const r = (method: string, path: string, api: ApiMethod, handle: Handler): Route => ({ method, pattern: new RegExp(`${path}$`), api, handle });
  return [
    r('GET', `${u}/profile`, 'users.getProfile', ({ mailbox }) => ok(profile(mailbox))),

    r('GET', `${u}/labels`, 'labels.list', ({ mailbox }) => ok<gmail_v1.Schema$ListLabelsResponse>({ labels: [...mailbox.labels.values()] })),
    r('GET', `${u}/labels/([^/]+)`, 'labels.get', ({ mailbox }, [id]) => ok(mailbox.labelWithCounts(id!))),
    r('POST', `${u}/labels`, 'labels.create', (req) => ok(req.mailbox.createLabel(json<gmail_v1.Schema$Label>(req, limits)))),
    r('PUT', `${u}/labels/([^/]+)`, 'labels.update', (req, [id]) => ok(req.mailbox.updateLabel(id!, json<gmail_v1.Schema$Label>(req, limits), false))),
    r('PATCH', `${u}/labels/([^/]+)`, 'labels.patch', (req, [id]) => ok(req.mailbox.updateLabel(id!, json<gmail_v1.Schema$Label>(req, limits), true))),
    r('DELETE', `${u}/labels/([^/]+)`, 'labels.delete', ({ mailbox }, [id]) => (mailbox.deleteLabel(id!), empty())),

    r('GET', `${u}/messages`, 'messages.list', listMessages),
    r('GET', `${u}/messages/([^/]+)`, 'messages.get', getMessage),
    r('GET', `${u}/messages/([^/]+)/attachments/([^/]+)`, 'messages.attachments.get', ({ mailbox }, [id, attachmentId]) => ok(attachment(mailbox.message(id!), attachmentId!))),
    r('POST', `${u}/messages`, 'messages.insert', (req) => ok(minimal(addFrom(req, jsonMessage(req, limits), 'receivedTime')))),
    r('POST', `${up}/messages`, 'messages.insert', (req) => ok(minimal(addFrom(req, uploadedMessage(req, limits), 'receivedTime')))),
    r('POST', `${u}/messages/import`, 'messages.import', (req) => ok(minimal(addFrom(req, jsonMessage(req, limits), 'dateHeader')))),
    r('POST', `${up}/messages/import`, 'messages.import', (req) => ok(minimal(addFrom(req, uploadedMessage(req, limits), 'dateHeader')))),
    r('POST', `${u}/messages/send`, 'messages.send', (req) => ok(minimal(send(req, jsonMessage(req, limits), deliver)))),
    r('POST', `${up}/messages/send`, 'messages.send', (req) => ok(minimal(send(req, uploadedMessage(req, limits), deliver)))),
    r('POST', `${u}/messages/([^/]+)/modify`, 'messages.modify', (req, [id]) => {
      const body = json<gmail_v1.Schema$ModifyMessageRequest>(req, limits);
      return ok(minimal(req.mailbox.modify(id!, body.addLabelIds ?? [], body.removeLabelIds ?? [])));
    }),
    r('POST', `${u}/messages/batchModify`, 'messages.batchModify', (req) => {
      const body = json<gmail_v1.Schema$BatchModifyMessagesRequest>(req, limits);
      const ids = checkIds(body.ids);
      req.mailbox.checkLabels([...(body.addLabelIds ?? []), ...(body.removeLabelIds ?? [])]);
      // Gmail applies what it can: ids that name no message are skipped, not an error.
      for (const id of ids) if (req.mailbox.messages.has(id)) req.mailbox.modify(id, body.addLabelIds ?? [], body.removeLabelIds ?? []);
      return empty();
    }),
    r('POST', `${u}/messages/([^/]+)/trash`, 'messages.trash', ({ mailbox }, [id]) => ok(minimal(mailbox.trash(id!)))),
    r('POST', `${u}/messages/([^/]+)/untrash`, 'messages.untrash', ({ mailbox }, [id]) => ok(minimal(mailbox.untrash(id!)))),
    r('DELETE', `${u}/messages/([^/]+)`, 'messages.delete', ({ mailbox }, [id]) => (mailbox.delete(id!), empty())),
    r('POST', `${u}/messages/batchDelete`, 'messages.batchDelete', (req) => {
      for (const id of checkIds(json<gmail_v1.Schema$BatchDeleteMessagesRequest>(req, limits).ids)) if (req.mailbox.messages.has(id)) req.mailbox.delete(id);
      return empty();
    }),

    r('GET', `${u}/history`, 'history.list', listHistory),
  ];
}

/** The route for a method and path, with the path's userId and its other parameters. */
export function match(all: Route[], method: string, path: string): { route: Route; userId: string; params: string[] } | null {
  for (const route of all) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (m) {
      const [userId = '', ...params] = m.slice(1).map((p) => decodeURIComponent(p));
      return { route, userId, params };
    }
  }
  return null;
}

function profile(mailbox: Mailbox): gmail_v1.Schema$Profile {
  return {
    emailAddress: mailbox.email,
    messagesTotal: mailbox.messages.size,
    threadsTotal: new Set([...mailbox.messages.values()].map((m) => m.threadId)).size,
    historyId: String(mailbox.historyId),
  };
}

// ---- request bodies -------------------------------------------------------------------------

function json<T>(req: ApiRequest, limits: ApiLimits): T {
  if (req.body.length > limits.jsonBytes) throw payloadTooLarge(limits.jsonBytes);
  try {
    return JSON.parse(req.body.toString('utf8') || '{}') as T;
  } catch {
    throw badRequest('Invalid JSON payload received.');
  }
}

const payloadTooLarge = (limit: number) => new GoogleError(413, `Request payload size exceeds the limit: ${limit} bytes.`, 'uploadTooLarge');

/** The `{raw, labelIds, threadId}` form: the message as base64url (Google also accepts base64). */
function jsonMessage(req: ApiRequest, limits: ApiLimits): { meta: gmail_v1.Schema$Message; raw: Buffer } {
  const meta = json<gmail_v1.Schema$Message>(req, limits);
  if (!meta.raw) throw badRequest("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
  return { meta, raw: Buffer.from(meta.raw.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url') };
}

/** The upload endpoints: uploadType=media (the bytes alone) or multipart (JSON metadata, then the bytes). */
function uploadedMessage(req: ApiRequest, limits: ApiLimits): { meta: gmail_v1.Schema$Message; raw: Buffer } {
  const type = req.url.searchParams.get('uploadType');
  if (req.body.length > limits.uploadBytes) throw payloadTooLarge(limits.uploadBytes);
  if (type === 'media') return { meta: {}, raw: req.body };
  if (type === 'multipart') {
    const boundary = boundaryOf(req.headers['content-type']);
    if (!boundary) throw badRequest('multipart upload without a boundary');
    const [metaPart, mediaPart] = splitMultipart(req.body, boundary).map((part) => splitHead(part).body);
    if (!metaPart || !mediaPart) throw badRequest('multipart upload needs a metadata part and a media part');
    return { meta: JSON.parse(metaPart.toString('utf8') || '{}') as gmail_v1.Schema$Message, raw: mediaPart };
  }
  throw badRequest(`uploadType ${type ?? '(none)'} is not supported by the fake (media, multipart)`);
}

function checkIds(ids: string[] | null | undefined): string[] {
  if (!ids?.length) throw badRequest('ids must not be empty');
  if (ids.length > 1000) throw badRequest('Too many ids, the maximum is 1000');
  return ids;
}

// ---- messages -------------------------------------------------------------------------------

function addFrom(req: ApiRequest, { meta, raw }: { meta: gmail_v1.Schema$Message; raw: Buffer }, defaultSource: 'receivedTime' | 'dateHeader'): StoredMessage {
  const source = req.url.searchParams.get('internalDateSource') ?? defaultSource;
  let internalDate: number | undefined;
  if (source === 'dateHeader') {
    const date = Date.parse(header(parseHeaders(splitHead(raw).head), 'date') ?? '');
    if (!Number.isNaN(date)) internalDate = date;
  }
  return req.mailbox.add(raw, { labelIds: meta.labelIds ?? [], internalDate, threadId: meta.threadId });
}

function send(req: ApiRequest, message: { meta: gmail_v1.Schema$Message; raw: Buffer }, deliver: Deliver): StoredMessage {
  const sent = req.mailbox.add(message.raw, { labelIds: ['SENT'], threadId: message.meta.threadId });
  deliver(req.mailbox, sent);
  return sent;
}

/** What modify, trash, insert and send answer: the message in the minimal format. */
function minimal(m: StoredMessage): gmail_v1.Schema$Message {
  const msg: gmail_v1.Schema$Message = { id: m.id, threadId: m.threadId };
  if (m.labelIds.size) msg.labelIds = [...m.labelIds];
  return msg;
}

function listMessages(req: ApiRequest): ApiReply {
  const params = req.url.searchParams;
  const q = params.get('q');
  if (q && isMetadataOnly(req.scopes)) throw metadataForbids("Metadata scope does not support 'q' parameter");
  let query = null;
  try {
    query = q ? parseQuery(q) : null;
  } catch (err) {
    if (err instanceof GmailQueryError) throw badRequest(`Invalid query (gmail fake): ${err.message}`);
    throw err;
  }
  const labelIds = params.getAll('labelIds');
  const includeSpamTrash = params.get('includeSpamTrash') === 'true' || labelIds.some((l) => l === 'TRASH' || l === 'SPAM') || (query !== null && mentionsSpamTrash(query));
  const all = req.mailbox.search(query, labelIds, includeSpamTrash);
  const size = pageSize(params, 100, 500);
  let start = 0;
  const token = params.get('pageToken');
  if (token) {
    const after = readToken<{ d: number; i: string }>(token);
    start = all.findIndex((m) => m.internalDate < after.d || (m.internalDate === after.d && m.id < after.i));
    if (start < 0) start = all.length;
  }
  const page = all.slice(start, start + size);
  const answer: gmail_v1.Schema$ListMessagesResponse = { resultSizeEstimate: all.length };
  if (page.length) answer.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
  const last = page[page.length - 1];
  // The token says where the page ended (not an offset), so messages arriving between pages
  // neither repeat nor push others out, as with Google's tokens.
  if (last && start + size < all.length) answer.nextPageToken = writeToken({ d: last.internalDate, i: last.id });
  return ok(answer);
}

function getMessage(req: ApiRequest, [id]: string[]): ApiReply {
  const m = req.mailbox.message(id!);
  const format = req.url.searchParams.get('format') ?? 'full';
  if (isMetadataOnly(req.scopes) && (format === 'raw' || format === 'full')) {
    throw metadataForbids(`Metadata scope doesn't allow format ${format.toUpperCase()}`);
  }
  const msg: gmail_v1.Schema$Message = { ...minimal(m), snippet: Mailbox.snippet(m), sizeEstimate: m.raw.length, historyId: String(m.historyId), internalDate: String(m.internalDate) };
  switch (format) {
    case 'minimal':
      return message(msg);
    case 'raw':
      return message({ ...msg, raw: m.raw.toString('base64url') });
    case 'metadata': {
      const wanted = req.url.searchParams.getAll('metadataHeaders').map((h) => h.toLowerCase());
      const headers = m.mime.headers.filter((h) => wanted.length === 0 || wanted.includes(h.name.toLowerCase()));
      return message({ ...msg, payload: { partId: '', mimeType: m.mime.contentType, filename: '', headers, body: { size: 0 } } });
    }
    case 'full':
      return message({ ...msg, payload: toPayload(m.mime, '', (partId) => attachmentIdOf(m, partId)) });
    default:
      throw badRequest(`Invalid value at 'format' (${format})`);
  }
}

function attachmentIdOf(m: StoredMessage, partId: string): string {
  return `ANGjdJ${Buffer.from(`${m.id}/${partId}`).toString('base64url')}`;
}

function attachment(m: StoredMessage, attachmentId: string): gmail_v1.Schema$MessagePartBody {
  const [id, partId] = Buffer.from(attachmentId.replace(/^ANGjdJ/, ''), 'base64url').toString().split('/');
  const part = id === m.id && partId !== undefined ? partById(m.mime, partId) : undefined;
  if (!part) throw notFound();
  return { size: part.body.length, data: part.body.toString('base64url') };
}

// ---- history --------------------------------------------------------------------------------

const HISTORY_TYPES: readonly HistoryType[] = ['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved'];

function listHistory(req: ApiRequest): ApiReply {
  const params = req.url.searchParams;
  const startText = params.get('startHistoryId');
  if (!startText || !/^\d+$/.test(startText)) throw badRequest('Invalid startHistoryId');
  const types = params.getAll('historyTypes').map((t) => t.replace(/^./, (c) => c.toLowerCase())) as HistoryType[];
  if (types.some((t) => !HISTORY_TYPES.includes(t))) throw badRequest(`Invalid value at 'history_types'`);
  const token = params.get('pageToken');
  const from = token ? BigInt(readToken<string>(token)) : BigInt(startText);
  // The expiry check is on the caller's startHistoryId: a token does not revive forgotten history.
  if (BigInt(startText) < req.mailbox.historyFloor) throw notFound();
  const all = req.mailbox.historySince(from, types, params.get('labelId'));
  const size = pageSize(params, 100, 500);
  const page = all.slice(0, size);
  const answer: gmail_v1.Schema$ListHistoryResponse = { historyId: String(req.mailbox.historyId) };
  if (page.length) answer.history = page;
  if (all.length > size) answer.nextPageToken = writeToken(page[page.length - 1]!.id!);
  return ok(answer);
}

// ---- small parts ----------------------------------------------------------------------------

function pageSize(params: URLSearchParams, fallback: number, max: number): number {
  const n = Number(params.get('maxResults') ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`Invalid maxResults: ${params.get('maxResults')}`);
  return Math.min(n, max);
}

function writeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function readToken<T>(token: string): T {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString()) as T;
  } catch {
    throw badRequest('Invalid pageToken');
  }
}

/** gmail.metadata alone (no broader read scope) is what restricts q and the formats. */
export function isMetadataOnly(scopes: readonly string[]): boolean {
  return scopes.includes(SCOPES.metadata) && ![SCOPES.full, SCOPES.modify, SCOPES.readonly].some((s) => scopes.includes(s));
}
