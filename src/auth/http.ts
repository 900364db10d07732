/**
 * The one way the OAuth code talks HTTP: fetch bounded by --timeout and Ctrl-C, written to
 * --trace with every credential masked. google-auth-library (through gaxios's
 * fetchImplementation) and MSAL (through its networkClient) both go through it.
 */
import { MailopsError } from '../domain/errors.js';
import type { ProviderRuntime } from '../domain/provider.js';

export interface HttpContext {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  trace: ProviderRuntime['trace'];
}

/** Form and JSON fields whose values are credentials (RFC 6749, 7009, 7662, 8628 and PKCE). */
const SECRET_FIELDS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'code',
  'device_code',
  'code_verifier',
  'client_secret',
  'assertion',
]);
const MASK = '[REDACTED]';

/** A copy of a form body, query string or JSON text with the credential fields masked. */
export function maskCredentials(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      return JSON.stringify(JSON.parse(trimmed), (key, value: unknown) => (SECRET_FIELDS.has(key) && typeof value === 'string' ? MASK : value));
    } catch {
      // not JSON after all: fall through to the form rules
    }
  }
  return text.replace(/(^|[?&])([^=&?]+)=([^&]*)/g, (all, sep: string, key: string) =>
    SECRET_FIELDS.has(decodeURIComponent(key)) ? `${sep}${key}=${MASK}` : all,
  );
}

function maskUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q) + maskCredentials(url.slice(q));
}

/** A fetch with our timeout, cancellation and tracing, for libraries that accept one. */
export function makeFetch(ctx: HttpContext): typeof fetch {
  return async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET');
    const signals = [AbortSignal.timeout(ctx.timeoutMs)];
    if (ctx.signal) signals.push(ctx.signal);
    if (init.signal) signals.push(init.signal);
    const trace = ctx.trace;
    if (trace) {
      trace('http', 'C', `${method} ${maskUrl(url)}`);
      if (typeof init.body === 'string' || init.body instanceof URLSearchParams) trace('http', 'C', maskCredentials(String(init.body)));
    }
    let response: Response;
    try {
      response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    } catch (error) {
      throw httpFailure(error, url, ctx);
    }
    if (trace) {
      trace('http', 'S', `${response.status} ${response.statusText}`);
      // A clone, so the caller still reads the body; only text bodies are worth a trace line.
      const type = response.headers.get('content-type') ?? '';
      if (/json|text|form/.test(type)) trace('http', 'S', maskCredentials(await response.clone().text()));
    }
    return response;
  };
}

/** Network failures as the contract's classes: timeout and unreachable are exit 4, Ctrl-C 130. */
export function httpFailure(error: unknown, url: string, ctx: HttpContext): MailopsError {
  if (error instanceof MailopsError) return error;
  const host = safeHost(url);
  if (ctx.signal?.aborted) return new MailopsError('INTERRUPTED', 'interrupted', { cause: error });
  const e = error as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new MailopsError('TIMEOUT', `${host} did not answer within ${Math.round(ctx.timeoutMs / 1000)}s`, { hint: 'check the network, or raise --timeout', cause: error });
  }
  const code = e.cause?.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
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
    return 'the identity provider';
  }
}

/** POSTs a form and parses the JSON answer, whatever the status (OAuth errors come as 400/401 JSON). */
export async function postForm(ctx: HttpContext, url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await makeFetch(ctx)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's error page): the status alone tells what happened.
  }
  return { status: response.status, body };
}
