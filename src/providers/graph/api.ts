/**
 * A thin client of Microsoft Graph's mail API (v1.0), typed with `@microsoft/microsoft-graph-types`.
 * Ours rather than `@microsoft/microsoft-graph-client`: that client mangles an absolute http delta
 * link and sends no token to a plain-http host (both break MAILOPS_GRAPH_URL), and everything it
 * would add (Retry-After) src/net already does for every backend. Every request goes through
 * src/net/http.ts (trace with the bearer masked, MAILOPS_DNS_SERVERS, deadlines) and three limits,
 * Outlook's documented ones per mailbox:
 *
 * - at most 4 requests in flight (MailboxConcurrency), the pacer's cap;
 * - 10,000 requests per 10 minutes, spent from a budget before each request (a `$batch` spends one
 *   per request inside it: Graph counts those one by one), so a long sync runs at the limit
 *   instead of into it (MAILOPS_GRAPH_RATE sets another, `REQUESTS[/SECONDSs]`);
 * - 429 and 503 waited out by Retry-After, else backoff with jitter, inside the deadline; past it,
 *   THROTTLED (exit 4). A `$batch` part answered 429 is asked again alone, after its Retry-After.
 *
 * Every request, and every request inside a `$batch`, carries `Prefer: IdType="ImmutableId"`: the
 * ids `ls` prints then survive moves, as the contract promises.
 *
 * Graph's errors become the contract's: a refused token is refreshed once then NEEDS_REAUTH (3),
 * ErrorAccessDenied or a missing scope INSUFFICIENT_SCOPE (3), ErrorItemNotFound the caller's
 * not-found error (5), throttling past the time allowed THROTTLED (4).
 */
import { MailopsError } from '../../domain/errors.js';
import type { ProviderRuntime } from '../../domain/provider.js';
import { sleep } from '../../net/abort.js';
import { request, requestWithBearer, type HttpContext, type HttpResponse } from '../../net/http.js';
import { Pacer, retryAfterMs } from '../../net/pacer.js';
import { UnitBudget, parseQuota, type QuotaSettings } from '../../net/quota.js';
import { serviceRoot } from '../../net/service-root.js';

export const GRAPH_ROOT = 'https://graph.microsoft.com';
/** Outlook's per-mailbox limits (Graph throttling guidance, 2026). */
export const MAILBOX_CONCURRENCY = 4;
export const GRAPH_DEFAULT_RATE: QuotaSettings = { units: 10_000, windowMs: 600_000 };
/** JSON batching takes 20 requests a batch. */
export const BATCH_LIMIT = 20;
/** The immutable-id preference, on every request. */
export const IMMUTABLE_ID = 'IdType="ImmutableId"';
/** A message's MIME can be large: more than http.ts's default body limit. */
const MAX_MIME_BYTES = 160 * 1024 * 1024;

/** Graph's JSON error envelope. */
interface GraphErrorBody {
  error?: { code?: string; message?: string; innerError?: { code?: string } };
}

export interface CallOptions {
  signal: AbortSignal;
  /** Epoch ms past which no wait or retry runs; null: only the signal bounds it (sync under --max-time). Default: --timeout from now. */
  deadline?: number | null;
  /** The error a 404 becomes. */
  notFound?: () => MailopsError;
}

export interface GraphRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Under /v1.0 (`/me/messages/ID`), or an absolute next or delta link Graph gave. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  /** A body that is not JSON (sendMail's base64 MIME), with its content type. */
  body?: { data: string | Buffer; contentType: string };
  /** More Prefer values (odata.maxpagesize=200). */
  prefer?: string[];
  /** What the request is, for errors and the request count ("messages.delta"). */
  what: string;
}

/** One part of a `$batch` answer. */
export interface BatchAnswer<T> {
  status: number;
  body: T | GraphErrorBody | null;
}

export interface GraphApiOptions {
  accessToken: (options?: { forceRefresh?: boolean }) => Promise<string>;
  runtime: ProviderRuntime;
  /** Which `connect` gives a missing scope, for the INSUFFICIENT_SCOPE hint. */
  accountName?: string;
}

export class GraphApi {
  /** https://graph.microsoft.com/v1.0, or MAILOPS_GRAPH_URL's root with /v1.0. */
  readonly base: string;
  readonly budget: UnitBudget;
  private readonly pacer: Pacer;
  /** Requests made, by what they were (a `$batch` part counts as its own): tests and the sync summary read them. */
  readonly calls = new Map<string, number>();

  constructor(private readonly options: GraphApiOptions) {
    const env = options.runtime.env ?? {};
    this.base = `${graphRoot(env)}/v1.0`;
    this.budget = new UnitBudget(graphRate(env));
    this.pacer = new Pacer({ concurrency: MAILBOX_CONCURRENCY, attempts: 8, maxDelayMs: 5 * 60_000, throttledCode: 'THROTTLED' });
  }

  /** Requests sent, `$batch` parts counted one by one. */
  get requestCount(): number {
    return this.budget.total;
  }

  async json<T>(req: GraphRequest, options: CallOptions): Promise<T> {
    const response = await this.send(req, options);
    return this.decode<T>(response, req.what, options);
  }

  /** The answer as it came, for a caller that reads a status itself (delta's 410). */
  async send(req: GraphRequest, options: CallOptions, maxBytes?: number): Promise<HttpResponse> {
    const deadline = this.deadlineOf(options);
    const spent = await this.budget.spend(1, { deadline: deadline ?? undefined, signal: options.signal });
    this.count(req.what, 1);
    try {
      const headers: Record<string, string> = { prefer: [IMMUTABLE_ID, ...(req.prefer ?? [])].join(', '), accept: 'application/json' };
      let body: string | Buffer | undefined;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] = 'application/json';
      } else if (req.body) {
        body = req.body.data;
        headers['content-type'] = req.body.contentType;
      }
      return await this.exchange({ url: this.url(req.path, req.query), method: req.method, body, headers, maxBytes }, deadline, options);
    } finally {
      spent.settled();
    }
  }

  /** A message's MIME (`/$value`), byte for byte. */
  async mime(id: string, options: CallOptions): Promise<Buffer> {
    const response = await this.send({ method: 'GET', path: `/me/messages/${encodeURIComponent(id)}/$value`, what: 'messages.value' }, options, MAX_MIME_BYTES);
    if (response.truncated) throw new MailopsError('FAILED', `message ${id} is larger than ${MAX_MIME_BYTES / 1024 / 1024} MiB; not read`);
    if (response.status >= 200 && response.status < 300) return response.body;
    throw graphError(response.status, response.body, 'messages.value', this.options.accountName, options.notFound);
  }

  /**
   * An attachment into an upload session, in chunks (`Content-Range`), without the bearer token:
   * the session's address is its own credential and may be on another host, so the token never
   * goes there. A chunk is sent once; a session that failed leaves a draft behind, not a message.
   */
  async upload(uploadUrl: string, content: Buffer, chunk: number, options: CallOptions): Promise<void> {
    const ctx: HttpContext = { timeoutMs: this.options.runtime.timeoutMs, signal: options.signal, trace: this.options.runtime.trace, resolveHost: this.options.runtime.resolveHost ?? null };
    for (let start = 0; start < content.length; start += chunk) {
      const piece = content.subarray(start, Math.min(start + chunk, content.length));
      const deadline = this.deadlineOf(options);
      const spent = await this.budget.spend(1, { deadline: deadline ?? undefined, signal: options.signal });
      this.count('attachments.upload', 1);
      let response: HttpResponse;
      try {
        response = await request(ctx, {
          url: uploadUrl,
          method: 'PUT',
          body: piece,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${start + piece.length - 1}/${content.length}` },
          deadline: deadline ?? undefined,
          followRedirects: false,
        });
      } finally {
        spent.settled();
      }
      if (response.status < 200 || response.status >= 300) throw graphError(response.status, response.body, 'attachments.upload', this.options.accountName);
    }
  }

  /**
   * Requests through `/$batch`, twenty at a time, answers in the order asked. A part answered 429
   * (or 503) is asked again in a later batch, after the longest Retry-After its batch gave.
   */
  async batch<T>(requests: GraphRequest[], options: CallOptions): Promise<Array<BatchAnswer<T>>> {
    const answers: Array<BatchAnswer<T> | undefined> = new Array(requests.length);
    let pending = requests.map((_, i) => i);
    for (let round = 1; pending.length > 0; round++) {
      const retry: number[] = [];
      let waitMs: number | null = null;
      for (let start = 0; start < pending.length; start += BATCH_LIMIT) {
        const chunk = pending.slice(start, start + BATCH_LIMIT);
        const parts = await this.batchOnce<T>(chunk.map((i) => requests[i]!), options);
        parts.forEach((part, k) => {
          const index = chunk[k]!;
          if (part.status === 429 || part.status === 503) {
            retry.push(index);
            waitMs = Math.max(waitMs ?? 0, part.retryAfterMs ?? 0);
          } else answers[index] = { status: part.status, body: part.body as T | GraphErrorBody | null };
        });
      }
      if (retry.length === 0) break;
      if (round >= 8) throw new MailopsError('THROTTLED', `Microsoft Graph kept throttling ${retry.length} requests of a batch`, { hint: 'try again later' });
      const wait = waitMs ?? Math.round(Math.random() * Math.min(60_000, 1000 * 2 ** round));
      const deadline = this.deadlineOf(options);
      if (deadline !== null && Date.now() + wait > deadline) {
        throw new MailopsError('THROTTLED', `Microsoft Graph asked to slow down for ${Math.ceil(wait / 1000)} s, past the time allowed`, {
          hint: 'try again later, or give the command more time (--timeout, or --max-time for sync)',
        });
      }
      this.options.runtime.trace?.('http', '*', `${retry.length} batch parts throttled: again in ${wait} ms`);
      await sleep(wait, options.signal);
      pending = retry;
    }
    return answers as Array<BatchAnswer<T>>;
  }

  /** A batch part that failed, as the contract's error (the part's own what). */
  partError(answer: BatchAnswer<unknown>, what: string, options: Pick<CallOptions, 'notFound'>): MailopsError {
    return graphError(answer.status, Buffer.from(JSON.stringify(answer.body ?? {})), what, this.options.accountName, options.notFound);
  }

  private async batchOnce<T>(requests: GraphRequest[], options: CallOptions): Promise<Array<{ status: number; body: unknown; retryAfterMs: number | null }>> {
    const deadline = this.deadlineOf(options);
    // Graph counts each request of a batch against the limits: so does the budget.
    const spent = await this.budget.spend(requests.length, { deadline: deadline ?? undefined, signal: options.signal });
    for (const r of requests) this.count(r.what, 1);
    this.count('batch', 0);
    try {
      const payload = {
        requests: requests.map((r, i) => {
          const headers: Record<string, string> = { prefer: [IMMUTABLE_ID, ...(r.prefer ?? [])].join(', ') };
          if (r.json !== undefined) headers['content-type'] = 'application/json';
          return { id: String(i), method: r.method, url: this.url(r.path, r.query).slice(this.base.length), headers, ...(r.json !== undefined ? { body: r.json } : {}) };
        }),
      };
      const response = await this.exchange(
        // A batch here only reads or makes changes that have the same effect twice: repeating it is safe.
        { url: `${this.base}/$batch`, method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json', accept: 'application/json' }, retryable: true },
        deadline,
        options,
      );
      const answer = this.decode<{ responses?: Array<{ id?: string; status?: number; headers?: Record<string, string>; body?: unknown }> }>(response, 'batch', options);
      const parts = new Array<{ status: number; body: unknown; retryAfterMs: number | null }>(requests.length);
      for (const r of answer.responses ?? []) {
        const index = Number(r.id);
        if (!Number.isInteger(index) || index < 0 || index >= requests.length) continue;
        const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
        parts[index] = { status: r.status ?? 0, body: r.body ?? null, retryAfterMs: retryAfterMs(headers['retry-after']) };
      }
      if (parts.some((p) => p === undefined) || parts.length !== requests.length) {
        throw new MailopsError('FAILED', `Microsoft Graph answered a batch of ${requests.length} with ${answer.responses?.length ?? 0} answers`, { hint: 'run again with --trace to see the answer' });
      }
      return parts;
    } finally {
      spent.settled();
    }
  }

  /** One request with the bearer, through the pacer; a refused token is refreshed once. */
  private async exchange(
    req: { url: string; method: string; body?: string | Buffer | undefined; headers: Record<string, string>; retryable?: boolean; maxBytes?: number | undefined },
    deadline: number | null,
    options: CallOptions,
  ): Promise<HttpResponse> {
    const ctx: HttpContext = {
      timeoutMs: this.options.runtime.timeoutMs,
      signal: options.signal,
      trace: this.options.runtime.trace,
      resolveHost: this.options.runtime.resolveHost ?? null,
      pacer: this.pacer,
    };
    // Graph's links are absolute and say where to go: nothing is followed.
    return requestWithBearer(ctx, { url: req.url, method: req.method, body: req.body, headers: req.headers, retryable: req.retryable, deadline: deadline ?? undefined, maxBytes: req.maxBytes }, this.options.accessToken);
  }

  private decode<T>(response: HttpResponse, what: string, options: CallOptions): T {
    if (response.truncated) {
      throw new MailopsError('FAILED', `Microsoft Graph answered ${what} with more than ${Math.round(response.body.length / 1024 / 1024)} MiB, too large to read`, {
        hint: 'run again with --trace to see the answer; check MAILOPS_GRAPH_URL',
      });
    }
    if (response.status >= 200 && response.status < 300) return parseJson<T>(response.body, what);
    throw graphError(response.status, response.body, what, this.options.accountName, options.notFound);
  }

  private deadlineOf(options: CallOptions): number | null {
    return options.deadline === undefined ? Date.now() + this.options.runtime.timeoutMs : options.deadline;
  }

  private count(what: string, n: number): void {
    this.calls.set(what, (this.calls.get(what) ?? 0) + n);
  }

  /**
   * A path under /v1.0, or an absolute link Graph gave (next and delta links), followed as given
   * but only on Graph's own host: the bearer token goes nowhere else.
   */
  url(path: string, query?: GraphRequest['query']): string {
    let url: URL;
    if (/^https?:\/\//i.test(path)) {
      url = new URL(path);
      const base = new URL(this.base);
      if (url.origin !== base.origin) {
        throw new MailopsError('FAILED', `Microsoft Graph gave a link to another host (${url.host}); not followed with the account's token`, {
          hint: 'check MAILOPS_GRAPH_URL; run again with --trace to see the answer',
        });
      }
    } else url = new URL(this.base + path);
    // Spaces as %20, not URLSearchParams' `+`: OData reads `$filter` values as percent-encoded.
    const added = Object.entries(query ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
    if (added.length === 0) return url.href;
    return `${url.href}${url.search ? '&' : '?'}${added.join('&')}`;
  }
}

/** MAILOPS_GRAPH_URL: a service root like https://graph.microsoft.com (/v1.0 is appended). */
export function graphRoot(env: NodeJS.ProcessEnv): string {
  return serviceRoot(env.MAILOPS_GRAPH_URL, 'MAILOPS_GRAPH_URL', GRAPH_ROOT);
}

export function graphRate(env: NodeJS.ProcessEnv): QuotaSettings {
  return parseQuota(env.MAILOPS_GRAPH_RATE, 'MAILOPS_GRAPH_RATE') ?? GRAPH_DEFAULT_RATE;
}

function errorOf(body: Buffer | string): GraphErrorBody | null {
  try {
    const parsed = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as GraphErrorBody) : null;
  } catch {
    return null;
  }
}

/** Graph's error code (`ErrorItemNotFound`, `syncStateNotFound`), or ''. */
export function graphErrorCode(body: Buffer | string): string {
  const error = errorOf(body);
  return error?.error?.code ?? '';
}

function parseJson<T>(body: Buffer, what: string): T {
  if (body.length === 0) return {} as T;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new MailopsError('FAILED', `Microsoft Graph answered ${what} with something that is not JSON (${body.length} bytes)`, {
      hint: 'run again with --trace to see the answer; check MAILOPS_GRAPH_URL',
    });
  }
}

const SCOPE_CODES = new Set(['ErrorAccessDenied', 'AccessDenied', 'Authorization_RequestDenied', 'ErrorInsufficientPermissionsInAccessToken']);
const NOT_FOUND_CODES = new Set(['ErrorItemNotFound', 'ResourceNotFound', 'ErrorInvalidMailboxItemId']);

/** Graph's error as the contract's. */
export function graphError(status: number, body: Buffer, what: string, account?: string, notFound?: () => MailopsError): MailopsError {
  const error = errorOf(body);
  const code = error?.error?.code ?? '';
  const said = `${code ? `${code}: ` : ''}${(error?.error?.message ?? '').slice(0, 300)}`.trim() || `HTTP ${status}`;
  const name = account ?? 'NAME';
  if (status === 401) return new MailopsError('NEEDS_REAUTH', `Microsoft refused the account's token (${said})`, { hint: `run mailops connect ${name} again` });
  if (status === 403 && SCOPE_CODES.has(code)) {
    return new MailopsError('INSUFFICIENT_SCOPE', `the account's grant does not allow ${what} (${said})`, { hint: `run mailops connect ${name} --backend api (without --read-only)` });
  }
  if (status === 429 || status === 503) return new MailopsError('THROTTLED', `Microsoft Graph is throttling the mailbox (${said})`, { hint: 'try again later' });
  if (status === 404 || NOT_FOUND_CODES.has(code)) return notFound?.() ?? new MailopsError('NOT_FOUND', `Microsoft Graph found nothing for ${what} (${said})`);
  if (status === 413) return new MailopsError('SEND_FAILED', `Microsoft Graph refused ${what} as too large (${said})`);
  if (status === 403) return new MailopsError('AUTH_FAILED', `Microsoft refused ${what}: ${said}`, { hint: 'check that the tenant allows the app Mail access' });
  return new MailopsError('FAILED', `Microsoft Graph answered ${what} with ${status}: ${said}`, { hint: 'run again with --trace to see the conversation' });
}
