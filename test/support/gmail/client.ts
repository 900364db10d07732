// A bare HTTPS client for tests that talk to the Gmail fake directly, trusting the suite's CA.
// Node 20's fetch cannot be given a CA in-process (only NODE_EXTRA_CA_CERTS at start-up), so this
// uses node:https; it returns the exact bytes, which the raw-format checks need.
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T>(): T;
}

export interface HttpCall {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

export function gmailClient(root: string, caFile: string) {
  const agent = new Agent({ ca: readFileSync(caFile), keepAlive: true });
  function call(path: string, opts: HttpCall = {}): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: Buffer | undefined;
    if (Buffer.isBuffer(opts.body) || typeof opts.body === 'string') body = Buffer.from(opts.body);
    else if (opts.body !== undefined) {
      body = Buffer.from(JSON.stringify(opts.body));
      headers['content-type'] ??= 'application/json';
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, root), { method: opts.method ?? (body ? 'POST' : 'GET'), headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, json: <T>() => JSON.parse(bytes.toString('utf8')) as T });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  return { call, agent, close: () => agent.destroy() };
}
