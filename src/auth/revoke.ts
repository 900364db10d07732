/**
 * Ending a grant at `disconnect`. Google revokes a refresh token (and the grant behind it) at
 * its revoke endpoint; Microsoft has no such endpoint for public clients, so the token cache is
 * dropped with the account's other secrets and the person is told where to withdraw consent.
 */
import type { TokenSourceOptions } from './token-source.js';
import { googleEndpoints } from './endpoints.js';
import { SECRET_KEYS, decodeAccessToken } from './sign-in.js';

export interface RevokeOutcome {
  /** true: revoked at the provider; null: the provider offers no revocation (or nothing was stored). */
  revoked: boolean | null;
  note: string;
}

export async function revokeGrant(options: Omit<TokenSourceOptions, 'onToken'>): Promise<RevokeOutcome> {
  const { store, account, oauth } = options;
  if (options.provider === 'outlook') {
    return {
      revoked: null,
      note:
        'Microsoft offers no way for an app to revoke its grant: the token cache was deleted. To withdraw the app\'s access too, ' +
        'remove it at https://myapps.microsoft.com (work or school) or https://account.live.com/consent/Manage (personal)',
    };
  }
  const token = (await store.get(account, SECRET_KEYS.refreshToken)) ?? decodeAccessToken(await store.get(account, SECRET_KEYS.accessToken))?.token ?? null;
  if (!token) return { revoked: null, note: 'no Google token was stored, so there was nothing to revoke' };
  options.redact(token);
  const clientSecret = oauth.hasClientSecret ? await store.get(account, SECRET_KEYS.clientSecret) : null;
  const { revokeGoogleToken } = await import('./google.js');
  await revokeGoogleToken({
    client: { clientId: oauth.clientId, clientSecret, tenant: null, redirectUri: oauth.redirectUri },
    endpoints: googleEndpoints(options.env, oauth.endpoints),
    http: options.http,
    token,
  });
  return { revoked: true, note: 'Google revoked the grant' };
}
