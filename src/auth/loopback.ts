/**
 * The loopback redirect listener of RFC 8252 (OAuth for native apps): an HTTP server on
 * 127.0.0.1 only, on a free port (or --port, for `ssh -L`), that accepts exactly one
 * authorization response carrying the `state` it was started with, shows a page telling the
 * user to go back to the terminal, and closes. It gives up after a timeout or on Ctrl-C.
 *
 * Both response modes are served: the query string of a GET (Google) and the form of a POST
 * (Microsoft's form_post).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MailopsError } from '../domain/errors.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import { authorizationError, providerLabel } from './errors.js';

export const LOOPBACK_HOST = '127.0.0.1';
const MAX_BODY = 64 * 1024;

export interface LoopbackOptions {
  provider: OAuthProviderName;
  /** A fixed port (--port); null for any free one. */
  port: number | null;
  /** Path of the redirect URI ('/' unless a registered URI says otherwise). */
  path: string;
  expectedState: string;
  /** How long to wait for the user. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface Loopback {
  port: number;
  /** The authorization response's parameters (code, state, ...). Rejects with a MailopsError. */
  response: Promise<URLSearchParams>;
  close(): void;
}

export async function listenForRedirect(opts: LoopbackOptions): Promise<Loopback> {
  let settle!: { resolve: (params: URLSearchParams) => void; reject: (error: MailopsError) => void };
  let settled = false;
  const response = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be listening yet when it fails (e.g. Ctrl-C before the browser opened).
  response.catch(() => {});

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) page(res, 400, 'Bad request', 'mailops could not read this request.');
    });
  });

  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => finish(new MailopsError('INTERRUPTED', 'interrupted while waiting for the sign-in'));
  const finish = (outcome: URLSearchParams | MailopsError) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    // Single use: no further connections; the page being sent still goes out.
    server.close();
    setTimeout(() => server.closeAllConnections(), 200).unref();
    if (outcome instanceof MailopsError) settle.reject(outcome);
    else settle.resolve(outcome);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}`);
    if (url.pathname !== opts.path || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    if (settled) {
      page(res, 410, 'Already done', 'This sign-in is finished. You can close this tab.');
      return;
    }
    const params = req.method === 'POST' ? await readForm(req) : url.searchParams;
    if (!params.has('code') && !params.has('error')) {
      page(res, 400, 'Waiting for the sign-in', `This address receives the answer of ${providerLabel(opts.provider)}; start from the link mailops printed.`);
      return;
    }
    const states = params.getAll('state');
    if (states.length !== 1 || states[0] !== opts.expectedState) {
      page(res, 400, 'Sign-in refused', 'This answer belongs to another sign-in (an old tab?) or was forged. Go back to the terminal and run connect again.');
      finish(stateMismatch());
      return;
    }
    const error = params.get('error');
    if (error) {
      page(res, 200, 'Sign-in not completed', `${providerLabel(opts.provider)} said: ${error}. Go back to the terminal.`);
      finish(authorizationError({ error, description: params.get('error_description') ?? undefined }, opts.provider));
      return;
    }
    page(res, 200, 'Signed in', 'mailops received the sign-in. You can close this tab and go back to the terminal.');
    finish(params);
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' && opts.port) {
        reject(
          new MailopsError('INVALID_VALUE', `port ${opts.port} on ${LOOPBACK_HOST} is in use`, {
            hint: 'pass another --port, or leave --port out to use any free port',
          }),
        );
      } else reject(new MailopsError('FAILED', `cannot listen on ${LOOPBACK_HOST}: ${error.message}`, { cause: error }));
    });
    server.listen(opts.port ?? 0, LOOPBACK_HOST, () => resolve((server.address() as AddressInfo).port));
  });

  timer = setTimeout(() => finish(waitTimeout(opts.timeoutMs, opts.provider)), opts.timeoutMs);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    port,
    response,
    close: () => finish(new MailopsError('INTERRUPTED', 'the sign-in was abandoned')),
  };
}

export function stateMismatch(): MailopsError {
  return new MailopsError('OAUTH_STATE_MISMATCH', 'the sign-in answer does not carry the state this sign-in sent: it belongs to another sign-in or was forged; nothing was saved', {
    hint: 'run connect again and finish the sign-in in the tab it opens',
  });
}

export function waitTimeout(timeoutMs: number, provider: OAuthProviderName): MailopsError {
  return new MailopsError('OAUTH_TIMEOUT', `no sign-in answer from ${providerLabel(provider)} within ${Math.round(timeoutMs / 1000)}s; nothing was saved`, {
    hint:
      'run connect again and finish in the browser (MAILOPS_OAUTH_TIMEOUT sets the wait in seconds). If the browser showed an error such as ' +
      'invalid_client or redirect_uri_mismatch, check the app registration; without a browser here use --no-browser' +
      (provider === 'outlook' ? ' or --device-code' : ''),
  });
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  let body = '';
  for await (const chunk of req) {
    body += (chunk as Buffer).toString('utf8');
    if (body.length > MAX_BODY) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>mailops: ${escape(title)}</title></head>` +
    `<body style="font-family:sans-serif;margin:3em"><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' }).end(html);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A port free on 127.0.0.1 a moment ago: the redirect target of a --no-browser sign-in, where nothing listens. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK_HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
