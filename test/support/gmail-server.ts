// A local Gmail API for the tests (Google cannot be reached from here): the real paths under one
// service root (`/gmail/v1/...`, `/upload/gmail/v1/...`, `/batch/gmail/v1`) over https with a
// certificate from the suite's CA, bearer tokens with scopes checked per method, Google's quota
// units spent per user per minute, history with an expiry, a request log and error injection.
// Its parts live in ./gmail/: mailbox.ts (state and history), api.ts (methods and shapes, typed
// with gmail_v1.Schema$*), policy.ts (scopes, units, the quota meter), batch.ts, query.ts, mime.ts.
//
//   const gmail = await startGmailServer({ ca });
//   gmail.addUser('ann@example.com');
//   const token = gmail.token('ann@example.com', [SCOPES.modify]);
//   gmail.addMessage('ann@example.com', raw, { labelIds: ['INBOX', 'UNREAD'], internalDate: new Date(...) });
//   runCli([...], { env: { ...gmail.env(), ... } });  expect(gmail.requests({ api: 'history.list' })).toHaveLength(1);
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeServerCert, type CertAuthority } from './certs.js';
import { HOST } from './net.js';
import { match, routes, type ApiLimits } from './gmail/api.js';
import { parseBatch, renderBatch, type InnerResponse } from './gmail/batch.js';
import { GoogleError, badRequest, insufficientScopes, invalidCredentials, notFound } from './gmail/errors.js';
import { Mailbox, type StoredMessage } from './gmail/mailbox.js';
import { METHOD_SCOPES, QuotaMeter, SCOPES, type ApiMethod, type QuotaOptions } from './gmail/policy.js';

export { SCOPES, type ApiMethod } from './gmail/policy.js';
export type { Mailbox, StoredMessage } from './gmail/mailbox.js';

export interface GmailServerOptions {
  ca: CertAuthority;
  /** Default: Google's current table, 6,000 units a minute per user, messages.get 20. */
  quota?: QuotaOptions;
  /** History records kept per mailbox before the oldest are forgotten (default: all). */
  historyLimit?: number;
  /**
   * RFC 7662 introspection endpoint (the suite's OAuth server: `oauth.introspectionUrl`). Bearer
   * tokens not made with `token()` are checked there, so tokens from a real connect flow work.
   */
  introspectionUrl?: string;
  /** Google's limit is 100 calls a batch. */
  maxBatchParts?: number;
  /** Added to every top-level request and batch (not per part), for a benchmark that should feel the network. */
  latencyMs?: number;
  /**
   * Top-level requests a user may have in flight (default: no limit); past it, 429 "Too many
   * concurrent requests for user." as Google answers. Only meaningful with latencyMs or a delay.
   */
  maxConcurrentPerUser?: number;
  limits?: Partial<ApiLimits>;
}

export interface RequestRecord {
  at: number;
  /** HTTP method and path (no query) as sent; for a batch part, the inner request's. */
  method: string;
  path: string;
  query: string;
  /** The API method served, 'batch' for the envelope, null for an unknown path. */
  api: ApiMethod | 'batch' | null;
  user: string | null;
  status: number;
  units: number;
  inBatch: boolean;
  /** Set when an injected failure answered. */
  injected: boolean;
}

export interface Injection {
  /** Path (exact, without query) or pattern it must match; batch parts are matched too. */
  path: string | RegExp;
  method?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
  status?: number;
  /** JSON body (a Buffer: sent as it is); default Google's envelope for the status. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (or dropping); with no status, the request is then served normally. */
  delayMs?: number;
  /**
   * Close the connection without an answer (a batch part drops its whole batch): `true` or
   * 'before' without serving the call, 'after' once it has been served, as when a send went out
   * and its answer was lost: the case a client must never retry blindly.
   */
  drop?: boolean | 'before' | 'after';
}

export interface SeedOptions {
  labelIds?: string[];
  internalDate?: Date | number;
  threadId?: string;
}

export interface SentRecord {
  from: string;
  id: string;
  raw: Buffer;
  recipients: string[];
}

export interface GmailServer {
  /** https://127.0.0.1:PORT, the service root (as MAILOPS_GMAIL_API_URL wants it). */
  url: string;
  caFile: string;
  /** MAILOPS_GMAIL_API_URL and NODE_EXTRA_CA_CERTS for a CLI run. */
  env(): Record<string, string>;
  /** A mailbox; historyLimit overrides the server's for this user. */
  addUser(email: string, opts?: { startHistoryId?: bigint; historyLimit?: number }): Mailbox;
  /** A bearer token for the user with these scopes (default gmail.modify). */
  token(email: string, scopes?: string[]): string;
  revokeToken(token: string): void;
  /** Seeds a message without going through the API: no units spent, no request logged (history is recorded). */
  addMessage(email: string, raw: string | Buffer, opts?: SeedOptions): StoredMessage;
  /** A user label by name (nested with '/'); returns its id. */
  addLabel(email: string, name: string): string;
  /** The mailbox itself, for inspection: labels, messages (raw bytes, labelIds), historyId. */
  mailbox(email: string): Mailbox;
  /** Forgets the user's history so far: an older startHistoryId now answers 404. */
  expireHistory(email: string): void;
  inject(injection: Injection): void;
  requests(filter?: Partial<Pick<RequestRecord, 'api' | 'user' | 'status' | 'inBatch' | 'method'>>): RequestRecord[];
  /** Units spent per user since the start or the last clearRequests(). */
  unitsSpent(email: string): number;
  clearRequests(): void;
  setQuota(quota: QuotaOptions): void;
  /** Every message sent through messages.send, in order. */
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

type Answer = InnerResponse | { drop: true };

interface TokenGrant {
  email: string;
  scopes: string[];
  revoked: boolean;
}

export async function startGmailServer(opts: GmailServerOptions): Promise<GmailServer> {
  const mailboxes = new Map<string, Mailbox>();
  const tokens = new Map<string, TokenGrant>();
  const quota = new QuotaMeter(opts.quota);
  const log: RequestRecord[] = [];
  const injections: (Injection & { left: number })[] = [];
  const sent: SentRecord[] = [];
  const inFlightOf = new Map<string, number>();
  const limits: ApiLimits = { jsonBytes: 5 * 1024 * 1024, uploadBytes: 35 * 1024 * 1024, ...opts.limits };
  const api = routes(limits, deliver);

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

  function mailboxOf(email: string): Mailbox {
    const box = mailboxes.get(email.toLowerCase());
    if (!box) throw new Error(`gmail fake: no user ${email} (addUser first)`);
    return box;
  }

  /** Messages sent to addresses this server hosts arrive in their INBOX, as Gmail delivers internally. */
  function deliver(from: Mailbox, message: StoredMessage): void {
    const recipients = Mailbox.recipients(message);
    sent.push({ from: from.email, id: message.id, raw: message.raw, recipients });
    for (const address of new Set(recipients)) {
      const box = mailboxes.get(address);
      if (box === from) box.modify(message.id, ['INBOX', 'UNREAD'], []);
      else if (box) box.add(withoutBcc(message.raw), { labelIds: ['INBOX', 'UNREAD'] });
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const call: Call = { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks), inBatch: false };
    const answer = new URL(call.target, url).pathname === '/batch/gmail/v1' ? await batch(call) : await handle(call);
    if ('drop' in answer) {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) }).end(answer.body);
  }

  /** The batch envelope: its own log record and injections, then each part as a call of its own. */
  async function batch(call: Call): Promise<Answer> {
    const record = newRecord(call, new URL(call.target, url));
    record.api = 'batch';
    return withInjection(call, record, async () => {
      let parts;
      try {
        if (call.method !== 'POST') throw notFound();
        parts = parseBatch(call.body, call.headers['content-type']);
        if (parts.length === 0) throw badRequest('A batch request must contain at least one part');
        if (parts.length > (opts.maxBatchParts ?? 100)) throw badRequest(`Too many requests in batch: ${parts.length} (at most ${opts.maxBatchParts ?? 100})`);
      } catch (err) {
        const answer = errorAnswer(err);
        record.status = answer.status;
        return answer;
      }
      record.status = 200;
      if (opts.latencyMs) await sleep(opts.latencyMs);
      const answers: { contentId: string | null; response: InnerResponse }[] = [];
      for (const part of parts) {
        // The envelope's headers (Authorization above all) apply to every part unless the part sets its own.
        const headers = { authorization: call.headers.authorization, ...part.headers };
        const answer = await handle({ method: part.method, target: part.target, headers, body: part.body, inBatch: true });
        if ('drop' in answer) return answer;
        answers.push({ contentId: part.contentId, response: answer });
      }
      const { contentType, body } = renderBatch(answers);
      return { status: 200, headers: { 'content-type': contentType }, body };
    });
  }

  /** One API call, top-level or a batch part: injection, routing, auth, scope, quota, then the method. */
  async function handle(call: Call): Promise<Answer> {
    const target = new URL(call.target, url);
    const record = newRecord(call, target);
    const found = match(api, call.method, target.pathname);
    if (found) record.api = found.route.api;
    return withInjection(call, record, () => serveCall(call, target, found, record));
  }

  function newRecord(call: Call, target: URL): RequestRecord {
    const record: RequestRecord = {
      at: Date.now(), method: call.method, path: target.pathname, query: target.search, api: null,
      user: null, status: 0, units: 0, inBatch: call.inBatch, injected: false,
    };
    log.push(record);
    return record;
  }

  /** The first armed injection matching the call answers (or delays, or drops) instead of `serveIt`. */
  async function withInjection(call: Call, record: RequestRecord, serveIt: () => Promise<Answer>): Promise<Answer> {
    const injection = injections.find((i) => i.left > 0 && (!i.method || i.method === call.method) && (typeof i.path === 'string' ? i.path === record.path : i.path.test(record.path)));
    if (!injection) return serveIt();
    injection.left--;
    if (injection.delayMs) await sleep(injection.delayMs);
    if (injection.drop === 'after') await serveIt();
    if (injection.drop) {
      record.injected = true;
      return { drop: true };
    }
    if (!injection.status) return serveIt();
    record.injected = true;
    record.status = injection.status;
    const body = injection.body ?? new GoogleError(injection.status, 'Injected failure', injection.status >= 500 ? 'backendError' : 'failed').body();
    return { status: injection.status, headers: { 'content-type': 'application/json; charset=UTF-8', ...injection.headers }, body: Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body)) };
  }

  async function serveCall(call: Call, target: URL, found: ReturnType<typeof match>, record: RequestRecord): Promise<InnerResponse> {
    try {
      if (!found) throw notFound();
      const grant = await authenticate(call.headers.authorization);
      const userId = found.userId;
      if (userId !== 'me' && userId.toLowerCase() !== grant.email) throw new GoogleError(403, `Delegation denied for ${grant.email}`, 'forbidden');
      const mailbox = mailboxes.get(grant.email);
      // What Google answers for an account without Gmail.
      if (!mailbox) throw new GoogleError(400, 'Mail service not enabled', 'failedPrecondition', { status: 'FAILED_PRECONDITION' });
      record.user = grant.email;
      const accepted = METHOD_SCOPES[found.route.api];
      if (!grant.scopes.some((s) => accepted.includes(s))) throw insufficientScopes(accepted);
      const inFlight = inFlightOf.get(grant.email) ?? 0;
      if (!call.inBatch && inFlight >= (opts.maxConcurrentPerUser ?? Infinity)) {
        throw new GoogleError(429, 'Too many concurrent requests for user.', 'rateLimitExceeded');
      }
      record.units = quota.charge(grant.email, found.route.api);
      if (!call.inBatch && opts.latencyMs) {
        inFlightOf.set(grant.email, inFlight + 1);
        await sleep(opts.latencyMs).finally(() => inFlightOf.set(grant.email, (inFlightOf.get(grant.email) ?? 1) - 1));
      }
      const reply = found.route.handle({ method: call.method, url: target, headers: call.headers, body: call.body, mailbox, scopes: grant.scopes }, found.params);
      record.status = reply.status;
      return reply.json === null
        ? { status: reply.status, headers: {}, body: Buffer.alloc(0) }
        : { status: reply.status, headers: { 'content-type': 'application/json; charset=UTF-8' }, body: Buffer.from(JSON.stringify(reply.json)) };
    } catch (err) {
      const answer = errorAnswer(err);
      record.status = answer.status;
      return answer;
    }
  }

  async function authenticate(header: string | undefined): Promise<TokenGrant> {
    const bearer = /^Bearer (\S+)$/i.exec(header ?? '')?.[1];
    if (!bearer) throw invalidCredentials();
    const known = tokens.get(bearer);
    if (known) {
      if (known.revoked) throw invalidCredentials();
      return known;
    }
    if (opts.introspectionUrl) {
      const answer = await fetch(opts.introspectionUrl, { method: 'POST', body: new URLSearchParams({ token: bearer }) });
      const info = (await answer.json()) as { active?: boolean; username?: string; scope?: string };
      if (info.active && info.username) return { email: info.username.toLowerCase(), scopes: (info.scope ?? '').split(/\s+/).filter(Boolean), revoked: false };
    }
    throw invalidCredentials();
  }

  return {
    url,
    caFile: opts.ca.certPath,
    env: () => ({ MAILOPS_GMAIL_API_URL: url, NODE_EXTRA_CA_CERTS: opts.ca.certPath }),
    addUser(email, userOpts = {}) {
      const box = new Mailbox(email.toLowerCase(), userOpts.historyLimit ?? opts.historyLimit, userOpts.startHistoryId);
      mailboxes.set(box.email, box);
      return box;
    },
    token(email, scopes = [SCOPES.modify]) {
      const value = `ya29.fake-${randomBytes(18).toString('base64url')}`;
      tokens.set(value, { email: email.toLowerCase(), scopes, revoked: false });
      return value;
    },
    revokeToken(value) {
      const grant = tokens.get(value);
      if (grant) grant.revoked = true;
    },
    addMessage(email, raw, seed = {}) {
      const internalDate = seed.internalDate instanceof Date ? seed.internalDate.getTime() : seed.internalDate;
      return mailboxOf(email).add(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), { labelIds: seed.labelIds, internalDate, threadId: seed.threadId });
    },
    addLabel: (email, name) => mailboxOf(email).createLabel({ name }).id!,
    mailbox: mailboxOf,
    expireHistory: (email) => mailboxOf(email).expireHistory(),
    inject: (injection) => void injections.push({ ...injection, left: injection.times ?? 1 }),
    requests: (filter = {}) => log.filter((r) => Object.entries(filter).every(([k, v]) => r[k as keyof RequestRecord] === v)),
    unitsSpent: (email) => quota.total(email.toLowerCase()),
    clearRequests() {
      log.length = 0;
      quota.reset();
    },
    setQuota: (q) => quota.configure(q),
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

function errorAnswer(err: unknown): InnerResponse {
  const error = err instanceof GoogleError ? err : new GoogleError(500, `gmail fake: ${String(err)}`, 'backendError');
  return {
    status: error.code,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...error.extra.headers },
    body: Buffer.from(JSON.stringify(error.body())),
  };
}

/** Gmail keeps Bcc in the sender's copy and takes it out of what recipients get. */
function withoutBcc(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text)?.index ?? text.length;
  const head = text.slice(0, end).replace(/^Bcc:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim, '');
  return Buffer.from(head + text.slice(end), 'latin1');
}
