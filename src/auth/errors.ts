/**
 * OAuth failures as a person can act on them. Token endpoints answer with an RFC 6749 error code
 * and a description (Microsoft puts an AADSTS number in it); the authorization endpoint redirects
 * back with an error. Messages quote the provider's description, never a request or a token.
 */
import { MailopsError, type ErrorCode } from '../domain/errors.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';

export interface OAuthErrorInfo {
  error: string;
  description?: string | undefined;
  /** MSAL's sub-error (consent_required, bad_token, token_expired, ...). */
  subError?: string | undefined;
}

export interface GrantContext {
  provider: OAuthProviderName;
  /** The account name, for the "run mailops connect NAME again" hint. */
  account: string;
  /** ISO time of consent: Google "testing" apps lose their grants after 7 days. */
  grantedAt?: string | null | undefined;
  now?: Date;
}

const TESTING_MODE_DAYS = 7;

export function providerLabel(provider: OAuthProviderName): string {
  return provider === 'gmail' ? 'Google' : 'Microsoft';
}

export function reconnectHint(account: string): string {
  return `run \`mailops connect ${account}\` again`;
}

function said(info: OAuthErrorInfo): string {
  const description = info.description?.split(/\r?\n/)[0]?.trim();
  return description ? `${info.error}: ${description}` : info.error;
}

function aadsts(info: OAuthErrorInfo): string | null {
  return /AADSTS(\d+)/.exec(info.description ?? '')?.[1] ?? null;
}

/** The error object of a token endpoint's JSON answer, when there is one. */
export function oauthErrorOf(body: Record<string, unknown>): OAuthErrorInfo | null {
  if (typeof body.error !== 'string' || !body.error) return null;
  return {
    error: body.error,
    description: typeof body.error_description === 'string' ? body.error_description : undefined,
    subError: typeof body.suberror === 'string' ? body.suberror : undefined,
  };
}

/** A refresh (silent) failure: the grant is gone, expired, or the client is broken. */
export function refreshError(info: OAuthErrorInfo, ctx: GrantContext): MailopsError {
  const who = providerLabel(ctx.provider);
  const hint = reconnectHint(ctx.account);
  const code = aadsts(info);
  if (info.error === 'invalid_client' || info.error === 'unauthorized_client') {
    return clientError(info, ctx.provider, hint);
  }
  if (info.error === 'invalid_grant' || info.error === 'interaction_required' || info.error === 'consent_required' || info.error === 'login_required') {
    if (ctx.provider === 'gmail' && ctx.grantedAt && info.error === 'invalid_grant') {
      const days = Math.floor(((ctx.now ?? new Date()).getTime() - new Date(ctx.grantedAt).getTime()) / 86_400_000);
      if (days >= TESTING_MODE_DAYS) {
        return new MailopsError('TOKEN_EXPIRED', `Google no longer accepts the grant of ${ctx.account}, given ${days} days ago (${said(info)})`, {
          hint:
            `${hint}. If the Google Cloud app is in "Testing" publishing status, Google expires its refresh tokens after ${TESTING_MODE_DAYS} days: ` +
            'publish it (Google Auth Platform → Audience → Publish app) to keep grants',
        });
      }
    }
    const description = info.description ?? '';
    // Google says "expired or revoked" for both; only an unambiguous word decides.
    const saysRevoked = /\brevoked\b/i.test(description) && !/expired or revoked/i.test(description);
    if (code === '50173' || saysRevoked || info.subError === 'bad_token') {
      return new MailopsError('TOKEN_REVOKED', `${who} says the grant of ${ctx.account} was revoked (${said(info)})`, { hint });
    }
    if (code === '700082' || code === '70043' || code === '70008' || info.subError === 'token_expired') {
      return new MailopsError('TOKEN_EXPIRED', `the grant of ${ctx.account} has expired (${said(info)})`, { hint });
    }
    return new MailopsError('NEEDS_REAUTH', `${who} no longer accepts the grant of ${ctx.account} (${said(info)})`, { hint });
  }
  if (info.error === 'invalid_scope') {
    return new MailopsError('SCOPE_NOT_GRANTED', `${who} refused the scopes of ${ctx.account} (${said(info)})`, { hint });
  }
  return new MailopsError('AUTH_FAILED', `${who} refused to refresh the access token of ${ctx.account} (${said(info)})`, { hint });
}

/** A failure while connecting: at the authorization endpoint (redirected back) or the code exchange. */
export function authorizationError(info: OAuthErrorInfo, provider: OAuthProviderName): MailopsError {
  const who = providerLabel(provider);
  const code = aadsts(info);
  if (info.error === 'access_denied' || info.error === 'authorization_declined' || code === '65004') {
    return new MailopsError('CONSENT_DENIED', `access was not granted: consent was declined at ${who} (${said(info)})`, {
      hint: 'run connect again and allow access to mail on the consent screen',
    });
  }
  if (info.error === 'invalid_client' || info.error === 'unauthorized_client') return clientError(info, provider, undefined);
  if (info.error === 'redirect_uri_mismatch' || code === '50011') return redirectMismatch(provider, said(info));
  if (info.error === 'invalid_scope') {
    return new MailopsError('SCOPE_NOT_GRANTED', `${who} refused the requested scopes (${said(info)})`, {
      hint: provider === 'gmail' ? 'add the Gmail API scope https://mail.google.com/ to the app\'s consent screen' : 'add the IMAP.AccessAsUser.All and SMTP.Send permissions (Office 365 Exchange Online) to the app registration',
    });
  }
  if (info.error === 'expired_token' || info.error === 'code_expired') {
    return new MailopsError('OAUTH_TIMEOUT', `the sign-in code expired before it was used (${said(info)}); nothing was saved`, { hint: 'run connect again and finish the sign-in sooner' });
  }
  if (info.error === 'invalid_grant') {
    return new MailopsError('AUTH_FAILED', `${who} refused the sign-in (${said(info)})`, { hint: 'run connect again; sign-in links are single-use and expire within minutes' });
  }
  return new MailopsError('AUTH_FAILED', `${who} sign-in failed (${said(info)})`, { hint: 'run connect again; with --trace to see the exchange' });
}

function clientError(info: OAuthErrorInfo, provider: OAuthProviderName, reconnect: string | undefined): MailopsError {
  const who = providerLabel(provider);
  const code = aadsts(info);
  let hint: string;
  if (code === '7000218') hint = 'the app registration must allow public client flows (Authentication → Allow public client flows: Yes)';
  else if (provider === 'gmail') hint = 'check --client-id and --client-secret (or --client-secrets FILE) against the OAuth client in Google Cloud console → APIs & Services → Credentials';
  else hint = 'check --client-id and --tenant against the app registration in the Microsoft Entra admin center → App registrations';
  return new MailopsError('OAUTH_CLIENT_INVALID', `${who} does not accept the OAuth client id or secret (${said(info)})`, {
    hint: reconnect ? `${hint}; then ${reconnect}` : hint,
  });
}

export function redirectMismatch(provider: OAuthProviderName, detail: string): MailopsError {
  return new MailopsError('REDIRECT_URI_MISMATCH', `${providerLabel(provider)} refused the redirect URI (${detail})`, {
    hint:
      provider === 'gmail'
        ? 'use a "Desktop app" OAuth client (any loopback port works), or add http://127.0.0.1:PORT/ to a web client\'s redirect URIs and pass --port PORT'
        : 'add http://localhost as a redirect URI of the "Mobile and desktop applications" platform in the app registration',
  });
}

export function googleDeviceFlowUnsupported(): MailopsError {
  return new MailopsError('UNSUPPORTED', 'Google does not allow Gmail access through its device flow', {
    hint: 'use --no-browser (open the link anywhere, paste the address back) or --port N with ssh -L N:127.0.0.1:N',
  });
}

export function googleSecretMissing(): MailopsError {
  return new MailopsError('MISSING_INPUT', 'Google needs the OAuth client secret too', {
    hint: 'pass --client-secret, or --client-secrets FILE (the JSON downloaded for the client), or set MAILOPS_GOOGLE_CLIENT_SECRET',
  });
}

/** What a code means for an account's stored state (status). */
export const GRANT_STATES: Partial<Record<ErrorCode, 'needs_reauth' | 'expired' | 'revoked' | 'not_configured'>> = {
  NEEDS_REAUTH: 'needs_reauth',
  CONSENT_DENIED: 'needs_reauth',
  SCOPE_NOT_GRANTED: 'needs_reauth',
  OAUTH_CLIENT_INVALID: 'needs_reauth',
  TOKEN_EXPIRED: 'expired',
  TOKEN_REVOKED: 'revoked',
  OAUTH_NOT_CONFIGURED: 'not_configured',
};
