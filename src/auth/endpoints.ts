/**
 * Where the identity providers are: Google's OAuth endpoints and Microsoft's authority, each
 * overridable by the contract's MAILOPS_* variables (national clouds, test servers).
 *
 * An account remembers the overrides in force when it was connected (its refresh token belongs
 * to that server); a variable set at run time still wins.
 */
import { MailopsError } from '../domain/errors.js';
import type { OAuthEndpointOverrides } from '../domain/types.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';

export const GOOGLE_DEFAULTS = {
  authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
} as const;

export const MS_DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';

export interface GoogleEndpoints {
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
}

const VARIABLES = {
  googleAuthUrl: 'MAILOPS_GOOGLE_AUTH_URL',
  googleTokenUrl: 'MAILOPS_GOOGLE_TOKEN_URL',
  googleRevokeUrl: 'MAILOPS_GOOGLE_REVOKE_URL',
  msAuthority: 'MAILOPS_MS_AUTHORITY',
} as const satisfies Record<keyof OAuthEndpointOverrides, string>;

function fromEnv(env: NodeJS.ProcessEnv, key: keyof OAuthEndpointOverrides): string | undefined {
  const name = VARIABLES[key];
  const value = env[name]?.trim();
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MailopsError('INVALID_VALUE', `${name} is not a URL: ${JSON.stringify(value)}`);
  }
  if (key === 'msAuthority' ? url.protocol !== 'https:' : url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MailopsError('INVALID_VALUE', `${name} must be an ${key === 'msAuthority' ? 'https' : 'http(s)'} URL: ${JSON.stringify(value)}`, {
      hint: key === 'msAuthority' ? 'Microsoft sign-in (MSAL) only talks to an https authority' : undefined,
    });
  }
  return key === 'msAuthority' ? `${url.protocol}//${url.host}` : value;
}

/** The overrides set in the environment now, to be stored with an account being connected. */
export function endpointOverrides(provider: OAuthProviderName, env: NodeJS.ProcessEnv): OAuthEndpointOverrides | null {
  const keys: Array<keyof OAuthEndpointOverrides> = provider === 'gmail' ? ['googleAuthUrl', 'googleTokenUrl', 'googleRevokeUrl'] : ['msAuthority'];
  const found: OAuthEndpointOverrides = {};
  for (const key of keys) {
    const value = fromEnv(env, key);
    if (value !== undefined) found[key] = value;
  }
  return Object.keys(found).length ? found : null;
}

export function googleEndpoints(env: NodeJS.ProcessEnv, stored: OAuthEndpointOverrides | null | undefined): GoogleEndpoints {
  return {
    authUrl: fromEnv(env, 'googleAuthUrl') ?? stored?.googleAuthUrl ?? GOOGLE_DEFAULTS.authUrl,
    tokenUrl: fromEnv(env, 'googleTokenUrl') ?? stored?.googleTokenUrl ?? GOOGLE_DEFAULTS.tokenUrl,
    revokeUrl: fromEnv(env, 'googleRevokeUrl') ?? stored?.googleRevokeUrl ?? GOOGLE_DEFAULTS.revokeUrl,
  };
}

/** Scheme and host of the Microsoft identity platform (the tenant is appended by the caller). */
export function microsoftAuthorityHost(env: NodeJS.ProcessEnv, stored: OAuthEndpointOverrides | null | undefined): string {
  return fromEnv(env, 'msAuthority') ?? stored?.msAuthority ?? MS_DEFAULT_AUTHORITY;
}

/** The v2.0 endpoints of one tenant, as MSAL would discover them. */
export function microsoftEndpoints(authorityHost: string, tenant: string) {
  const base = `${authorityHost}/${encodeURIComponent(tenant)}`;
  return {
    authority: base,
    authorizeUrl: `${base}/oauth2/v2.0/authorize`,
    tokenUrl: `${base}/oauth2/v2.0/token`,
    deviceCodeUrl: `${base}/oauth2/v2.0/devicecode`,
    logoutUrl: `${base}/oauth2/v2.0/logout`,
    jwksUrl: `${base}/discovery/v2.0/keys`,
    issuer: `${base}/v2.0`,
  };
}
