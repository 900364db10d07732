/**
 * A thin client of the Gmail REST API, typed with the schemas of `@googleapis/gmail` (types only:
 * its client has no batch support, ignores the root URL for uploads and does not honour
 * Retry-After, and adds ~100 ms to an import). Every request goes through src/net/http.ts (trace
 * with the bearer masked, MAILOPS_DNS_SERVERS, deadlines) and two limits:
 *
 * - the per-user quota (UnitBudget): each method's units are spent before the call, so a long
 *   sync runs at the quota instead of into it (MAILOPS_GMAIL_QUOTA sets a project's own);
 * - the pacer: 429 and 403 rateLimitExceeded/userRateLimitExceeded waited out as the answer asks
 *   (Retry-After, or "Retry after <time>" in the message), else backoff with jitter, inside the
 *   deadline; past it, THROTTLED (exit 4).
 *
 * Google's JSON errors become the contract's: a refused token is refreshed once then NEEDS_REAUTH
 * (3), a missing scope INSUFFICIENT_SCOPE (3), 404 the caller's not-found error (5).
 */
import type { gmail_v1 } from '@googleapis/gmail';
import { MailopsError } from '../../domain/errors.js';
import type { ProviderRuntime } from '../../domain/provider.js';
import { requestWithBearer, type HttpContext, type HttpResponse } from '../../net/http.js';
import { sleep } from '../../net/abort.js';
import { serviceRoot } from '../../net/service-root.js';
import { Pacer } from '../../net/pacer.js';
import { GMAIL_DEFAULT_QUOTA, UnitBudget, parseQuota, type QuotaSettings } from '../../net/quota.js';

export type { gmail_v1 };

export const GMAIL_API_ROOT = 'https://gmail.googleapis.com';

/** Units per call: Google's usage-limits table for new projects (2026). */
export const UNITS = {
  'users.getProfile': 1,
  'labels.list': 1,
  'labels.get': 1,
  'messages.list': 5,
  'messages.get': 20,
  'messages.modify': 5,
  'messages.batchModify': 50,
  'messages.trash': 5,
  'messages.delete': 10,
  'messages.batchDelete': 50,
  'messages.send': 100,
  'history.list': 2,
} as const;
export type GmailMethod = keyof typeof UNITS;

/** Google's batch endpoint takes 100 calls; Gmail's guide asks for at most 50 (larger batches are rate limited). */
export const BATCH_LIMIT = 50;
/** messages.send takes 5 MB in its body; the upload endpoint 35 MB. */
export const SIMPLE_SEND_LIMIT = 5 * 1024 * 1024;
export const UPLOAD_SEND_LIMIT = 35 * 1024 * 1024;

/** Google's JSON error envelope (the schema package has no type for it). */
interface GoogleErrorBody {
  error?: { code?: number; message?: string; status?: string; errors?: Array<{ reason?: string; message?: string }> };
}

export interface CallOptions {
  signal: AbortSignal;
  /** Epoch ms past which no quota wait or retry runs; null: only the signal bounds it (sync under --max-time). Default: --timeout from now. */
  deadline?: number | null;
  /** The error a 404 becomes. */
  notFound?: () => MailopsError;
}

export interface ApiCall {
  method: GmailMethod;
  http: 'GET' | 'POST' | 'DELETE';
  /** Under /gmail/v1/users/me, e.g. `/messages/ID`. */
  path: string;
  query?: Record<string, string | number | boolean | string[] | undefined>;
  json?: unknown;
}

/** One part of a batch's answer: the body, or null when the message is not there (404). */
export type BatchResult<T> = { ok: true; value: T } | { ok: false; status: number };

export interface GmailApiOptions {
  accessToken: (options?: { forceRefresh?: boolean }) => Promise<string>;
  runtime: ProviderRuntime;
  /** Which `connect` gives a missing scope, for the INSUFFICIENT_SCOPE hint. */
  accountName?: string;
}

export class GmailApi {
  readonly root: string;
  readonly budget: UnitBudget;
  private readonly pacer: Pacer;
  /** Requests made, by method: tests and the sync summary read them. */
  readonly calls = new Map<string, number>();

  constructor(private readonly options: GmailApiOptions) {
    const env = options.runtime.env ?? {};
    this.root = apiRoot(env.MAILOPS_GMAIL_API_URL);
    this.budget = new UnitBudget(gmailQuota(env));
    // Four in flight: Google counts concurrent requests per user too, and batches carry 50 each.
    this.pacer = new Pacer({ concurrency: 4, attempts: 8, maxDelayMs: 5 * 60_000, throttledCode: 'THROTTLED' });
  }

  get unitsSpent(): number {
    return this.budget.total;
  }

  async call<T>(call: ApiCall, options: CallOptions): Promise<T> {
    const url = this.url(`/gmail/v1/users/me${call.path}`, call.query);
    const body = call.json === undefined ? undefined : JSON.stringify(call.json);
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const response = await this.exchange(call.method, { url, method: call.http, body, headers }, options);
    return this.decode<T>(response, call.method, options);
  }

  // Typed shorthands for the calls every user of the client makes (sync, status, the provider).

  getProfile(options: CallOptions): Promise<gmail_v1.Schema$Profile> {
    return this.call({ method: 'users.getProfile', http: 'GET', path: '/profile' }, options);
  }

  listLabels(options: CallOptions): Promise<gmail_v1.Schema$ListLabelsResponse> {
    return this.call({ method: 'labels.list', http: 'GET', path: '/labels' }, options);
  }

  getLabel(id: string, options: CallOptions): Promise<gmail_v1.Schema$Label> {
    return this.call({ method: 'labels.get', http: 'GET', path: `/labels/${encodeURIComponent(id)}` }, options);
  }

  listMessages(
    query: { labelIds?: string[]; q?: string; maxResults?: number; pageToken?: string; includeSpamTrash?: boolean },
    options: CallOptions,
  ): Promise<gmail_v1.Schema$ListMessagesResponse> {
    return this.call({ method: 'messages.list', http: 'GET', path: '/messages', query: { ...query, q: query.q || undefined } }, options);
  }

  getMessage(id: string, format: 'raw' | 'metadata' | 'minimal' | 'full', options: CallOptions, metadataHeaders?: string[]): Promise<gmail_v1.Schema$Message> {
    return this.call({ method: 'messages.get', http: 'GET', path: `/messages/${encodeURIComponent(id)}`, query: { format, metadataHeaders } }, options);
  }

  /**
   * users.history.list from `startHistoryId`, every page (500 records each) until Gmail has no
   * nextPageToken. A startHistoryId Gmail no longer has is a 404: `options.notFound` says what
   * it becomes (sync: start over).
   */
  async listHistory(
    startHistoryId: string,
    query: { historyTypes?: Array<'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved'>; labelId?: string },
    options: CallOptions,
  ): Promise<{ history: gmail_v1.Schema$History[]; historyId: string | null }> {
    const history: gmail_v1.Schema$History[] = [];
    let historyId: string | null = null;
    let pageToken: string | undefined;
    do {
      const page: gmail_v1.Schema$ListHistoryResponse = await this.call(
        { method: 'history.list', http: 'GET', path: '/history', query: { startHistoryId, maxResults: 500, pageToken, historyTypes: query.historyTypes, labelId: query.labelId } },
        options,
      );
      history.push(...(page.history ?? []));
      historyId = page.historyId ?? historyId;
      pageToken = page.nextPageToken ?? undefined;
    } while (pageToken);
    return { history, historyId };
  }

  /**
   * Calls in batches of 50 over /batch/gmail/v1, each charged its method's units; a part turned
   * away for the quota is asked again in a later batch, alone among the rest.
   */
  async batch<T>(calls: ApiCall[], options: CallOptions): Promise<Array<BatchResult<T>>> {
    const results: Array<BatchResult<T> | undefined> = new Array(calls.length);
    let pending = calls.map((_, index) => index);
    let round = 0;
    while (pending.length > 0) {
      const retry: number[] = [];
      let waitMs: number | null = null;
      for (let start = 0; start < pending.length; ) {
        // As many calls (at most 50) as the quota has room for now: spent here, not by batchOnce.
        const next = pending.slice(start, start + BATCH_LIMIT);
        const deadline = this.deadlineOf(options);
        const spent = await this.budget.spendSome(next.map((i) => UNITS[calls[i]!.method]), { deadline: deadline ?? undefined, signal: options.signal });
        const chunk = next.slice(0, spent.count);
        start += spent.count;
        const answers = await this.batchOnce(chunk.map((i) => calls[i]!), options).finally(spent.settled);
        answers.forEach((answer, k) => {
          const index = chunk[k]!;
          const throttle = answer.status === 429 || answer.status === 403 ? rateLimitWait(answer.status, answer.headers, answer.body) : undefined;
          if (throttle !== undefined) {
            retry.push(index);
            waitMs = Math.max(waitMs ?? 0, throttle ?? 0);
          } else if (answer.status >= 200 && answer.status < 300) {
            results[index] = { ok: true, value: parseJson<T>(answer.body, calls[index]!.method) };
          } else if (answer.status === 404) {
            results[index] = { ok: false, status: 404 };
          } else {
            throw apiError(answer.status, answer.body, calls[index]!.method, this.options.accountName, options.notFound);
          }
        });
      }
      if (retry.length === 0) break;
      round++;
      if (round >= 8) throw new MailopsError('THROTTLED', `the Gmail API kept refusing ${retry.length} requests for its quota`, { hint: 'try again later' });
      // The server's wait, else a backoff with jitter; bounded by the deadline like any other wait.
      const wait = waitMs ?? Math.round(Math.random() * Math.min(60_000, 1000 * 2 ** round));
      const deadline = this.deadlineOf(options);
      if (deadline !== null && Date.now() + wait > deadline) {
        throw new MailopsError('THROTTLED', `the Gmail API asked to slow down for ${Math.ceil(wait / 1000)} s, past the time allowed`, {
          hint: 'try again later, or give the command more time (--timeout, or --max-time for sync)',
        });
      }
      this.options.runtime.trace?.('http', '*', `${retry.length} batch parts throttled: again in ${wait} ms`);
      await sleep(wait, options.signal);
      pending = retry;
    }
    return results as Array<BatchResult<T>>;
  }

  /**
   * messages.send: JSON with the raw message up to 5 MB, else the upload endpoint (multipart:
   * the thread id rides in the metadata part). Never retried: a send that timed out may have
   * gone out.
   */
  async send(raw: Buffer, threadId: string | null, options: CallOptions): Promise<gmail_v1.Schema$Message> {
    if (raw.length > UPLOAD_SEND_LIMIT) {
      throw new MailopsError('SEND_FAILED', `the message is ${mib(raw.length)}; Gmail takes at most ${mib(UPLOAD_SEND_LIMIT)}`, { hint: 'send large files as links' });
    }
    const meta: gmail_v1.Schema$Message = threadId ? { threadId } : {};
    let response: HttpResponse;
    if (raw.length <= SIMPLE_SEND_LIMIT) {
      const body = JSON.stringify({ ...meta, raw: raw.toString('base64url') });
      response = await this.send1('messages.send', this.url('/gmail/v1/users/me/messages/send'), body, 'application/json', options);
    } else {
      const boundary = `mailops_${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify(meta)}\r\n--${boundary}\r\nContent-Type: message/rfc822\r\n\r\n`),
        raw,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      response = await this.send1('messages.send', this.url('/upload/gmail/v1/users/me/messages/send', { uploadType: 'multipart' }), body, `multipart/related; boundary=${boundary}`, options);
    }
    return this.decode<gmail_v1.Schema$Message>(response, 'messages.send', options);
  }

  private send1(method: GmailMethod, url: string, body: string | Buffer, contentType: string, options: CallOptions): Promise<HttpResponse> {
    return this.exchange(method, { url, method: 'POST', body, headers: { 'content-type': contentType }, retryable: false }, options);
  }

  private async batchOnce(calls: ApiCall[], options: CallOptions): Promise<InnerAnswer[]> {
    const boundary = `batch_mailops_${Math.random().toString(36).slice(2)}`;
    const parts = calls.map((call, i) => {
      const target = this.url(`/gmail/v1/users/me${call.path}`, call.query).slice(this.root.length);
      const json = call.json === undefined ? '' : JSON.stringify(call.json);
      const head = json ? `${call.http} ${target} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n${json}` : `${call.http} ${target} HTTP/1.1\r\n\r\n`;
      return `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <${i}>\r\n\r\n${head}\r\n`;
    });
    const body = `${parts.join('')}--${boundary}--\r\n`;
    // The parts' units were spent by batch(); the envelope itself costs none.
    const response = await this.exchange(
      'batch',
      // Repeating a batch is safe here: it only reads, or makes changes that have the same effect twice.
      { url: this.url('/batch/gmail/v1'), method: 'POST', body, headers: { 'content-type': `multipart/mixed; boundary=${boundary}` }, retryable: true },
      options,
    );
    tooLarge(response, 'batch');
    if (response.status < 200 || response.status >= 300) throw apiError(response.status, response.body, 'batch', this.options.accountName, options.notFound);
    const answers = parseBatchAnswer(response);
    if (answers.length !== calls.length) {
      throw new MailopsError('FAILED', `the Gmail API answered a batch of ${calls.length} with ${answers.length} parts`, { hint: 'run again with --trace to see the answer' });
    }
    return answers;
  }

  /** One request with the bearer: quota first, a refused token refreshed once. */
  private async exchange(
    method: GmailMethod | 'batch',
    req: { url: string; method: string; body?: string | Buffer | undefined; headers: Record<string, string>; retryable?: boolean },
    options: CallOptions,
    units = method === 'batch' ? 0 : UNITS[method],
  ): Promise<HttpResponse> {
    const deadline = this.deadlineOf(options);
    const spent = await this.budget.spend(units, { deadline: deadline ?? undefined, signal: options.signal });
    try {
      return await this.exchangeSpent(method, req, options, deadline);
    } finally {
      spent.settled();
    }
  }

  private async exchangeSpent(
    method: GmailMethod | 'batch',
    req: { url: string; method: string; body?: string | Buffer | undefined; headers: Record<string, string>; retryable?: boolean },
    options: CallOptions,
    deadline: number | null,
  ): Promise<HttpResponse> {
    this.calls.set(method, (this.calls.get(method) ?? 0) + 1);
    const ctx: HttpContext = {
      timeoutMs: this.options.runtime.timeoutMs,
      signal: options.signal,
      trace: this.options.runtime.trace,
      resolveHost: this.options.runtime.resolveHost ?? null,
      pacer: this.pacer,
    };
    return requestWithBearer(
      ctx,
      {
        url: req.url,
        method: req.method,
        body: req.body,
        headers: req.headers,
        retryable: req.retryable,
        deadline: deadline ?? undefined,
        throttled: (answer) => {
          const wait = rateLimitWait(answer.status, answer.headers, answer.body);
          return wait === undefined ? null : { retryAfterMs: wait };
        },
      },
      this.options.accessToken,
    );
  }

  private decode<T>(response: HttpResponse, method: string, options: CallOptions): T {
    tooLarge(response, method);
    if (response.status >= 200 && response.status < 300) return parseJson<T>(response.body, method);
    throw apiError(response.status, response.body, method, this.options.accountName, options.notFound);
  }

  private deadlineOf(options: CallOptions): number | null {
    return options.deadline === undefined ? Date.now() + this.options.runtime.timeoutMs : options.deadline;
  }

  private url(path: string, query?: ApiCall['query']): string {
    const url = new URL(this.root + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
    }
    return url.href;
  }
}

/** An answer cut at http.ts's size limit: said as such, not as the JSON it no longer is. */
function tooLarge(response: HttpResponse, method: string): void {
  if (!response.truncated) return;
  throw new MailopsError('FAILED', `the Gmail API answered ${method} with more than ${mib(response.body.length)}, too large to read`, {
    hint: 'run again with --trace to see the answer; check MAILOPS_GMAIL_API_URL',
  });
}

/** MAILOPS_GMAIL_API_URL: a service root, scheme and host like https://gmail.googleapis.com. */
export function apiRoot(value: string | undefined): string {
  return serviceRoot(value, 'MAILOPS_GMAIL_API_URL', GMAIL_API_ROOT);
}

export function gmailQuota(env: NodeJS.ProcessEnv): QuotaSettings {
  return parseQuota(env.MAILOPS_GMAIL_QUOTA, 'MAILOPS_GMAIL_QUOTA') ?? GMAIL_DEFAULT_QUOTA;
}

/**
 * Whether an answer is Gmail saying "slow down": undefined when not; else the wait it asks
 * for in ms (Retry-After, or the time in "Retry after 2026-12-03T10:00:00.000Z"), null for none.
 */
export function rateLimitWait(status: number, headers: Record<string, string>, body: Buffer): number | null | undefined {
  if (status !== 429 && status !== 403 && status !== 503) return undefined;
  const error = errorOf(body);
  if (status === 403 && !RATE_REASONS.has(reasonOf(error))) return undefined;
  const header = headers['retry-after'];
  if (header) {
    if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  const said = /Retry after (\S+)/i.exec(error?.error?.message ?? '');
  if (said) {
    const at = Date.parse(said[1]!);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  return null;
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'RATE_LIMIT_EXCEEDED']);
const SCOPE_REASONS = new Set(['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT']);

function errorOf(body: Buffer): GoogleErrorBody | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as GoogleErrorBody) : null;
  } catch {
    return null;
  }
}

function reasonOf(error: GoogleErrorBody | null): string {
  return error?.error?.errors?.[0]?.reason ?? error?.error?.status ?? '';
}

function parseJson<T>(body: Buffer, method: string): T {
  if (body.length === 0) return {} as T;
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new MailopsError('FAILED', `the Gmail API answered ${method} with something that is not JSON (${body.length} bytes)`, {
      hint: 'run again with --trace to see the answer; check MAILOPS_GMAIL_API_URL',
    });
  }
}

/** Google's error as the contract's. */
export function apiError(status: number, body: Buffer, method: string, account?: string, notFound?: () => MailopsError): MailopsError {
  const error = errorOf(body);
  const said = (error?.error?.message ?? '').slice(0, 300) || `HTTP ${status}`;
  const reason = reasonOf(error);
  const name = account ?? 'NAME';
  if (status === 401) {
    return new MailopsError('NEEDS_REAUTH', `Google refused the account's token (${said})`, { hint: `run mailops connect ${name} again` });
  }
  if (status === 403 && SCOPE_REASONS.has(reason)) {
    const full = method === 'messages.delete' || method === 'messages.batchDelete';
    return new MailopsError('INSUFFICIENT_SCOPE', `the account's grant does not allow ${method} (${said})`, {
      hint: full ? `permanent deletion needs mailops connect ${name} --backend api --scope-full` : `run mailops connect ${name} --backend api (without --read-only)`,
    });
  }
  if ((status === 429 || status === 403) && RATE_REASONS.has(reason)) {
    return new MailopsError('THROTTLED', `the Gmail API quota is spent (${said})`, { hint: 'try again later' });
  }
  if (status === 404) return notFound?.() ?? new MailopsError('NOT_FOUND', `the Gmail API found nothing for ${method} (${said})`);
  if (status === 403) return new MailopsError('AUTH_FAILED', `Google refused ${method}: ${said}`, { hint: 'check that the Gmail API is enabled for the OAuth client\'s project' });
  return new MailopsError('FAILED', `the Gmail API answered ${method} with ${status}: ${said}`, { hint: 'run again with --trace to see the conversation' });
}

interface InnerAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A batch's multipart/mixed answer: one `application/http` part per call, in order. */
export function parseBatchAnswer(response: HttpResponse): InnerAnswer[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(response.headers['content-type'] ?? '');
  if (!m) throw new MailopsError('FAILED', 'the Gmail API answered a batch without a multipart boundary', { hint: 'run again with --trace' });
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const body = response.body;
  const answers: InnerAnswer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    const part = body.subarray(start, next < 0 ? body.length : next);
    answers.push(innerAnswer(part));
    at = next;
  }
  return answers;
}

function innerAnswer(part: Buffer): InnerAnswer {
  // Outer headers (Content-Type: application/http, Content-ID), then the HTTP answer itself.
  const outerEnd = headEnd(part, 0);
  const innerEnd = headEnd(part, outerEnd.next);
  const head = part.subarray(outerEnd.next, innerEnd.at).toString('latin1').split(/\r?\n/);
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let content = part.subarray(innerEnd.next);
  const length = Number(headers['content-length']);
  if (Number.isInteger(length) && length <= content.length) content = content.subarray(0, length);
  else content = Buffer.from(content.toString('utf8').replace(/\r?\n$/, ''));
  return { status, headers, body: content };
}

function headEnd(buffer: Buffer, from: number): { at: number; next: number } {
  // Skip the line break after a delimiter.
  let start = from;
  while (buffer[start] === 0x0d || buffer[start] === 0x0a) start++;
  const crlf = buffer.indexOf('\r\n\r\n', start);
  const lf = buffer.indexOf('\n\n', start);
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, next: crlf + 4 };
  if (lf >= 0) return { at: lf, next: lf + 2 };
  return { at: buffer.length, next: buffer.length };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
