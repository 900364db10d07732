/**
 * Headless sign-in (`connect --no-browser`): the user opens the printed URL on any machine and
 * pastes back the address the browser ended on (it fails to load, since nothing listens on that
 * machine's loopback; the code is in the address). The pasted text is checked like a loopback
 * redirect: same state, a code or an error.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { MailopsError } from '../domain/errors.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import { authorizationError } from './errors.js';
import { stateMismatch, waitTimeout } from './loopback.js';

/** The first non-empty line of `input`. */
export function readPastedLine(input: Readable, opts: { timeoutMs: number; signal?: AbortSignal | undefined; provider: OAuthProviderName }): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
    let settled = false;
    const done = (outcome: string | MailopsError) => {
      // lines.close() below emits 'close' at once, which calls done again.
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      lines.close();
      if (typeof outcome === 'string') resolve(outcome);
      else reject(outcome);
    };
    const onAbort = () => done(new MailopsError('INTERRUPTED', 'interrupted while waiting for the pasted address'));
    const timer = setTimeout(() => done(waitTimeout(opts.timeoutMs, opts.provider)), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    lines.on('line', (line) => {
      if (line.trim()) done(line.trim());
    });
    lines.on('close', () =>
      done(new MailopsError('MISSING_INPUT', 'standard input ended before an address was pasted', { hint: 'paste the address the browser ended on, then press Enter' })),
    );
  });
}

/** The authorization response inside a pasted redirect address (or its query string). */
export function parsePastedRedirect(text: string, expectedState: string, provider: OAuthProviderName): URLSearchParams {
  const trimmed = text.trim();
  let params: URLSearchParams;
  try {
    params = /^https?:\/\//i.test(trimmed) ? new URL(trimmed).searchParams : new URLSearchParams(trimmed.replace(/^[^?]*\?/, ''));
  } catch {
    params = new URLSearchParams();
  }
  if (!params.has('code') && !params.has('error')) {
    throw new MailopsError('INVALID_VALUE', 'that is not the address of a sign-in answer (it has no code)', {
      hint: 'paste the whole address from the browser\'s address bar after allowing access; it starts with http://127.0.0.1 or http://localhost',
    });
  }
  const states = params.getAll('state');
  if (states.length !== 1 || states[0] !== expectedState) throw stateMismatch();
  const error = params.get('error');
  if (error) throw authorizationError({ error, description: params.get('error_description') ?? undefined }, provider);
  return params;
}
