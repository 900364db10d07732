/**
 * OAuth accounts (gmail, outlook) as the rest of the core sees them: credentials whose access
 * token refreshes itself, and the revocation at disconnect. The machinery is in src/auth; this
 * binds it to a session's secret store, home, runtime and database.
 */
import { MailopsError } from '../domain/errors.js';
import type { Credentials } from '../domain/provider.js';
import type { AccountConfig, OAuthSettings } from '../domain/types.js';
import { isOAuthProvider } from '../providers/oauth-servers.js';
import { GRANT_STATES } from '../auth/errors.js';
import type { TokenSourceOptions } from '../auth/token-source.js';
import type { RevokeOutcome } from '../auth/revoke.js';
import type { Session } from './session.js';

/** The account's OAuth settings, or OAUTH_NOT_CONFIGURED when it has none (status: not_configured). */
export function oauthSettingsOf(config: AccountConfig): OAuthSettings {
  if (!isOAuthProvider(config.provider) || !config.oauth?.clientId) {
    throw new MailopsError('OAUTH_NOT_CONFIGURED', `${config.name} has no OAuth client configured`, {
      hint: `run \`mailops connect ${config.name}\` again with --client-id (see mailops connect --help)`,
    });
  }
  return config.oauth;
}

async function tokenOptions(session: Session, config: AccountConfig): Promise<TokenSourceOptions> {
  const oauth = oauthSettingsOf(config);
  const { runtime, redactor, signal, home, env } = session.options;
  return {
    account: config.name,
    provider: config.provider as 'gmail' | 'outlook',
    oauth,
    store: await session.secretStore(config.secretStore),
    home,
    env,
    // MAILOPS_DNS_SERVERS reaches the token and revoke endpoints too.
    http: { timeoutMs: runtime.timeoutMs, trace: runtime.trace, signal, resolveHost: runtime.resolveHost ?? null },
    redact: (secret) => redactor.add(secret),
    onToken: (expiresAt) => session.accounts.recordTokenExpiry(config.name, expiresAt),
    // `status --offline` then shows needs_reauth / expired / revoked after any command found it out.
    onGrantFailure: (error) => session.accounts.recordCheck(config.name, GRANT_STATES[error.code] ?? 'needs_reauth', error.message),
  };
}

/** Credentials whose access token is read from the store, or refreshed, when a server asks for it. */
export async function oauthCredentials(session: Session, config: AccountConfig): Promise<Credentials> {
  const options = await tokenOptions(session, config);
  const { createTokenSource } = await import('../auth/token-source.js');
  const source = createTokenSource(options);
  return { kind: 'oauth2', user: config.user, accessToken: (opts) => source.accessToken(opts) };
}

/** Revokes the account's grant where the provider allows it (before its secrets are deleted). */
export async function revokeOAuthGrant(session: Session, config: AccountConfig): Promise<RevokeOutcome> {
  const options = await tokenOptions(session, config);
  const { revokeGrant } = await import('../auth/revoke.js');
  return revokeGrant(options);
}
