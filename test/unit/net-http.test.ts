// The one HTTP client and its pacer (src/net/http.ts, src/net/pacer.ts), against a real HTTP
// server on 127.0.0.1: Retry-After honoured, backoff on 503, the concurrency cap as the server
// sees it, a deadline that ends the retries with a clear error, credentials kept out of the trace.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { makeFetch, request, type HttpContext } from '../../src/net/http.js';
import { Pacer, retryAfterMs } from '../../src/net/pacer.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.end('ok');
/** What the server saw, in order. */
let seen: Array<{ method: string; url: string; at: number; host: string; authorization: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, at: Date.now(), host: req.headers.host ?? '', authorization: req.headers.authorization ?? '' });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function fresh(h: Handler): void {
  handler = h;
  seen = [];
}

/** A handler that answers from a script, one entry a request; the last one repeats. */
function script(...answers: Array<{ status: number; headers?: Record<string, string>; body?: string; delayMs?: number }>): Handler {
  let i = 0;
  return (_req, res) => {
    const a = answers[Math.min(i++, answers.length - 1)]!;
    setTimeout(() => {
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    }, a.delayMs ?? 0);
  };
}

function context(extra: Partial<HttpContext> = {}): HttpContext & { lines: string[] } {
  const lines: string[] = [];
  return { timeoutMs: 5_000, trace: (source, direction, line) => lines.push(`[${source}] ${direction}: ${line}`), lines, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<MailopsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailopsError);
  return error as MailopsError;
}

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Thu, 03 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 03 Dec 2026 09:59:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(undefined, now)).toBeNull();
  });

  it('a 429 with Retry-After is tried again after the wait the server asked for, then 200', async () => {
    fresh(script({ status: 429, headers: { 'retry-after': '1' } }, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }));
    const ctx = context({ pacer: new Pacer({ concurrency: 4 }) });
    const response = await request(ctx, { url: `${base}/messages` });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString('utf8'))).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(ctx.lines).toContain('[http] S: retry-after: 1');
    expect(ctx.lines.some((l) => /^\[http\] \*: HTTP 429 from 127\.0\.0\.1:\d+: attempt 2 in 1000 ms$/.test(l))).toBe(true);
  });

  it('a Retry-After as an HTTP date works the same', async () => {
    // Dates have whole seconds: two seconds ahead is at least one second of wait.
    fresh(script({ status: 503, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } }, { status: 200 }));
    const response = await request(context({ pacer: new Pacer() }), { url: `${base}/x` });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('one caller told to wait holds back the others of the same pacer', async () => {
    let first = true;
    fresh((req, res) => {
      if (req.url === '/a' && first) {
        first = false;
        res.writeHead(429, { 'retry-after': '1' });
        return res.end();
      }
      res.end('ok');
    });
    const ctx = context({ pacer: new Pacer() });
    const a = request(ctx, { url: `${base}/a` });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const b = request(ctx, { url: `${base}/b` });
    await Promise.all([a, b]);
    const firstTry = seen.find((s) => s.url === '/a')!.at;
    expect(seen.find((s) => s.url === '/b')!.at - firstTry).toBeGreaterThanOrEqual(950);
  });
});

describe('backoff', () => {
  it('a 503 without Retry-After backs off exponentially (jitter drawn from [0, 1))', async () => {
    fresh(script({ status: 503 }, { status: 503 }, { status: 200 }));
    const ctx = context({ pacer: new Pacer({ baseDelayMs: 100, random: () => 0.99 }) });
    const response = await request(ctx, { url: `${base}/y` });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(95);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(190);
    expect(ctx.lines.filter((l) => l.includes('[http] *: HTTP 503'))).toEqual([
      expect.stringMatching(/attempt 2 in 99 ms$/),
      expect.stringMatching(/attempt 3 in 198 ms$/),
    ]);
  });

  it('gives the last answer back once the attempts are used up', async () => {
    fresh(script({ status: 503, body: 'down' }));
    const response = await request(context({ pacer: new Pacer({ attempts: 3, baseDelayMs: 1 }) }), { url: `${base}/z` });
    expect(response.status).toBe(503);
    expect(response.body.toString()).toBe('down');
    expect(seen).toHaveLength(3);
  });

  it('a POST is tried once unless the caller marks it retryable', async () => {
    fresh(script({ status: 503 }, { status: 200 }));
    const ctx = context({ pacer: new Pacer({ baseDelayMs: 1 }) });
    expect((await request(ctx, { url: `${base}/send`, method: 'POST', body: 'x' })).status).toBe(503);
    expect(seen).toHaveLength(1);
    fresh(script({ status: 503 }, { status: 200 }));
    expect((await request(ctx, { url: `${base}/send`, method: 'POST', body: 'x', retryable: true })).status).toBe(200);
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST']);
  });

  it('without a pacer, one attempt (OAuth: one answer is enough)', async () => {
    fresh(script({ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }));
    expect((await request(context(), { url: `${base}/token` })).status).toBe(429);
    expect(seen).toHaveLength(1);
  });
});

describe('the concurrency cap', () => {
  it('the server never sees more requests at once than the pacer allows', async () => {
    let inFlight = 0;
    let most = 0;
    fresh((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 60);
    });
    const ctx = context({ pacer: new Pacer({ concurrency: 2 }) });
    const answers = await Promise.all(Array.from({ length: 7 }, (_, i) => request(ctx, { url: `${base}/m/${i}` })));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(seen).toHaveLength(7);
    expect(most).toBe(2);
  });
});

describe('deadlines and cancellation', () => {
  it('a Retry-After beyond the deadline ends the retries at once, saying why', async () => {
    fresh(script({ status: 429, headers: { 'retry-after': '30' } }));
    const started = Date.now();
    const error = await failure(request(context({ pacer: new Pacer() }), { url: `${base}/slow`, deadline: Date.now() + 2_000 }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/^gave up: HTTP 429 from 127\.0\.0\.1:\d+, and the next try \(in 30 s\) would end past the deadline \(\d(\.\d)? s left\)$/);
    expect(seen).toHaveLength(1);
  });

  it('backoff that would run past the deadline ends the retries too', async () => {
    fresh(script({ status: 503 }));
    const error = await failure(request(context({ pacer: new Pacer({ baseDelayMs: 200, random: () => 0.99, attempts: 10 }) }), { url: `${base}/busy`, deadline: Date.now() + 700 }));
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(/^gave up: HTTP 503 from .* past the deadline/);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.length).toBeLessThanOrEqual(3);
  });

  it('an answer that does not come within the timeout is TIMEOUT; Ctrl-C during a wait is INTERRUPTED', async () => {
    fresh(script({ status: 200, delayMs: 1_000 }));
    const slow = await failure(request(context({ timeoutMs: 200 }), { url: `${base}/hang` }));
    expect(slow).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/^127\.0\.0\.1:\d+ did not answer within 0.2s$/) });

    fresh(script({ status: 429, headers: { 'retry-after': '20' } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const interrupted = await failure(request(context({ signal: controller.signal, pacer: new Pacer() }), { url: `${base}/wait` }));
    expect(interrupted.code).toBe('INTERRUPTED');
  });

  it('a refused connection is CONNECTION_REFUSED, with the socket error as its cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failure(request(context(), { url: `http://127.0.0.1:${port}/` }));
    expect(error.code).toBe('CONNECTION_REFUSED');
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

describe('the trace', () => {
  it('shows requests and answers with tokens, secrets and the Authorization header masked', async () => {
    fresh((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.answer-secret', refresh_token: '1//rotated-secret', expires_in: 3599 }));
    });
    const ctx = context();
    await request(ctx, {
      url: `${base}/token?access_token=query-secret&alt=json`,
      method: 'POST',
      headers: { authorization: 'Bearer ya29.header-secret', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=form-secret&client_secret=GOCSPX-secret&client_id=id',
    });
    expect(seen[0]!.authorization).toBe('Bearer ya29.header-secret');
    const trace = ctx.lines.join('\n');
    for (const secret of ['query-secret', 'header-secret', 'form-secret', 'GOCSPX-secret', 'answer-secret', 'rotated-secret']) expect(trace).not.toContain(secret);
    expect(ctx.lines).toEqual([
      expect.stringMatching(/^\[http\] C: POST http:\/\/127\.0\.0\.1:\d+\/token\?access_token=\[REDACTED\]&alt=json$/),
      '[http] C: authorization: Bearer [REDACTED]',
      '[http] C: content-type: application/x-www-form-urlencoded',
      '[http] C: grant_type=refresh_token&refresh_token=[REDACTED]&client_secret=[REDACTED]&client_id=id',
      '[http] S: 200 OK',
      '[http] S: {"access_token":"[REDACTED]","refresh_token":"[REDACTED]","expires_in":3599}',
    ]);
  });
});

describe('DNS override and the fetch adapter', () => {
  it('connects where resolveHost says, keeping the host name in the request', async () => {
    fresh((_req, res) => res.end('here'));
    const port = new URL(base).port;
    const ctx = context({ resolveHost: async (host) => (host === 'api.mail.test' ? '127.0.0.1' : Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }))) });
    const response = await request(ctx, { url: `http://api.mail.test:${port}/v1` });
    expect(response.body.toString()).toBe('here');
    expect(seen[0]!.host).toBe(`api.mail.test:${port}`);
    expect((await failure(request(ctx, { url: `http://other.test:${port}/` }))).code).toBe('DNS_FAILED');
  });

  it('fetch for libraries: a Response with status, headers and body; redirects followed', async () => {
    fresh((req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: '/new' });
        return res.end();
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r1' });
      res.end('{"id":"m1"}');
    });
    const fetchLike = makeFetch(context());
    const response = await fetchLike(`${base}/old`, { method: 'GET', headers: new Headers({ accept: 'application/json' }) });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('r1');
    expect(await response.json()).toEqual({ id: 'm1' });
    expect(response.url).toBe(`${base}/new`);
    fresh((_req, res, body) => res.end(body));
    const echoed = await fetchLike(new URL(`${base}/echo`), { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }) });
    expect(await echoed.text()).toBe('a=1&b=x+y');
  });
});
