/**
 * A small HTTP(S) GET for discovery (autoconfig documents) and for fetching
 * a certificate's issuer (AIA). Built on node:http so that host names go
 * through the DNS client (MAILOPS_DNS_SERVERS) like every other connection.
 */
import type { IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';

export interface HttpResult {
  url: string;
  status: number;
  contentType: string;
  body: Buffer;
}

export interface HttpOptions {
  timeoutMs: number;
  lookup?: LookupFunction | undefined;
  trace?: ((direction: 'C' | 'S' | '*', line: string) => void) | null | undefined;
  signal?: AbortSignal | undefined;
  /** Bodies above this are cut off (a config document is a few KB). */
  maxBytes?: number;
}

const MAX_REDIRECTS = 3;

export async function httpGet(url: string, options: HttpOptions, redirects = 0): Promise<HttpResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`unsupported URL scheme ${target.protocol}`);
  const client = target.protocol === 'https:' ? await import('node:https') : await import('node:http');
  options.trace?.('C', `GET ${url}`);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.get(target, { lookup: options.lookup, timeout: options.timeoutMs, signal: options.signal, headers: { 'user-agent': 'mailops' } }, resolve);
    request.on('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    request.on('error', reject);
  });
  const status = response.statusCode ?? 0;
  options.trace?.('S', `${status} ${response.statusMessage ?? ''}`.trim());
  const location = response.headers.location;
  if (status >= 300 && status < 400 && location && redirects < MAX_REDIRECTS) {
    response.resume();
    const next = new URL(location, target);
    // A redirect from https to http would let anyone on the path answer instead (e.g. with an autoconfig document of their own).
    if (target.protocol === 'https:' && next.protocol !== 'https:') throw new Error(`refused a redirect from https to ${next.protocol.slice(0, -1)} (${next.origin})`);
    return httpGet(next.toString(), options, redirects + 1);
  }
  const limit = options.maxBytes ?? 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return { url, status, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks) };
}
