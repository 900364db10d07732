// The loopback redirect listener (RFC 8252): 127.0.0.1 only, state checked, single use, closes,
// times out, fails clearly on a taken --port.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { listenForRedirect, type Loopback } from '../../src/auth/loopback.js';

const opened: Loopback[] = [];
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
});

async function listen(overrides: Partial<Parameters<typeof listenForRedirect>[0]> = {}): Promise<Loopback> {
  const loopback = await listenForRedirect({ provider: 'gmail', port: null, path: '/', expectedState: 'st4te', timeoutMs: 5_000, ...overrides });
  opened.push(loopback);
  return loopback;
}

async function failure(promise: Promise<unknown>): Promise<MailopsError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(MailopsError);
  return error as MailopsError;
}

describe('listenForRedirect', () => {
  it('takes the code from a GET with the right state, tells the person to go back to the terminal, then closes', async () => {
    const loopback = await listen();
    const page = await fetch(`http://127.0.0.1:${loopback.port}/?code=c0de&state=st4te&scope=x`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/go back to the terminal/);
    const params = await loopback.response;
    expect(params.get('code')).toBe('c0de');
    // Single use: nothing answers any more.
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`http://127.0.0.1:${loopback.port}/?code=again&state=st4te`)).rejects.toThrow();
  });

  it('takes a form_post answer (Microsoft) from a POST', async () => {
    const loopback = await listen({ provider: 'outlook' });
    const page = await fetch(`http://127.0.0.1:${loopback.port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: 'c0de', state: 'st4te', client_info: 'e30' }),
    });
    expect(page.status).toBe(200);
    expect((await loopback.response).get('client_info')).toBe('e30');
  });

  it('listens on 127.0.0.1 only', async () => {
    const loopback = await listen();
    const other = await fetch(`http://[::1]:${loopback.port}/`).then(() => 'answered', () => 'refused');
    expect(other).toBe('refused');
  });

  it('a wrong or missing state is refused (400) and ends the sign-in with OAUTH_STATE_MISMATCH', async () => {
    const loopback = await listen();
    const page = await fetch(`http://127.0.0.1:${loopback.port}/?code=c0de&state=other`);
    expect(page.status).toBe(400);
    expect((await failure(loopback.response)).code).toBe('OAUTH_STATE_MISMATCH');
  });

  it('ignores requests that carry no answer (favicon, the bare address)', async () => {
    const loopback = await listen();
    expect((await fetch(`http://127.0.0.1:${loopback.port}/favicon.ico`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${loopback.port}/`)).status).toBe(400);
    await fetch(`http://127.0.0.1:${loopback.port}/?code=c0de&state=st4te`);
    expect((await loopback.response).get('code')).toBe('c0de');
  });

  it('error=access_denied is CONSENT_DENIED', async () => {
    const loopback = await listen();
    await fetch(`http://127.0.0.1:${loopback.port}/?error=access_denied&state=st4te`);
    const error = await failure(loopback.response);
    expect(error.code).toBe('CONSENT_DENIED');
    expect(error.exitCode).toBe(3);
  });

  it('gives up after its timeout with OAUTH_TIMEOUT and stops listening', async () => {
    const loopback = await listen({ timeoutMs: 200 });
    const error = await failure(loopback.response);
    expect(error.code).toBe('OAUTH_TIMEOUT');
    expect(error.hint).toMatch(/--no-browser/);
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`http://127.0.0.1:${loopback.port}/`)).rejects.toThrow();
  });

  it('Ctrl-C (the abort signal) ends the wait with INTERRUPTED', async () => {
    const abort = new AbortController();
    const loopback = await listen({ signal: abort.signal });
    abort.abort();
    expect((await failure(loopback.response)).code).toBe('INTERRUPTED');
  });

  it('uses a fixed --port, and says so when it is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await failure(listen({ port }));
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.message).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
    const loopback = await listen({ port });
    expect(loopback.port).toBe(port);
  });
});
