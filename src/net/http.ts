/**
 * The one HTTP client: OAuth (google-auth-library through gaxios's fetchImplementation,
 * MSAL through its networkClient, our own token POSTs), diagnose (autoconfig documents, a
 * certificate's issuer) and the API backends to come all go through `request`.
 *
 * - Built on node:http(s), so host names resolve through MAILOPS_DNS_SERVERS when it is
 *   set (ctx.lookup or ctx.resolveHost), like every other connection; TLS still checks the name.
 * - Each attempt is bounded by ctx.timeoutMs (answer and body), by Ctrl-C (ctx.signal) and
 *   by the request's own deadline and signal.
 * - --trace shows every request and answer with credentials masked: OAuth form and JSON
 *   fields, and the Authorization header.
 * - Failures come out as the contract's errors (TIMEOUT, DNS_FAILED, ...) with the socket's
 *   error as their cause.
 * - With a pacer (net/pacer.ts) in the context: a cap on requests in flight, and 429/503
 *   tried again after Retry-After or a backoff, for idempotent requests and those marked
 *   retryable. Without one, one attempt, as OAuth wants (one answer is enough for a CLI).
 */
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { MailopsError } from '../domain/errors.js';
import type { ProviderRuntime } from '../domain/provider.js';
import { NetError } from './connect.js';
import { Pacer, retryAfterMs } from './pacer.js';

export interface HttpContext {
  /** Each attempt, from the request to the end of the answer's body. */
  timeoutMs: number;
  /** Ctrl-C: ends the request (and any wait between attempts) as INTERRUPTED. */
  signal?: AbortSignal | undefined;
  trace: ProviderRuntime['trace'] | undefined;
  /** MAILOPS_DNS_SERVERS as the providers get it (ProviderRuntime.resolveHost). */
  resolveHost?: ((host: string) => Promise<string>) | null | undefined;
  /** Or as a lookup function (diagnose's DnsClient.lookup); wins over resolveHost. */
  lookup?: LookupFunction | undefined;
  /** Shared by the requests to one service; absent: one attempt each, no cap. */
  pacer?: Pacer | undefined;
}

export interface HttpRequest {
  url: string | URL;
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
  /** Tried again on 429/503 though the method is not idempotent (the caller knows a repeat is safe). */
  retryable?: boolean | undefined;
  /** Epoch ms: no attempt, and no wait between attempts, goes past it. */
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Bodies above this are cut off (`truncated`); 64 MiB unless said. */
  maxBytes?: number | undefined;
  /** GET and HEAD follow up to 3 redirects (never from https to http) unless false. */
  followRedirects?: boolean | undefined;
  /**
   * Whether an answer means "slow down", and the wait it asks for (null: back off): for APIs that
   * say so in other ways than 429/503 with Retry-After (Gmail: 403 rateLimitExceeded, a time in
   * the message). Absent: 429 and 503, with their Retry-After.
   */
  throttled?: ((response: HttpResponse) => { retryAfterMs: number | null } | null) | undefined;
}

export interface HttpResponse {
  url: string;
  status: number;
  statusText: string;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
}

/** RFC 9110 9.2.2: a repeat of these has the effect of one. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** The server turned the request away for now: nothing was done, and it may say when to return. */
const RETRY_STATUS = new Set([429, 503]);
/** A connection dropped under a request: worth another, when a repeat is safe. */
const TRANSIENT = new Set(['ECONNRESET', 'EPIPE']);
const MAX_REDIRECTS = 3;
const TRACE_BODY_CHARS = 4000;
/** No pacer: one attempt each. */
const SINGLE = new Pacer({ attempts: 1 });

/** One request, through the context's pacer: the answer whatever its status; transport failures thrown as MailopsErrors. */
export async function request(ctx: HttpContext, req: HttpRequest): Promise<HttpResponse> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url);
  const signal = req.signal && ctx.signal ? AbortSignal.any([ctx.signal, req.signal]) : (req.signal ?? ctx.signal);
  const trace = ctx.trace;
  return (ctx.pacer ?? SINGLE).call<HttpResponse>(
    async () => {
      try {
        const response = await follow(ctx, req, method, url, 0);
        const throttle = req.throttled ? req.throttled(response) : RETRY_STATUS.has(response.status) ? { retryAfterMs: retryAfterMs(response.headers['retry-after']) } : null;
        if (!throttle) return { done: true, value: response };
        return { done: false, outcome: { value: response }, retry: true, retryAfterMs: throttle.retryAfterMs, why: `HTTP ${response.status} from ${url.host}` };
      } catch (error) {
        const failure = httpFailure(error, url.href, ctx);
        return { done: false, outcome: { error: failure }, retry: TRANSIENT.has(codeOf(error)), retryAfterMs: null, why: failure.message };
      }
    },
    {
      signal,
      deadline: req.deadline,
      retryable: req.retryable ?? IDEMPOTENT.has(method),
      onRetry: (why, waitMs, attempt) => trace?.('http', '*', `${why}: attempt ${attempt} in ${waitMs} ms`),
    },
  );
}

async function follow(ctx: HttpContext, req: HttpRequest, method: string, url: URL, redirects: number): Promise<HttpResponse> {
  const response = await send(ctx, req, method, url);
  const location = response.headers.location;
  const redirectable = (method === 'GET' || method === 'HEAD') && req.followRedirects !== false;
  if (!redirectable || response.status < 300 || response.status >= 400 || !location || redirects >= MAX_REDIRECTS) return response;
  const next = new URL(location, url);
  // A redirect from https to http would let anyone on the path answer instead (e.g. with an autoconfig document of their own).
  if (url.protocol === 'https:' && next.protocol !== 'https:') {
    throw new MailopsError('NETWORK', `refused a redirect from https to ${next.protocol.slice(0, -1)} (${next.origin})`, { hint: 'the server sent a redirect to an unencrypted address' });
  }
  return follow(ctx, req, method, next, redirects + 1);
}

/** One attempt: the whole answer, or a NetError (ETIMEDOUT, ABORTED) or the socket's error. */
async function send(ctx: HttpContext, req: HttpRequest, method: string, url: URL): Promise<HttpResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MailopsError('INVALID_VALUE', `unsupported URL scheme ${url.protocol}`);
  const client = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const timeoutMs = req.deadline === undefined ? ctx.timeoutMs : Math.min(ctx.timeoutMs, req.deadline - Date.now());
  if (timeoutMs <= 0) throw new MailopsError('TIMEOUT', `the deadline passed before ${url.host} was asked`, { hint: 'raise --timeout' });
  const headers: Record<string, string> = { 'user-agent': 'mailops', ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  traceRequest(ctx, method, url, req);
  const limit = req.maxBytes ?? 64 * 1024 * 1024;
  const signals = [ctx.signal, req.signal].filter((s): s is AbortSignal => s !== undefined);

  const response = await new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, value?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value!);
    };
    const r = client.request(url, { method, headers, lookup: lookupOf(ctx) }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        if (size + chunk.length > limit) {
          chunks.push(chunk.subarray(0, limit - size));
          size = limit;
          truncated = true;
          finish(null, answer(url, res, Buffer.concat(chunks), true));
          res.destroy();
          return;
        }
        size += chunk.length;
        chunks.push(chunk);
      });
      res.on('end', () => finish(null, answer(url, res, Buffer.concat(chunks), truncated)));
      res.on('error', (error) => finish(error));
    });
    const onAbort = () => r.destroy(new NetError('ABORTED', 'interrupted'));
    const timer = setTimeout(() => r.destroy(new NetError('ETIMEDOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
    for (const s of signals) {
      if (s.aborted) onAbort();
      else s.addEventListener('abort', onAbort, { once: true });
    }
    r.on('error', (error) => finish(error));
    r.end(req.body);
  });
  const encoding = response.headers['content-encoding'];
  if (encoding && !response.truncated) response.body = await decoded(response.body, encoding);
  traceResponse(ctx, response);
  return response;
}

function answer(url: URL, res: IncomingMessage, body: Buffer, truncated: boolean): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return { url: url.href, status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body, truncated };
}

/** node:http does not undo a Content-Encoding as fetch does; a caller that asked for gzip gets the bytes it expects. */
async function decoded(body: Buffer, encoding: string): Promise<Buffer> {
  if (body.length === 0 || !/gzip|deflate|br/i.test(encoding)) return body;
  // Loaded here: most answers are not compressed.
  const zlib = await import('node:zlib');
  if (/gzip/i.test(encoding)) return zlib.gunzipSync(body);
  if (/deflate/i.test(encoding)) return zlib.inflateSync(body);
  return zlib.brotliDecompressSync(body);
}

function lookupOf(ctx: HttpContext): LookupFunction | undefined {
  if (ctx.lookup) return ctx.lookup;
  const resolveHost = ctx.resolveHost;
  if (!resolveHost) return undefined;
  return ((hostname: string, options: { all?: boolean } | number, callback: (...args: unknown[]) => void) => {
    resolveHost(hostname).then(
      (address) => {
        const family = address.includes(':') ? 6 : 4;
        if (typeof options === 'object' && options?.all) callback(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (error: unknown) => callback(error),
    );
  }) as LookupFunction;
}

// ---------------------------------------------------------------------------
// Tracing, with credentials masked.

/** Form and JSON fields whose values are credentials (RFC 6749, 7009, 7662, 8628 and PKCE). */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token', 'id_token', 'token', 'code', 'device_code', 'code_verifier', 'client_secret', 'assertion']);
/** Headers that carry credentials. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-goog-api-key']);
/** Headers not worth a trace line: ours, and what every request has. */
const DULL_HEADERS = new Set(['user-agent', 'content-length', 'accept-encoding', 'connection', 'host']);
const MASK = '[REDACTED]';

/** A copy of a form body, query string or JSON text with the credential fields masked. */
/**
 * A request to an API with an OAuth bearer token (the Gmail API, Graph): the token asked for just
 * before, and when the server refuses it (401: revoked or expired early) a fresh one once. Never
 * follows a redirect: a bearer token goes only where the caller sends it.
 */
export async function requestWithBearer(
  ctx: HttpContext,
  req: Omit<HttpRequest, 'followRedirects'>,
  accessToken: (options?: { forceRefresh?: boolean }) => Promise<string>,
): Promise<HttpResponse> {
  let response: HttpResponse | null = null;
  for (const forceRefresh of [false, true]) {
    const token = await accessToken(forceRefresh ? { forceRefresh } : undefined);
    response = await request(ctx, { ...req, headers: { ...req.headers, authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' }, followRedirects: false });
    if (response.status !== 401) break;
  }
  return response!;
}

export function maskCredentials(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.stringify(JSON.parse(trimmed), (key, value: unknown) => (SECRET_FIELDS.has(key) && typeof value === 'string' ? MASK : value));
    } catch {
      // not JSON after all: fall through to the form rules
    }
  }
  return text.replace(/(^|[?&])([^=&?]+)=([^&]*)/g, (all, sep: string, key: string) => (SECRET_FIELDS.has(safeDecode(key)) ? `${sep}${key}=${MASK}` : all));
}

/** A header as the trace shows it: a credential keeps its scheme (`Bearer`) and loses the rest. */
export function maskHeader(name: string, value: string): string {
  if (!SECRET_HEADERS.has(name.toLowerCase())) return value;
  const scheme = /^(Bearer|Basic|Negotiate|Digest|MAC)\s/i.exec(value)?.[1];
  return scheme ? `${scheme} ${MASK}` : MASK;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function maskUrl(url: URL): string {
  return url.search ? url.href.slice(0, url.href.indexOf('?')) + maskCredentials(url.search) + url.hash : url.href;
}

function traceRequest(ctx: HttpContext, method: string, url: URL, req: HttpRequest): void {
  const trace = ctx.trace;
  if (!trace) return;
  trace('http', 'C', `${method} ${maskUrl(url)}`);
  for (const [name, value] of Object.entries(req.headers ?? {})) if (!DULL_HEADERS.has(name.toLowerCase())) trace('http', 'C', `${name}: ${maskHeader(name, value)}`);
  if (typeof req.body === 'string') trace('http', 'C', shorten(maskCredentials(req.body)));
  else if (req.body) trace('http', 'C', `(${req.body.length} bytes)`);
}

function traceResponse(ctx: HttpContext, response: HttpResponse): void {
  const trace = ctx.trace;
  if (!trace) return;
  trace('http', 'S', `${response.status} ${response.statusText}`.trim());
  if (response.headers['retry-after']) trace('http', 'S', `retry-after: ${response.headers['retry-after']}`);
  // Only text bodies are worth a trace line.
  if (/json|text|form|xml/.test(response.headers['content-type'] ?? '') && response.body.length) trace('http', 'S', shorten(maskCredentials(response.body.toString('utf8'))));
}

function shorten(text: string): string {
  return text.length > TRACE_BODY_CHARS ? `${text.slice(0, TRACE_BODY_CHARS)}... (${text.length} characters)` : text;
}

// ---------------------------------------------------------------------------
// Failures.

function codeOf(error: unknown): string {
  const e = error as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : '';
}

/** Network failures as the contract's classes: timeout and unreachable are exit 4, Ctrl-C 130. */
export function httpFailure(error: unknown, url: string, ctx: Pick<HttpContext, 'signal' | 'timeoutMs'>): MailopsError {
  if (error instanceof MailopsError) return error;
  const host = safeHost(url);
  if (ctx.signal?.aborted) return new MailopsError('INTERRUPTED', 'interrupted', { cause: error });
  const code = codeOf(error);
  const name = (error as { name?: string } | null)?.name;
  if (code === 'ETIMEDOUT' || code === 'ABORTED' || name === 'TimeoutError' || name === 'AbortError') {
    return new MailopsError('TIMEOUT', `${host} did not answer within ${Number((ctx.timeoutMs / 1000).toFixed(1))}s`, { hint: 'check the network, or raise --timeout', cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') {
    return new MailopsError('DNS_FAILED', `cannot resolve ${host}`, { hint: 'check the network connection and DNS', cause: error });
  }
  if (code === 'ECONNREFUSED') {
    return new MailopsError('CONNECTION_REFUSED', `${host} refused the connection`, { hint: 'check the MAILOPS_* endpoint variables and the network', cause: error });
  }
  if (/CERT|SSL|TLS/.test(code)) {
    return new MailopsError('TLS_CERT_UNTRUSTED', `the TLS certificate of ${host} is not trusted (${code})`, {
      hint: 'a private CA can be trusted with NODE_EXTRA_CA_CERTS=ca.pem',
      cause: error,
    });
  }
  return new MailopsError('NETWORK', `cannot reach ${host}${code ? ` (${code})` : ''}`, { hint: 'check the network connection', cause: error });
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the server';
  }
}

// ---------------------------------------------------------------------------
// For libraries, and the OAuth token calls.

/** `fetch` over `request`, for libraries that take one (gaxios's fetchImplementation, our MSAL network client). */
export function makeFetch(ctx: HttpContext): typeof fetch {
  return async (input, init = {}) => {
    const fromRequest = typeof input === 'object' && !(input instanceof URL) ? input : null;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init.method ?? fromRequest?.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers ?? fromRequest?.headers).forEach((value, name) => (headers[name] = value));
    let body: string | Uint8Array | undefined;
    const given = init.body ?? null;
    if (typeof given === 'string') body = given;
    else if (given instanceof URLSearchParams) {
      body = given.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    } else if (given !== null) body = new Uint8Array(await new Response(given).arrayBuffer());
    const response = await request(ctx, {
      url,
      method,
      headers,
      body,
      signal: init.signal ?? undefined,
      followRedirects: init.redirect !== 'manual' && init.redirect !== 'error',
    });
    const empty = method === 'HEAD' || [101, 204, 205, 304].includes(response.status);
    const fetched = new Response(empty ? null : response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(fetched, 'url', { value: response.url });
    return fetched;
  };
}

/** POSTs a form and parses the JSON answer, whatever the status (OAuth errors come as 400/401 JSON). */
export async function postForm(ctx: HttpContext, url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await request(ctx, {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(response.body.toString('utf8'));
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status alone tells what happened.
  }
  return { status: response.status, body };
}
