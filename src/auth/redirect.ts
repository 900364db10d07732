/**
 * Getting the authorization response back, the same way for both providers: through the
 * loopback listener with the browser opened (default), or pasted by the person (--no-browser).
 */
import { MailopsError } from '../domain/errors.js';
import { providerLabel } from './errors.js';
import { listenForRedirect, pickFreePort } from './loopback.js';
import { parsePastedRedirect, readPastedLine } from './paste.js';
import type { SignInRequest } from './sign-in.js';

export interface RedirectPlan {
  state: string;
  /** The redirect URI for a loopback port (Google: http://127.0.0.1:PORT/, Microsoft: http://localhost:PORT). */
  redirectUriFor(port: number): string;
  /** A registered redirect URI that must be used as it is (a Google web client). */
  fixedRedirectUri: string | null;
  /** The authorization URL for that redirect URI. */
  authorizationUrl(redirectUri: string): Promise<string>;
}

export interface RedirectResult {
  params: URLSearchParams;
  redirectUri: string;
}

export async function receiveAuthorizationResponse(req: SignInRequest, plan: RedirectPlan): Promise<RedirectResult> {
  const fixed = plan.fixedRedirectUri ? new URL(plan.fixedRedirectUri) : null;
  if (fixed && req.port !== null && Number(fixed.port) !== req.port) {
    throw new MailopsError('USAGE', `--port ${req.port} does not match the registered redirect URI ${plan.fixedRedirectUri}`);
  }
  const who = providerLabel(req.provider);
  if (req.mode === 'paste') {
    const port = fixed ? Number(fixed.port) : (req.port ?? (await pickFreePort()));
    const redirectUri = plan.fixedRedirectUri ?? plan.redirectUriFor(port);
    const url = await plan.authorizationUrl(redirectUri);
    req.ui.note(`Open this address in a browser (on any machine), sign in to ${who} as ${req.email} and allow access:\n\n  ${url}\n`);
    req.ui.note(`The browser then ends on a page that does not load, at ${redirectUri.replace(/\/$/, '')}/?...: copy that whole address from its address bar and paste it here:`);
    const line = await readPastedLine(req.ui.input, { timeoutMs: req.waitMs, signal: req.http.signal, provider: req.provider });
    return { params: parsePastedRedirect(line, plan.state, req.provider), redirectUri };
  }

  const loopback = await listenForRedirect({
    provider: req.provider,
    port: fixed ? Number(fixed.port) : req.port,
    path: fixed ? fixed.pathname : '/',
    expectedState: plan.state,
    timeoutMs: req.waitMs,
    signal: req.http.signal,
  });
  try {
    const redirectUri = plan.fixedRedirectUri ?? plan.redirectUriFor(loopback.port);
    const url = await plan.authorizationUrl(redirectUri);
    const opened = await req.ui.openBrowser(url);
    req.ui.note(
      `${opened ? 'Opened a browser' : 'Could not open a browser'} to sign in to ${who} as ${req.email}. ` +
        `${opened ? 'If it did not appear, open' : 'Open'} this address (on this machine, or with --port and ssh -L):\n\n  ${url}\n\nWaiting for the sign-in (${Math.round(req.waitMs / 1000)}s)...`,
    );
    return { params: await loopback.response, redirectUri };
  } finally {
    loopback.close();
  }
}
