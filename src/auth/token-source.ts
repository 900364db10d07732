/**
 * Access tokens for every command of an OAuth account, independent of the transport (IMAP and
 * SMTP today, the Gmail API and Graph later): a valid token from the cache, else a silent
 * refresh.
 *
 * Refresh tokens rotate (Microsoft's always, Google's may), and a used one can be void at once. So
 * the refresh-and-save runs under a lock file in MAILOPS_HOME, one per account, and starts by
 * reading the store again: a second command that waited for the lock finds the token the first
 * one saved instead of spending the refresh token that was just replaced. Keychain and file
 * store alike are covered, whatever locking the store does inside.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MailopsError } from '../domain/errors.js';
import type { OAuthSettings } from '../domain/types.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import type { SecretStore } from '../secrets/store.js';
import { withFileLock, type HeldLock } from '../secrets/file-lock.js';
import type { OAuthClient } from './client-config.js';
import { googleEndpoints } from './endpoints.js';
import { GRANT_STATES, reconnectHint, type GrantContext } from './errors.js';
import type { HttpContext } from '../net/http.js';
import { SECRET_KEYS, decodeAccessToken, encodeAccessToken, type CachedAccessToken } from './sign-in.js';

/** Tokens are renewed this long before they expire (MSAL's and google-auth-library's margin too). */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface TokenSourceOptions {
  account: string;
  provider: OAuthProviderName;
  oauth: OAuthSettings;
  store: SecretStore;
  home: string;
  env: NodeJS.ProcessEnv;
  http: HttpContext;
  redact(secret: string): void;
  /** Told the expiry of every token handed out (status shows it as token_expires_at). */
  onToken?(expiresAt: Date): void;
  /** Told when the grant itself failed (needs_reauth, expired, revoked, not_configured), to record the account's state. */
  onGrantFailure?(error: MailopsError): void;
}

export interface TokenSource {
  accessToken(options?: { forceRefresh?: boolean }): Promise<string>;
}

export function createTokenSource(options: TokenSourceOptions): TokenSource {
  let current: CachedAccessToken | null = null;
  const grant: GrantContext = { provider: options.provider, account: options.account, grantedAt: options.oauth.grantedAt };
  const hand = (token: CachedAccessToken): string => {
    current = token;
    options.redact(token.token);
    options.onToken?.(token.expiresAt);
    return token.token;
  };

  return {
    async accessToken({ forceRefresh = false } = {}) {
      const rejected = forceRefresh ? (current?.token ?? null) : null;
      if (!forceRefresh && current && isFresh(current)) return current.token;
      // The access token kept in the store serves until it nears its expiry: a command that finds
      // one neither refreshes nor loads the provider's OAuth library (MSAL costs ~100 ms to load).
      if (!forceRefresh) {
        const cached = decodeAccessToken(await options.store.get(options.account, SECRET_KEYS.accessToken));
        if (cached && isFresh(cached)) return hand(cached);
      }
      if (options.provider === 'gmail') return hand(await reported(options, underLock(options, (lock) => refreshGoogle(options, grant, rejected, lock))));
      return hand(await reported(options, underLock(options, (lock) => refreshMicrosoft(options, grant, rejected, lock))));
    },
  };
}

async function reported<T>(options: TokenSourceOptions, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof MailopsError && GRANT_STATES[error.code]) options.onGrantFailure?.(error);
    throw error;
  }
}

function isFresh(token: CachedAccessToken): boolean {
  return token.expiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS;
}

async function underLock<T>(options: TokenSourceOptions, fn: (lock: HeldLock) => Promise<T>): Promise<T> {
  await mkdir(options.home, { recursive: true, mode: 0o700 });
  const id = createHash('sha256').update(options.account).digest('hex').slice(0, 16);
  // Waiting covers a holder's whole refresh, which is bounded by --timeout.
  return withFileLock(join(options.home, `tokens-${id}.lock`), { what: `the tokens of ${options.account}`, timeoutMs: options.http.timeoutMs + 10_000 }, fn);
}

async function oauthClient(options: TokenSourceOptions): Promise<OAuthClient> {
  const { oauth } = options;
  let clientSecret: string | null = null;
  if (oauth.hasClientSecret) {
    clientSecret = await options.store.get(options.account, SECRET_KEYS.clientSecret);
    if (!clientSecret) {
      throw new MailopsError('OAUTH_NOT_CONFIGURED', `the OAuth client secret of ${options.account} is missing from the secret store`, {
        hint: `${reconnectHint(options.account)} with --client-secret or --client-secrets FILE`,
      });
    }
    options.redact(clientSecret);
  }
  return { clientId: oauth.clientId, clientSecret, tenant: oauth.tenant, redirectUri: oauth.redirectUri };
}

async function refreshGoogle(options: TokenSourceOptions, grant: GrantContext, rejected: string | null, lock: HeldLock): Promise<CachedAccessToken> {
  const { store, account } = options;
  // Another command may have refreshed while this one waited for the lock.
  const cached = decodeAccessToken(await store.get(account, SECRET_KEYS.accessToken));
  if (cached && isFresh(cached) && cached.token !== rejected) return cached;
  const refreshToken = await store.get(account, SECRET_KEYS.refreshToken);
  if (!refreshToken) {
    throw new MailopsError('NEEDS_REAUTH', `no refresh token is stored for ${account}`, { hint: reconnectHint(account) });
  }
  options.redact(refreshToken);
  const { refreshGoogleToken } = await import('./google.js');
  const tokens = await refreshGoogleToken(
    { client: await oauthClient(options), endpoints: googleEndpoints(options.env, options.oauth.endpoints), http: options.http, refreshToken },
    grant,
  );
  options.redact(tokens.accessToken);
  await lock.assertHeld();
  // The rotated refresh token first: losing it would lose the grant; losing the access token costs a refresh.
  if (tokens.refreshToken && tokens.refreshToken !== refreshToken) {
    options.redact(tokens.refreshToken);
    await store.set(account, SECRET_KEYS.refreshToken, tokens.refreshToken);
  }
  await store.set(account, SECRET_KEYS.accessToken, encodeAccessToken(tokens.accessToken, tokens.expiresAt));
  return { token: tokens.accessToken, expiresAt: tokens.expiresAt };
}

async function refreshMicrosoft(options: TokenSourceOptions, grant: GrantContext, rejected: string | null, lock: HeldLock): Promise<CachedAccessToken> {
  const { store, account, oauth } = options;
  const { silentMicrosoftToken } = await import('./microsoft.js');
  const backing = {
    load: async () => {
      const value = await store.get(account, SECRET_KEYS.msalCache);
      if (!value) throw new MailopsError('NEEDS_REAUTH', `no token cache is stored for ${account}`, { hint: reconnectHint(account) });
      return value;
    },
    save: async (serialized: string) => {
      await lock.assertHeld();
      await store.set(account, SECRET_KEYS.msalCache, serialized);
    },
  };
  const result = await silentMicrosoftToken(
    { client: await oauthClient(options), env: options.env, authorityOverride: oauth.endpoints?.msAuthority, homeAccountId: oauth.homeAccountId, scopes: oauth.scopes, backing, http: options.http },
    grant,
    rejected,
  );
  options.redact(result.accessToken);
  await lock.assertHeld();
  await store.set(account, SECRET_KEYS.accessToken, encodeAccessToken(result.accessToken, result.expiresAt));
  return { token: result.accessToken, expiresAt: result.expiresAt };
}
