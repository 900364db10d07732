/**
 * Google sign-in through google-auth-library's OAuth2Client: the authorization URL (PKCE S256,
 * offline access so a refresh token comes back), the code exchange, refreshes and revocation,
 * against Google's endpoints or the MAILOPS_GOOGLE_* overrides. All HTTP goes through http.ts.
 *
 * google-auth-library is imported only here, and only when a Google grant is used.
 */
import type { Credentials, OAuth2Client } from 'google-auth-library';
import { MailopsError } from '../domain/errors.js';
import type { OAuthClient } from './client-config.js';
import { googleEndpoints, type GoogleEndpoints } from './endpoints.js';
import { authorizationError, googleDeviceFlowUnsupported, googleSecretMissing, oauthErrorOf, refreshError, type GrantContext } from './errors.js';
import { makeFetch, postForm, type HttpContext } from '../net/http.js';
import { makePkce, makeState } from './pkce.js';
import { receiveAuthorizationResponse } from './redirect.js';
import { SECRET_KEYS, encodeAccessToken, type Grant, type SignInRequest } from './sign-in.js';

export interface GoogleTokens {
  accessToken: string;
  expiresAt: Date;
  /** Present on the first exchange, and on a refresh when the server rotates it. */
  refreshToken: string | null;
  scopes: string[] | null;
}

/**
 * Google's sign-in: checks the client first (a wrong id or secret is reported before the
 * browser opens), then authorization code + PKCE through the loopback or a pasted address.
 */
export async function signInGoogle(req: SignInRequest): Promise<Grant> {
  if (req.mode === 'device-code') throw googleDeviceFlowUnsupported();
  if (!req.client.clientSecret) throw googleSecretMissing();
  const endpoints = googleEndpoints(req.env, null);
  await checkGoogleClient(req, endpoints);
  const pkce = makePkce();
  const state = makeState();
  const { params, redirectUri } = await receiveAuthorizationResponse(req, {
    state,
    redirectUriFor: (port) => `http://127.0.0.1:${port}/`,
    fixedRedirectUri: req.client.redirectUri,
    authorizationUrl: (redirectUri) =>
      googleAuthUrl({ client: req.client, endpoints, http: req.http, redirectUri, scopes: req.scopes, state, codeChallenge: pkce.challenge, loginHint: req.email || undefined }),
  });
  const code = params.get('code')!;
  req.redact(code);
  const tokens = await exchangeGoogleCode({ client: req.client, endpoints, http: req.http, redirectUri, code, codeVerifier: pkce.verifier });
  req.redact(tokens.accessToken);
  if (!tokens.refreshToken) {
    throw new MailopsError('AUTH_FAILED', 'Google granted access but returned no refresh token, so mailops could not keep access', {
      hint: 'remove the app at https://myaccount.google.com/permissions, then run connect again',
    });
  }
  req.redact(tokens.refreshToken);
  // Granular consent: the person may untick a scope. The token answer says what was granted
  // (the redirect too); with neither, everything asked for was.
  const grantedScopes = tokens.scopes ?? params.get('scope')?.split(/\s+/).filter(Boolean) ?? req.scopes;
  return {
    accessToken: tokens.accessToken,
    expiresAt: tokens.expiresAt,
    grantedScopes,
    secrets: {
      [SECRET_KEYS.refreshToken]: tokens.refreshToken,
      [SECRET_KEYS.accessToken]: encodeAccessToken(tokens.accessToken, tokens.expiresAt),
    },
    homeAccountId: null,
    username: null,
  };
}

/**
 * Redeems a made-up code: Google answers invalid_client for an unknown client or a wrong secret,
 * invalid_grant (the code) when the client is right. Saves the person a consent that would only
 * fail at the end (a wrong client id would leave them on an error page at Google).
 */
async function checkGoogleClient(req: SignInRequest, endpoints: GoogleEndpoints): Promise<void> {
  const { body } = await postForm(req.http, endpoints.tokenUrl, {
    grant_type: 'authorization_code',
    code: 'mailops-client-check',
    client_id: req.client.clientId,
    client_secret: req.client.clientSecret ?? '',
    redirect_uri: 'http://127.0.0.1/',
  });
  const info = oauthErrorOf(body);
  if (info && ['invalid_client', 'unauthorized_client', 'deleted_client'].includes(info.error)) {
    throw authorizationError({ ...info, error: info.error === 'deleted_client' ? 'invalid_client' : info.error }, 'gmail');
  }
}

type RefreshingClient = OAuth2Client & { refresh(refreshToken: string): Promise<{ tokens: Credentials }> };

async function googleClient(client: OAuthClient, endpoints: GoogleEndpoints, http: HttpContext): Promise<RefreshingClient> {
  const { OAuth2Client } = await import('google-auth-library');
  // refreshTokenNoCache is the one call that hands back a rotated refresh token untouched
  // (refreshAccessToken overwrites it with the old one).
  class Refreshing extends OAuth2Client {
    refresh(refreshToken: string) {
      return this.refreshTokenNoCache(refreshToken);
    }
  }
  return new Refreshing({
    clientId: client.clientId,
    clientSecret: client.clientSecret ?? undefined,
    endpoints: { oauth2AuthBaseUrl: endpoints.authUrl, oauth2TokenUrl: endpoints.tokenUrl, oauth2RevokeUrl: endpoints.revokeUrl },
    transporterOptions: { fetchImplementation: makeFetch(http) },
  });
}

export interface GoogleAuthUrlInput {
  client: OAuthClient;
  endpoints: GoogleEndpoints;
  http: HttpContext;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  loginHint?: string | undefined;
}

export async function googleAuthUrl(input: GoogleAuthUrlInput): Promise<string> {
  const oauth = await googleClient(input.client, input.endpoints, input.http);
  return oauth.generateAuthUrl({
    // offline + consent: a refresh token every time, also when this client was allowed before.
    access_type: 'offline',
    prompt: 'consent',
    scope: input.scopes,
    state: input.state,
    redirect_uri: input.redirectUri,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256' as never,
    login_hint: input.loginHint,
  });
}

export async function exchangeGoogleCode(
  input: Pick<GoogleAuthUrlInput, 'client' | 'endpoints' | 'http' | 'redirectUri'> & { code: string; codeVerifier: string },
): Promise<GoogleTokens> {
  const oauth = await googleClient(input.client, input.endpoints, input.http);
  try {
    const { tokens } = await oauth.getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri });
    return toTokens(tokens);
  } catch (error) {
    const info = errorBody(error);
    if (info) throw authorizationError(info, 'gmail');
    throw transportError(error, input.http);
  }
}

export async function refreshGoogleToken(
  input: { client: OAuthClient; endpoints: GoogleEndpoints; http: HttpContext; refreshToken: string },
  grant: GrantContext,
): Promise<GoogleTokens> {
  const oauth = await googleClient(input.client, input.endpoints, input.http);
  try {
    const { tokens } = await oauth.refresh(input.refreshToken);
    return toTokens(tokens);
  } catch (error) {
    const info = errorBody(error);
    if (info) throw refreshError(info, grant);
    throw transportError(error, input.http);
  }
}

/**
 * Revokes the grant (RFC 7009 at Google's revoke endpoint). True when it is gone, including when
 * Google says the token was already invalid.
 */
export async function revokeGoogleToken(input: { client: OAuthClient; endpoints: GoogleEndpoints; http: HttpContext; token: string }): Promise<boolean> {
  const oauth = await googleClient(input.client, input.endpoints, input.http);
  try {
    await oauth.revokeToken(input.token);
    return true;
  } catch (error) {
    const info = errorBody(error);
    // invalid_token: revoked or expired already; nothing is left to revoke.
    if (info?.error === 'invalid_token' || info?.error === 'invalid_grant') return true;
    if (info) throw new MailopsError('FAILED', `Google did not revoke the grant (${info.error}${info.description ? `: ${info.description}` : ''})`);
    throw transportError(error, input.http);
  }
}

function toTokens(tokens: { access_token?: string | null; expiry_date?: number | null; refresh_token?: string | null; scope?: string }): GoogleTokens {
  if (!tokens.access_token) throw new MailopsError('AUTH_FAILED', 'Google answered without an access token');
  return {
    accessToken: tokens.access_token,
    // Google always says expires_in; an hour is its usual lifetime when a server does not.
    expiresAt: new Date(tokens.expiry_date ?? Date.now() + 3600_000),
    refreshToken: tokens.refresh_token ?? null,
    scopes: tokens.scope ? tokens.scope.split(/\s+/).filter(Boolean) : null,
  };
}

/** The OAuth error in a GaxiosError's response, if the server sent one. */
function errorBody(error: unknown) {
  const data = (error as { response?: { data?: unknown } }).response?.data;
  if (data && typeof data === 'object') return oauthErrorOf(data as Record<string, unknown>);
  if (typeof data === 'string') {
    try {
      return oauthErrorOf(JSON.parse(data) as Record<string, unknown>);
    } catch {
      return null;
    }
  }
  return null;
}

/** Network failures: the MailopsError our fetch threw, wherever gaxios wrapped it. */
function transportError(error: unknown, http: HttpContext): MailopsError {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof MailopsError) return current;
    current = (current as { cause?: unknown; error?: unknown }).cause ?? (current as { error?: unknown }).error;
  }
  const status = (error as { status?: number; response?: { status?: number } }).response?.status;
  if (http.signal?.aborted) return new MailopsError('INTERRUPTED', 'interrupted');
  return new MailopsError('FAILED', `Google's token endpoint failed${status ? ` (HTTP ${status})` : ''}`, {
    hint: 'try again later; --trace shows the exchange',
    cause: error,
  });
}
