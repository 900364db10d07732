// Graph's mail methods over one mailbox: path routing under /v1.0/me (or /v1.0/users/{upn}),
// the query options, and the answers. Paths are taken in both of Graph's spellings
// (`mailFolders/ID/messages/delta` and `mailFolders('ID')/messages/microsoft.graph.delta()`).
// Auth, scopes, throttling, batching and the listener are the server's (graph-server.ts).
import type { FileAttachment, Message, Recipient, UploadSession } from '@microsoft/microsoft-graph-types';
import { randomBytes } from 'node:crypto';
import { GraphError, badRequest, itemNotFound, tooLarge } from './errors.js';
import { DEFAULT_PAGE, type DeltaStore } from './delta.js';
import { Mailbox, type FlagStatus, type StoredMessage } from './mailbox.js';
import { composeMime, withAttachments } from './mime.js';
import type { GraphApi } from './policy.js';
import {
  FOLDER_SELECTABLE, MESSAGE_SELECTABLE, applySelect, checkFilterOrder, filterProperties, matches, parseFilter, parseOrderBy,
  parseExpand, parseSearch, parseSelect, searchMatches, sortBy, type OrderBy,
} from './query.js';
import { attachmentJson, folderJson, messageJson, propertyOf, searchDoc, withExtended, type Collection, type GraphFolder, type GraphMessage, type RenderOptions } from './shapes.js';
import type { UploadStore } from './upload.js';

export interface GraphLimits {
  /** Largest request body (sendMail, createMessage, attachments): Graph's 4 MB. */
  requestBytes: number;
  /** Most results of a $search (Graph: 1,000). */
  searchResults: number;
}

export interface Services {
  delta: DeltaStore;
  uploads: UploadStore;
  limits: GraphLimits;
  /** A message sent (sendMail, draft send): recorded, and delivered to the mailboxes this server hosts. */
  sent(from: Mailbox, message: StoredMessage): void;
}

export interface RouteRequest {
  method: string;
  /** Absolute, on this server's root. */
  url: URL;
  headers: Record<string, string | undefined>;
  body: Buffer;
  mailbox: Mailbox;
  prefer: Map<string, string>;
  render: RenderOptions;
  /** https://127.0.0.1:PORT, for absolute links. */
  root: string;
}

export interface Reply {
  status: number;
  json?: GraphBody;
  /** A non-JSON answer ($value). */
  raw?: { contentType: string; body: Buffer };
  headers?: Record<string, string>;
}

/** Every JSON answer is one of Graph's own shapes. */
type GraphBody = GraphMessage | GraphFolder | Collection<GraphMessage> | Collection<GraphFolder> | Collection<unknown> | FileAttachment | UploadSession;

type Handler = (req: RouteRequest, params: string[], services: Services) => Reply;

export interface Route {
  method: string;
  pattern: string[];
  api: GraphApi;
  handle: Handler;
}

/** A matched call: the route, its parameters, and who the path names (`me` or a user). */
export interface Match {
  route: Route;
  params: string[];
  user: string;
}

/**
 * Path segments under the version, with Graph's key syntax (`mailFolders('X')`) and qualified
 * function names (`microsoft.graph.delta()`) brought to the plain form.
 */
export function segments(pathname: string): string[] {
  const out: string[] = [];
  for (const raw of pathname.split('/').filter(Boolean)) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      s = raw;
    }
    const key = /^([A-Za-z]+)\('(.*)'\)$/.exec(s);
    if (key) out.push(key[1]!, key[2]!);
    else out.push(s.replace(/^microsoft\.graph\./, '').replace(/\(\)$/, ''));
  }
  return out;
}

export function match(routes: Route[], method: string, pathname: string): Match | null {
  const segs = segments(pathname);
  if (segs[0] !== 'v1.0') return null;
  let rest: string[];
  let user: string;
  if (segs[1] === 'me') [user, rest] = ['me', segs.slice(2)];
  else if (segs[1] === 'users' && segs[2]) [user, rest] = [segs[2], segs.slice(3)];
  else return null;
  for (const route of routes) {
    if (route.pattern.length !== rest.length) continue;
    const params: string[] = [];
    const ok = route.pattern.every((p, i) => (p === ':' ? (params.push(rest[i]!), true) : p.toLowerCase() === rest[i]!.toLowerCase()));
    if (ok && route.method === method) return { route, params, user };
  }
  return null;
}

/** Whether some route has this path (for 405 against 400 on an unknown one). */
export function pathKnown(routes: Route[], pathname: string): boolean {
  return ['GET', 'POST', 'PATCH', 'DELETE', 'PUT'].some((m) => match(routes, m, pathname) !== null);
}

// ---- helpers

function jsonBody<T>(req: RouteRequest): T {
  if (req.body.length === 0) throw badRequest('Empty Payload. JSON content expected.', 'ErrorInvalidRequest');
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    throw new GraphError(415, 'UnsupportedMediaType', `Content-Type '${req.headers['content-type'] ?? ''}' is not supported here; send application/json.`);
  }
  try {
    return JSON.parse(req.body.toString('utf8')) as T;
  } catch {
    throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  }
}

function intParam(q: URLSearchParams, name: string, fallback: number): number {
  const v = q.get(name);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v)) throw badRequest(`Invalid value '${v}' for query option '${name}'.`);
  return Number(v);
}

/** `$top`, `$skip` and the absolute nextLink carrying the next `$skip`, as Graph pages mail collections. */
function paged<T>(req: RouteRequest, items: T[], defaultTop: number, maxTop: number): { value: T[]; nextLink?: string } {
  const q = req.url.searchParams;
  const top = Math.min(intParam(q, '$top', defaultTop), maxTop);
  const skip = intParam(q, '$skip', 0);
  const value = items.slice(skip, skip + top);
  if (skip + top >= items.length) return { value };
  const next = new URL(req.url.pathname, req.root);
  for (const [k, v] of q) if (k !== '$skip') next.searchParams.append(k, v);
  if (!q.has('$top')) next.searchParams.set('$top', String(top));
  next.searchParams.set('$skip', String(skip + top));
  return { value, nextLink: next.href };
}

function context(req: RouteRequest, what: string): string {
  return `${req.root}/v1.0/$metadata#${what}`;
}

function decodeMime(req: RouteRequest): Buffer {
  const text = req.body.toString('latin1').replace(/\s+/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw badRequest('Invalid base64 string for MIME content.', 'ErrorMimeContentInvalidBase64String');
  }
  return Buffer.from(text, 'base64');
}

function addressList(rs: Recipient[] | null | undefined): string[] {
  return (rs ?? []).map((r) => (r.emailAddress?.name ? `"${r.emailAddress.name.replace(/"/g, '')}" <${r.emailAddress.address}>` : `<${r.emailAddress?.address ?? ''}>`));
}

/** A message given as JSON (createMessage, sendMail) made into MIME, as Exchange does. */
function mimeFromJson(mailbox: Mailbox, message: Message): Buffer {
  return composeMime({
    from: mailbox.email,
    to: addressList(message.toRecipients),
    cc: addressList(message.ccRecipients),
    bcc: addressList(message.bccRecipients),
    subject: message.subject ?? '',
    body: message.body?.content ?? '',
    html: String(message.body?.contentType ?? '').toLowerCase() === 'html',
    messageId: `<${randomBytes(12).toString('hex')}@${mailbox.email.split('@')[1] ?? 'localhost'}>`,
  });
}

/** The message a request gives: base64 MIME as text/plain, or JSON. */
function givenMessage(req: RouteRequest, jsonKey: 'message' | null, limits: GraphLimits): { raw: Buffer; saveToSentItems: boolean } {
  if (req.body.length > limits.requestBytes) throw tooLarge();
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('text/plain')) return { raw: decodeMime(req), saveToSentItems: true };
  const body = jsonBody<Message & { message?: Message; saveToSentItems?: boolean }>(req);
  const message = jsonKey ? body.message : body;
  if (!message || typeof message !== 'object') throw badRequest("Required parameter 'Message' is missing or empty.", 'ErrorInvalidRequest');
  return { raw: mimeFromJson(req.mailbox, message), saveToSentItems: body.saveToSentItems !== false };
}

function recipientsOf(m: StoredMessage): string[] {
  return [...m.facts.to, ...m.facts.cc, ...m.facts.bcc].map((r) => r.emailAddress?.address?.toLowerCase() ?? '').filter(Boolean);
}

function single(req: RouteRequest, m: StoredMessage): GraphMessage {
  const select = parseSelect(req.url.searchParams.get('$select'), MESSAGE_SELECTABLE, 'microsoft.graph.message');
  const expand = parseExpand(req.url.searchParams.get('$expand'));
  return { '@odata.context': context(req, `users('${req.mailbox.email}')/messages/$entity`), ...withExtended(applySelect(messageJson(m, req.render), select), m, expand) } as GraphMessage;
}

// ---- handlers

function listFolders(req: RouteRequest, parentId: string): Reply {
  const q = req.url.searchParams;
  const includeHidden = q.get('includeHiddenFolders') === 'true';
  const select = parseSelect(q.get('$select'), FOLDER_SELECTABLE, 'microsoft.graph.mailFolder');
  const parent = req.mailbox.folder(parentId);
  const all = req.mailbox.children(parent.id).filter((f) => includeHidden || !f.isHidden);
  const { value, nextLink } = paged(req, all, 10, 1000);
  const body: Collection<GraphFolder> = { '@odata.context': context(req, 'mailFolders'), value: value.map((f) => applySelect(folderJson(req.mailbox, f, { includeHidden }), select)) };
  if (q.get('$count') === 'true') body['@odata.count'] = all.length;
  if (nextLink) body['@odata.nextLink'] = nextLink;
  return { status: 200, json: body };
}

function listMessages(req: RouteRequest, folderId: string | null, services: Services): Reply {
  const q = req.url.searchParams;
  const select = parseSelect(q.get('$select'), MESSAGE_SELECTABLE, 'microsoft.graph.message');
  const expand = parseExpand(q.get('$expand'));
  const search = q.get('$search');
  const filterText = q.get('$filter');
  const orderText = q.get('$orderby');
  if (search !== null && orderText !== null) throw badRequest("The query parameter '$orderBy' is not supported with '$search'.", 'SearchWithOrderBy');
  if (search !== null && filterText !== null) throw badRequest("The query parameter '$filter' is not supported with '$search'.", 'ErrorInvalidUrlQueryFilter');
  const scope = folderId === null ? [...req.mailbox.messages.values()] : req.mailbox.inFolder(req.mailbox.folder(folderId).id);
  const get = (m: StoredMessage, path: string) => propertyOf(m, path, req.render);
  let items: StoredMessage[];
  if (search !== null) {
    const kql = parseSearch(search);
    items = sortBy(scope.filter((m) => searchMatches(kql, searchDoc(m))), [{ path: 'receivedDateTime', desc: true }], get).slice(0, services.limits.searchResults);
  } else {
    const filter = filterText === null ? null : parseFilter(filterText);
    const orderBy: OrderBy[] = orderText === null ? [{ path: 'receivedDateTime', desc: true }] : parseOrderBy(orderText);
    if (filter && orderText !== null) checkFilterOrder(filter, orderBy);
    items = sortBy(filter ? scope.filter((m) => matches(filter, (p) => get(m, p))) : scope, orderBy, get);
  }
  const { value, nextLink } = paged(req, items, 10, 1000);
  const body: Collection<GraphMessage> = { '@odata.context': context(req, 'messages'), value: value.map((m) => withExtended(applySelect(messageJson(m, req.render), select), m, expand)) };
  // A $search gives no exact count in Graph; the fake leaves @odata.count out there.
  if (q.get('$count') === 'true' && search === null) body['@odata.count'] = items.length;
  if (nextLink) body['@odata.nextLink'] = nextLink;
  return { status: 200, json: body };
}

function delta(req: RouteRequest, folderId: string, services: Services): Reply {
  const q = req.url.searchParams;
  const folder = req.mailbox.folder(folderId);
  const link = (token: string, kind: 'skip' | 'delta') => `${req.root}/v1.0/me/mailFolders('${folder.id}')/messages/microsoft.graph.delta()?${kind === 'skip' ? '$skiptoken' : '$deltatoken'}=${token}`;
  const preferred = req.prefer.get('odata.maxpagesize');
  const pageSize = preferred !== undefined ? Number(preferred) : q.has('$top') ? intParam(q, '$top', DEFAULT_PAGE) : null;
  const skip = q.get('$skiptoken');
  const token = q.get('$deltatoken');
  let page;
  if (skip !== null || token !== null) {
    page = services.delta.resume(req.mailbox, skip !== null ? { skip } : { delta: token! }, link, pageSize);
  } else {
    if (q.has('$search')) throw badRequest("The query parameter '$search' is not supported with delta.", 'ErrorInvalidUrlQuery');
    if (q.has('$orderby')) throw badRequest("The query parameter '$orderby' is not supported with delta.", 'ErrorInvalidUrlQuery');
    const filterText = q.get('$filter');
    const filter = filterText === null ? null : parseFilter(filterText);
    if (filter && filterProperties(filter).some((p) => p !== 'receivedDateTime')) {
      throw badRequest('Delta takes a $filter on receivedDateTime only.', 'ErrorInvalidUrlQueryFilter');
    }
    const select = parseSelect(q.get('$select'), MESSAGE_SELECTABLE, 'microsoft.graph.message');
    const expand = parseExpand(q.get('$expand'));
    page = services.delta.start(req.mailbox, { folderId: folder.id, select, expand, filter, render: req.render }, link, pageSize ?? DEFAULT_PAGE);
  }
  return { status: 200, json: { '@odata.context': context(req, 'Collection(message)'), ...page }, headers: preferred !== undefined ? { 'preference-applied': `odata.maxpagesize=${preferred}` } : {} };
}

const FLAG_STATUSES: readonly FlagStatus[] = ['notFlagged', 'flagged', 'complete'];
const PATCHABLE = new Set(['isRead', 'flag', 'categories', 'importance', 'inferenceClassification', 'subject', 'body', 'toRecipients', 'ccRecipients', 'bccRecipients']);

function update(req: RouteRequest, id: string): Reply {
  const m = req.mailbox.message(id);
  const patch = jsonBody<Record<string, unknown>>(req);
  for (const key of Object.keys(patch)) {
    if (!PATCHABLE.has(key)) throw badRequest(`The property '${key}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type.`);
  }
  const change: { isRead?: boolean; flagStatus?: FlagStatus } = {};
  if ('isRead' in patch) {
    if (typeof patch.isRead !== 'boolean') throw badRequest("Cannot convert the literal to the expected type 'Edm.Boolean'.");
    change.isRead = patch.isRead;
  }
  if ('flag' in patch) {
    const status = (patch.flag as { flagStatus?: unknown } | null)?.flagStatus;
    if (!FLAG_STATUSES.includes(status as FlagStatus)) throw badRequest(`The value '${String(status)}' is not valid for flagStatus.`);
    change.flagStatus = status as FlagStatus;
  }
  req.mailbox.update(m, change);
  return { status: 200, json: single(req, m) };
}

function move(req: RouteRequest, id: string): Reply {
  const m = req.mailbox.message(id);
  const { destinationId } = jsonBody<{ destinationId?: unknown }>(req);
  if (typeof destinationId !== 'string' || destinationId === '') throw badRequest("Required parameter 'DestinationId' is missing or empty.", 'ErrorInvalidRequest');
  req.mailbox.move(m, req.mailbox.folder(destinationId));
  return { status: 201, json: single(req, m) };
}

function createMessage(req: RouteRequest, folder: string, services: Services): Reply {
  const { raw } = givenMessage(req, null, services.limits);
  const m = req.mailbox.add(raw, { folder, isDraft: true, isRead: true });
  return { status: 201, json: single(req, m) };
}

/** sendMail and draft send: the copy in Sent Items, the record, delivery. */
function send(req: RouteRequest, raw: Buffer, save: boolean, services: Services): StoredMessage {
  const copy = req.mailbox.add(raw, { folder: 'sentitems', isRead: true });
  if (!copy.facts.from) copy.facts.from = copy.facts.sender = { emailAddress: { name: req.mailbox.email, address: req.mailbox.email } };
  if (recipientsOf(copy).length === 0) {
    req.mailbox.remove(copy);
    throw badRequest("At least one recipient isn't valid., A message can't be sent because it contains no recipients.", 'ErrorInvalidRecipients');
  }
  services.sent(req.mailbox, copy);
  if (!save) req.mailbox.remove(copy);
  return copy;
}

function addAttachment(req: RouteRequest, id: string, services: Services): Reply {
  if (req.body.length > services.limits.requestBytes) throw tooLarge();
  const m = req.mailbox.message(id);
  const a = jsonBody<FileAttachment & { '@odata.type'?: string }>(req);
  if (a['@odata.type'] !== '#microsoft.graph.fileAttachment') throw badRequest("The '@odata.type' of an attachment must be '#microsoft.graph.fileAttachment' here.", 'ErrorInvalidRequest');
  if (!a.name || typeof a.contentBytes !== 'string') throw badRequest('An attachment needs a name and contentBytes.', 'ErrorInvalidRequest');
  const stored = { id: req.mailbox.newAttachmentId(), name: a.name, contentType: a.contentType ?? 'application/octet-stream', content: Buffer.from(a.contentBytes, 'base64'), isInline: a.isInline ?? false, lastModifiedDateTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
  m.attachments.push(stored);
  req.mailbox.touch(m);
  return { status: 201, json: { '@odata.context': context(req, 'attachments/$entity'), ...attachmentJson(stored) } as FileAttachment };
}

export function routes(): Route[] {
  const r = (method: string, path: string, api: GraphApi, handle: Handler): Route => ({ method, pattern: path.split('/').map((s) => (s.startsWith(':') ? ':' : s)), api, handle });
  return [
    r('GET', 'mailFolders', 'mailFolders.list', (req) => listFolders(req, 'msgfolderroot')),
    r('GET', 'mailFolders/:id', 'mailFolders.get', (req, [id]) => {
      const select = parseSelect(req.url.searchParams.get('$select'), FOLDER_SELECTABLE, 'microsoft.graph.mailFolder');
      const folder = folderJson(req.mailbox, req.mailbox.folder(id!), { includeHidden: false });
      return { status: 200, json: { '@odata.context': context(req, 'mailFolders/$entity'), ...applySelect(folder, select) } };
    }),
    r('GET', 'mailFolders/:id/childFolders', 'mailFolders.childFolders', (req, [id]) => listFolders(req, id!)),
    r('GET', 'mailFolders/:id/messages', 'messages.list', (req, [id], s) => listMessages(req, id!, s)),
    r('GET', 'mailFolders/:id/messages/delta', 'messages.delta', (req, [id], s) => delta(req, id!, s)),
    r('GET', 'mailFolders/:id/messages/:id', 'messages.get', (req, [f, id]) => {
      const m = req.mailbox.message(id!);
      if (m.folderId !== req.mailbox.folder(f!).id) throw itemNotFound();
      return { status: 200, json: single(req, m) };
    }),
    r('POST', 'mailFolders/:id/messages', 'messages.create', (req, [f], s) => createMessage(req, f!, s)),
    r('GET', 'messages', 'messages.list', (req, _p, s) => listMessages(req, null, s)),
    r('POST', 'messages', 'messages.create', (req, _p, s) => createMessage(req, 'drafts', s)),
    r('GET', 'messages/:id', 'messages.get', (req, [id]) => ({ status: 200, json: single(req, req.mailbox.message(id!)) })),
    r('GET', 'messages/:id/$value', 'messages.value', (req, [id]) => ({ status: 200, raw: { contentType: 'text/plain', body: req.mailbox.message(id!).raw } })),
    r('PATCH', 'messages/:id', 'messages.update', (req, [id]) => update(req, id!)),
    r('POST', 'messages/:id/move', 'messages.move', (req, [id]) => move(req, id!)),
    r('DELETE', 'messages/:id', 'messages.delete', (req, [id]) => {
      const m = req.mailbox.message(id!);
      const trash = req.mailbox.wellKnown('deleteditems');
      // A delete moves to Deleted Items; from there it goes for good (to Recoverable Items).
      if (m.folderId === trash.id) req.mailbox.remove(m);
      else req.mailbox.move(m, trash);
      return { status: 204 };
    }),
    r('POST', 'messages/:id/permanentDelete', 'messages.permanentDelete', (req, [id]) => (req.mailbox.remove(req.mailbox.message(id!)), { status: 204 })),
    r('POST', 'messages/:id/attachments', 'attachments.add', (req, [id], s) => addAttachment(req, id!, s)),
    r('POST', 'messages/:id/attachments/createUploadSession', 'attachments.createUploadSession', (req, [id], s) => {
      const m = req.mailbox.message(id!);
      const { AttachmentItem } = jsonBody<{ AttachmentItem?: Record<string, unknown> }>(req);
      if (!AttachmentItem) throw badRequest("Required parameter 'AttachmentItem' is missing.", 'ErrorInvalidRequest');
      return { status: 201, json: { '@odata.context': context(req, 'microsoft.graph.uploadSession'), ...s.uploads.create(req.root, req.mailbox, m.immutableId, AttachmentItem) } };
    }),
    r('POST', 'messages/:id/send', 'messages.send', (req, [id], s) => {
      const draft = req.mailbox.message(id!);
      if (!draft.isDraft) throw badRequest('Only a draft can be sent.', 'ErrorInvalidOperation');
      const raw = withAttachments(draft.raw, draft.attachments);
      send(req, raw, true, s);
      req.mailbox.remove(draft);
      return { status: 202 };
    }),
    r('POST', 'sendMail', 'sendMail', (req, _p, s) => {
      const { raw, saveToSentItems } = givenMessage(req, 'message', s.limits);
      send(req, raw, saveToSentItems, s);
      return { status: 202 };
    }),
  ];
}
