/**
 * What a sign-in needs from its caller and what it hands back. The flows (google-flow.ts,
 * microsoft.ts) share these shapes so `connect` treats both providers alike.
 */
import type { Readable } from 'node:stream';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import type { OAuthClient } from './client-config.js';
import type { HttpContext } from '../net/http.js';

/** browser: loopback listener + browser; paste: print the URL, read the redirect back; device-code: Microsoft only. */
export type SignInMode = 'browser' | 'paste' | 'device-code';

export interface SignInUi {
  /** A line for the person at the terminal (stderr). */
  note(message: string): void;
  /** Opens the sign-in page; false when no browser could be started. */
  openBrowser(url: string): Promise<boolean>;
  /** Where a pasted redirect address is read from (--no-browser). */
  input: Readable;
}

export interface SignInRequest {
  provider: OAuthProviderName;
  client: OAuthClient;
  /** Login hint: the address being connected ('' when not known: Gmail API accounts take it from the profile). */
  email: string;
  scopes: string[];
  mode: SignInMode;
  /** --port: a fixed loopback port. */
  port: number | null;
  env: NodeJS.ProcessEnv;
  http: HttpContext;
  /** How long to wait for the person (consent in the browser, a pasted address, a device code). */
  waitMs: number;
  ui: SignInUi;
  /** Registers a secret with the redactor as soon as it exists (codes, tokens). */
  redact(secret: string): void;
}

/** A fresh grant: the access token to test the login with, and what the secret store keeps. */
export interface Grant {
  accessToken: string;
  expiresAt: Date;
  grantedScopes: string[];
  /** Secret store entries (key → value) that make up the grant. */
  secrets: Record<string, string>;
  /** Microsoft: the account in MSAL's cache. */
  homeAccountId: string | null;
  /** Who signed in, when the provider says (Microsoft's preferred_username). */
  username: string | null;
}

/** Secret store keys of an OAuth account. */
export const SECRET_KEYS = {
  refreshToken: 'refresh_token',
  accessToken: 'access_token',
  clientSecret: 'client_secret',
  msalCache: 'msal_cache',
} as const;

/** The cached access token entry: `{"token": ..., "expires_at": ISO}`. */
export interface CachedAccessToken {
  token: string;
  expiresAt: Date;
}

export function encodeAccessToken(token: string, expiresAt: Date): string {
  return JSON.stringify({ token, expires_at: expiresAt.toISOString() });
}

export function decodeAccessToken(value: string | null): CachedAccessToken | null {
  if (!value) return null;
  try {
    const parsed = JSON.parse(value) as { token?: unknown; expires_at?: unknown };
    if (typeof parsed.token !== 'string' || typeof parsed.expires_at !== 'string') return null;
    const expiresAt = new Date(parsed.expires_at);
    return Number.isNaN(expiresAt.getTime()) ? null : { token: parsed.token, expiresAt };
  } catch {
    return null;
  }
}
