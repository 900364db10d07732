// A local Microsoft Graph mail API for the tests (Microsoft cannot be reached from here): the
// real paths under one service root (`/v1.0/me/...`, `/v1.0/$batch`, and the pre-authenticated
// attachment upload URLs it hands out) over https with a certificate from the suite's CA, bearer
// tokens checked by introspection with the delegated permission each method needs, Outlook's
// per-mailbox throttling (4 in flight, 10,000 requests per 10 minutes), immutable and regular
// ids, delta queries with expiry, a request log and error injection.
// Its parts live in ./graph/: mailbox.ts (state, ids, change sequence), routes.ts (methods and
// paths), shapes.ts (answers, typed with @microsoft/microsoft-graph-types), query.ts ($filter,
// $orderby, $select, $search), delta.ts, batch.ts, upload.ts, policy.ts (scopes, throttling),
// errors.ts, mime.ts.
//
//   const graph = await startGraphServer({ ca, introspectionUrl: idp.introspectionUrl });
//   graph.addUser('ann@contoso.test');
//   graph.addMessage('ann@contoso.test', raw, { folder: 'inbox', isRead: false });
//   runCli([...], { env: { ...graph.env(), ... } });
//   expect(graph.requests({ api: 'messages.delta' }).every((r) => r.immutableIds)).toBe(true);
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeServerCert, type CertAuthority } from './certs.js';
import { HOST } from './net.js';
import { MAX_BATCH, innerBody, outerBody, parseBatch, type BatchResponseItem } from './graph/batch.js';
import { DeltaStore } from './graph/delta.js';
import { GraphError, accessDenied, invalidToken, methodNotAllowed, noResource } from './graph/errors.js';
import { Mailbox, type SeedOptions, type StoredFolder, type StoredMessage } from './graph/mailbox.js';
import { allowed, bareScope, Throttle, type GraphApi, type ThrottleOptions } from './graph/policy.js';
import { match, pathKnown, routes, type GraphLimits, type Reply } from './graph/routes.js';
import { parsePrefer, renderOptions } from './graph/shapes.js';
import { UploadStore, type UploadLimits, type UploadRecord } from './graph/upload.js';

export type { GraphApi, ThrottleOptions } from './graph/policy.js';
export type { Mailbox, StoredFolder, StoredMessage, SeedOptions, FlagStatus } from './graph/mailbox.js';
export type { UploadRecord } from './graph/upload.js';
export type { GraphErrorBody } from './graph/errors.js';

/** Delegated permissions as MSAL asks for them. */
export const GRAPH_SCOPES = {
  read: 'https://graph.microsoft.com/Mail.Read',
  readWrite: 'https://graph.microsoft.com/Mail.ReadWrite',
  send: 'https://graph.microsoft.com/Mail.Send',
  readBasic: 'https://graph.microsoft.com/Mail.ReadBasic',
} as const;

export interface GraphServerOptions {
  ca: CertAuthority;
  /**
   * RFC 7662 introspection endpoint (the suite's OAuth server: `idp.introspectionUrl`). Bearer
   * tokens not made with `token()` are checked there, so tokens from a real sign-in work.
   */
  introspectionUrl?: string;
  /** Outlook's per-mailbox limits; defaults 4 in flight and 10,000 requests per 600 s. */
  throttle?: ThrottleOptions;
  /** Added to every top-level request (not per batch part), so concurrency can be seen. */
  latencyMs?: number;
  /** Graph's 20 requests a batch. */
  maxBatch?: number;
  limits?: Partial<GraphLimits>;
  upload?: Partial<UploadLimits>;
}

export interface RequestRecord {
  at: number;
  method: string;
  /** Path as sent (no query); a batch part's path with /v1.0 in front. */
  path: string;
  query: string;
  /** The method served: 'batch' for the envelope, null for an unknown path. */
  api: GraphApi | 'batch' | null;
  user: string | null;
  status: number;
  /** `Prefer: IdType="ImmutableId"` was on the request (a batch part: on the part itself). */
  immutableIds: boolean;
  /** The Prefer header as sent, or null. */
  prefer: string | null;
  inBatch: boolean;
  /** An injected failure answered it. */
  injected: boolean;
}

export interface Injection {
  /** What it answers instead of: an API name, and/or a path (exact, or a pattern), a method, a user. */
  api?: GraphApi | 'batch';
  path?: string | RegExp;
  method?: string;
  user?: string;
  /** How many matching requests (default 1). */
  times?: number;
  /** Default 503. */
  status?: number;
  /** Default Graph's envelope with a code for the status. */
  body?: unknown;
  /** Seconds for Retry-After (sent as a header). */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** Close the connection without an answer (a batch part drops the whole batch). */
  drop?: boolean;
}

export interface SentRecord {
  from: string;
  /** Envelope recipients: To, Cc and Bcc addresses, lower-cased. */
  recipients: string[];
  /** The MIME that went out (a draft's with the attachments added through the API). */
  raw: Buffer;
  /** Id of the copy in Sent Items (immutable). */
  sentItemId: string;
}

export interface GraphServer {
  /** https://127.0.0.1:PORT, the service root (as MAILOPS_GRAPH_URL wants it; the client adds /v1.0). */
  url: string;
  caFile: string;
  /** MAILOPS_GRAPH_URL and NODE_EXTRA_CA_CERTS for a CLI run. */
  env(): Record<string, string>;
  addUser(email: string): Mailbox;
  /** A bearer token for the user with these scopes (bare or with the Graph resource prefix); default Mail.ReadWrite and Mail.Send. */
  token(email: string, scopes?: string[]): string;
  revokeToken(token: string): void;
  /** Seeds a message without the API: no request logged, no throttling (a delta change is recorded). */
  addMessage(email: string, raw: string | Buffer, opts?: SeedOptions): StoredMessage;
  /** A folder under a parent (id, well-known name, or a path of display names from the root as an array). */
  addFolder(email: string, parent: string | string[], displayName: string): StoredFolder;
  renameFolder(email: string, folderId: string, displayName: string): StoredFolder;
  deleteFolder(email: string, folderId: string): void;
  /** The mailbox itself: folders, messages (by immutable id, raw bytes), removals. */
  mailbox(email: string): Mailbox;
  /** Makes the user's delta tokens given so far (of one folder, or all) answer 410 SyncStateNotFound. */
  expireDelta(email: string, folderId?: string): void;
  injectError(injection: Injection): void;
  requests(filter?: Partial<Pick<RequestRecord, 'api' | 'user' | 'status' | 'inBatch' | 'method' | 'immutableIds'>>): RequestRecord[];
  /** PUTs to upload URLs. */
  uploads(): UploadRecord[];
  /** Most top-level-or-part requests the user had in flight at once. */
  maxInFlightSeen(email: string): number;
  setThrottle(throttle: ThrottleOptions): void;
  /** Changes `latencyMs` for the requests that follow (0: none). */
  setLatency(ms: number): void;
  /**
   * Serves another certificate from now on and drops every open connection (a certificate changed
   * mid-run, or a machine in the middle): clients must handshake again to go on.
   */
  swapCertificate(cert: { certPath: string; keyPath: string }): void;
  /** The certificate it started with (signed by the bed's CA). */
  certificate: { certPath: string; keyPath: string };
  clearRequests(): void;
  /** Every message sent (sendMail, draft send), in order. */
  sent(): SentRecord[];
  stop(): Promise<void>;
}

interface Call {
  method: string;
  target: string;
  headers: Record<string, string | undefined>;
  body: Buffer;
  inBatch: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}
type Outcome = Answer | { drop: true };

interface TokenGrant {
  email: string;
  scopes: string[];
  revoked: boolean;
}

const STATUS_CODES: Record<number, string> = {
  400: 'BadRequest', 401: 'InvalidAuthenticationToken', 403: 'ErrorAccessDenied', 404: 'ErrorItemNotFound', 409: 'ErrorIrresolvableConflict',
  429: 'ApplicationThrottled', 500: 'InternalServerError', 502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout',
};

export async function startGraphServer(opts: GraphServerOptions): Promise<GraphServer> {
  let latencyMs = opts.latencyMs ?? 0;
  const mailboxes = new Map<string, Mailbox>();
  const tokens = new Map<string, TokenGrant>();
  const throttle = new Throttle(opts.throttle);
  const log: RequestRecord[] = [];
  const injections: (Injection & { left: number })[] = [];
  const sent: SentRecord[] = [];
  const table = routes();
  const limits: GraphLimits = { requestBytes: 4 * 1024 * 1024, searchResults: 1000, ...opts.limits };
  const uploads = new UploadStore({ minBytes: 3 * 1024 * 1024, maxBytes: 150 * 1024 * 1024, chunkBytes: 4 * 1024 * 1024, ttlMs: 15 * 60_000, ...opts.upload });
  const delta = new DeltaStore();

  const cert = await makeServerCert(opts.ca, { cn: HOST, sans: [HOST, 'localhost'] });
  const server = createServer({ key: readFileSync(cert.keyPath), cert: readFileSync(cert.certPath) }, (req, res) => {
    void serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const url = `https://${HOST}:${(server.address() as AddressInfo).port}`;

  const services = {
    delta,
    uploads,
    limits,
    sent(from: Mailbox, message: StoredMessage) {
      const recipients = [...message.facts.to, ...message.facts.cc, ...message.facts.bcc].map((r) => r.emailAddress!.address!.toLowerCase());
      sent.push({ from: from.email, recipients, raw: message.raw, sentItemId: message.immutableId });
      // Exchange delivers to the mailboxes it hosts: each recipient's Inbox, Bcc taken out.
      for (const address of new Set(recipients)) mailboxes.get(address)?.add(withoutBcc(message.raw), { folder: 'inbox' });
    },
  };

  function mailboxOf(email: string): Mailbox {
    const box = mailboxes.get(email.toLowerCase());
    if (!box) throw new Error(`graph fake: no user ${email} (addUser first)`);
    return box;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const call: Call = { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks), inBatch: false };
    const pathname = new URL(call.target, url).pathname;
    let outcome: Outcome;
    if (pathname.startsWith('/api/v2.0/') && call.method === 'PUT') outcome = uploads.put(pathname, call.headers, call.body);
    else if (pathname === '/v1.0/$batch' || pathname === '/v1.0/%24batch') outcome = await batch(call);
    else outcome = await handle(call);
    if ('drop' in outcome) {
      req.socket.destroy();
      return;
    }
    res.writeHead(outcome.status, { ...outcome.headers, 'content-length': String(outcome.body.length) }).end(outcome.body);
  }

  function newRecord(call: Call, target: URL): RequestRecord {
    const prefer = call.headers.prefer ?? null;
    const record: RequestRecord = {
      at: Date.now(), method: call.method, path: target.pathname, query: target.search, api: null, user: null, status: 0,
      immutableIds: renderOptions(parsePrefer(prefer ?? undefined)).immutable, prefer, inBatch: call.inBatch, injected: false,
    };
    log.push(record);
    return record;
  }

  /** The envelope: its own record; each part then runs as a call of its own, in order. */
  async function batch(call: Call): Promise<Outcome> {
    const record = newRecord(call, new URL(call.target, url));
    record.api = 'batch';
    try {
      if (call.method !== 'POST') throw methodNotAllowed();
      const grant = await authenticate(call.headers.authorization);
      record.user = grant.email;
      const injected = injectionFor(record, call.method);
      if (injected) return injected;
      const items = parseBatch(call.body, opts.maxBatch ?? MAX_BATCH);
      if (latencyMs) await sleep(latencyMs);
      const responses: BatchResponseItem[] = [];
      const statusOf = new Map<string, number>();
      for (const item of items) {
        // A part whose dependency failed is not run: 424 Failed Dependency, as Graph answers.
        if ((item.dependsOn ?? []).some((d) => (statusOf.get(d) ?? 500) >= 400)) {
          statusOf.set(item.id, 424);
          responses.push({ id: item.id, status: 424, headers: { 'content-type': 'application/json' }, body: new GraphError(424, 'FailedDependency', 'A request this one depends on failed.').body() });
          continue;
        }
        const headers: Record<string, string | undefined> = { authorization: call.headers.authorization };
        for (const [k, v] of Object.entries(item.headers ?? {})) headers[k.toLowerCase()] = v;
        const target = `/v1.0${item.url.startsWith('/') ? '' : '/'}${item.url}`;
        const outcome = await handle({ method: item.method.toUpperCase(), target, headers, body: innerBody(item), inBatch: true });
        if ('drop' in outcome) return outcome;
        statusOf.set(item.id, outcome.status);
        const response: BatchResponseItem = { id: item.id, status: outcome.status, headers: outcome.headers };
        const body = outerBody(outcome.headers['content-type'], outcome.body);
        if (body !== undefined) response.body = body;
        responses.push(response);
      }
      record.status = 200;
      return jsonAnswer(200, { responses });
    } catch (err) {
      const answer = errorAnswer(err);
      record.status = answer.status;
      return answer;
    }
  }

  /** One API call, top-level or a batch part: route, auth, injection, scope, throttling, then the method. */
  async function handle(call: Call): Promise<Outcome> {
    const target = new URL(call.target, url);
    const record = newRecord(call, target);
    let release = () => {};
    try {
      const found = match(table, call.method, target.pathname);
      if (found) record.api = found.route.api;
      const grant = await authenticate(call.headers.authorization);
      record.user = grant.email;
      const injected = injectionFor(record, call.method);
      if (injected) return injected;
      if (!found) throw pathKnown(table, target.pathname) ? methodNotAllowed() : noResource(target.pathname);
      if (found.user !== 'me' && found.user.toLowerCase() !== grant.email) throw accessDenied();
      const mailbox = mailboxes.get(grant.email);
      if (!mailbox) throw new GraphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.');
      if (!allowed(found.route.api, grant.scopes)) throw accessDenied();
      release = throttle.enter(grant.email);
      throttle.spend(grant.email);
      if (!call.inBatch && latencyMs) await sleep(latencyMs);
      const prefer = parsePrefer(call.headers.prefer);
      const reply = found.route.handle(
        { method: call.method, url: target, headers: call.headers, body: call.body, mailbox, prefer, render: renderOptions(prefer), root: url },
        found.params,
        services,
      );
      record.status = reply.status;
      return replyAnswer(reply);
    } catch (err) {
      const answer = errorAnswer(err);
      record.status = answer.status;
      return answer;
    } finally {
      release();
    }
  }

  function injectionFor(record: RequestRecord, method: string): Outcome | null {
    const i = injections.find(
      (x) =>
        x.left > 0 &&
        (!x.method || x.method === method) &&
        (!x.api || x.api === record.api) &&
        (!x.user || x.user.toLowerCase() === record.user) &&
        (!x.path || (typeof x.path === 'string' ? x.path === record.path : x.path.test(record.path))),
    );
    if (!i) return null;
    i.left--;
    record.injected = true;
    if (i.drop) return { drop: true };
    const status = i.status ?? 503;
    record.status = status;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...i.headers };
    if (i.retryAfter !== undefined) headers['retry-after'] = String(i.retryAfter);
    const body = i.body ?? new GraphError(status, STATUS_CODES[status] ?? 'UnknownError', 'Injected failure.').body();
    return { status, headers, body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)) };
  }

  async function authenticate(header: string | undefined): Promise<TokenGrant> {
    const bearer = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
    if (!bearer) throw invalidToken('Access token is empty.');
    const known = tokens.get(bearer);
    if (known) {
      if (known.revoked) throw invalidToken('Lifetime validation failed, the token is expired.');
      return known;
    }
    if (opts.introspectionUrl) {
      const answer = await fetch(opts.introspectionUrl, { method: 'POST', body: new URLSearchParams({ token: bearer }) });
      const info = (await answer.json()) as { active?: boolean; username?: string; scope?: string };
      if (info.active && info.username) return { email: info.username.toLowerCase(), scopes: (info.scope ?? '').split(/\s+/).filter(Boolean), revoked: false };
      throw invalidToken('Lifetime validation failed, the token is expired.');
    }
    throw invalidToken();
  }

  return {
    url,
    caFile: opts.ca.certPath,
    env: () => ({ MAILOPS_GRAPH_URL: url, NODE_EXTRA_CA_CERTS: opts.ca.certPath }),
    addUser(email) {
      const box = new Mailbox(email.toLowerCase());
      mailboxes.set(box.email, box);
      return box;
    },
    token(email, scopes = ['Mail.ReadWrite', 'Mail.Send']) {
      const value = `eyJ0eXAiOiJKV1Qi.fake-graph.${randomBytes(18).toString('base64url')}`;
      tokens.set(value, { email: email.toLowerCase(), scopes: scopes.map(bareScope), revoked: false });
      return value;
    },
    revokeToken(value) {
      const grant = tokens.get(value);
      if (grant) grant.revoked = true;
    },
    addMessage: (email, raw, seed = {}) => mailboxOf(email).add(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), seed),
    addFolder(email, parent, displayName) {
      const box = mailboxOf(email);
      return box.addFolder(Array.isArray(parent) ? box.folderByPath(parent).id : parent, displayName);
    },
    renameFolder: (email, folderId, displayName) => mailboxOf(email).renameFolder(folderId, displayName),
    deleteFolder: (email, folderId) => mailboxOf(email).deleteFolder(folderId),
    mailbox: mailboxOf,
    expireDelta: (email, folderId) => delta.expire(email.toLowerCase(), folderId === undefined ? undefined : mailboxOf(email).folder(folderId).id),
    injectError: (injection) => void injections.push({ ...injection, left: injection.times ?? 1 }),
    requests: (filter = {}) => log.filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof RequestRecord] === v)),
    uploads: () => [...uploads.log],
    maxInFlightSeen: (email) => throttle.maxInFlightSeen(email.toLowerCase()),
    setThrottle: (t) => throttle.configure(t),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    certificate: cert,
    swapCertificate: ({ certPath, keyPath }) => {
      server.setSecureContext({ key: readFileSync(keyPath), cert: readFileSync(certPath) });
      server.closeAllConnections();
    },
    clearRequests() {
      log.length = 0;
      uploads.log.length = 0;
      throttle.reset();
    },
    sent: () => [...sent],
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

function replyAnswer(reply: Reply): Answer {
  if (reply.raw) return { status: reply.status, headers: { 'content-type': reply.raw.contentType, ...reply.headers }, body: reply.raw.body };
  if (reply.json === undefined) return { status: reply.status, headers: { ...reply.headers }, body: Buffer.alloc(0) };
  return jsonAnswer(reply.status, reply.json, reply.headers);
}

function errorAnswer(err: unknown): Answer {
  const error = err instanceof GraphError ? err : new GraphError(500, 'InternalServerError', `graph fake: ${err instanceof Error ? err.stack : String(err)}`);
  return jsonAnswer(error.status, error.body(), error.headers);
}

/** Exchange keeps Bcc in the sender's copy and takes it out of what recipients get. */
function withoutBcc(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text)?.index ?? text.length;
  const head = text.slice(0, end).replace(/^Bcc:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim, '');
  return Buffer.from(head + text.slice(end), 'latin1');
}
