// OAuth failures as people read them: which stable code (and so which account state and exit
// code), and which words, for the answers Google and Microsoft really give.
import { describe, expect, it } from 'vitest';
import { authorizationError, GRANT_STATES, refreshError } from '../../src/auth/errors.js';

const ctx = { provider: 'gmail' as const, account: 'work' };

describe('refreshError', () => {
  it('invalid_grant from Google ("expired or revoked") asks for connect again: NEEDS_REAUTH, exit 3', () => {
    const error = refreshError({ error: 'invalid_grant', description: 'Token has been expired or revoked.' }, ctx);
    expect(error.code).toBe('NEEDS_REAUTH');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('Google no longer accepts the grant of work (invalid_grant: Token has been expired or revoked.)');
    expect(error.hint).toBe('run `mailops connect work` again');
    expect(GRANT_STATES[error.code]).toBe('needs_reauth');
  });

  it('a Google grant that fails after 7 days points at the app\'s "Testing" publishing status', () => {
    const grantedAt = new Date(Date.now() - 8 * 86_400_000).toISOString();
    const error = refreshError({ error: 'invalid_grant', description: 'Token has been expired or revoked.' }, { ...ctx, grantedAt });
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(error.message).toMatch(/given 8 days ago/);
    expect(error.hint).toMatch(/"Testing" publishing status.*7 days/);
    expect(GRANT_STATES[error.code]).toBe('expired');
    // A younger grant is not blamed on testing mode.
    expect(refreshError({ error: 'invalid_grant' }, { ...ctx, grantedAt: new Date().toISOString() }).code).toBe('NEEDS_REAUTH');
  });

  it('Microsoft: AADSTS50173 is revoked, AADSTS700082 expired, bad_token revoked', () => {
    const ms = { provider: 'outlook' as const, account: 'o' };
    expect(refreshError({ error: 'invalid_grant', description: 'AADSTS50173: The provided grant has expired due to it being revoked.' }, ms).code).toBe('TOKEN_REVOKED');
    expect(refreshError({ error: 'invalid_grant', description: 'AADSTS700082: The refresh token has expired due to inactivity.' }, ms).code).toBe('TOKEN_EXPIRED');
    expect(refreshError({ error: 'invalid_grant', subError: 'bad_token' }, ms).code).toBe('TOKEN_REVOKED');
    expect(GRANT_STATES.TOKEN_REVOKED).toBe('revoked');
  });

  it('a client that is gone or whose secret changed: OAUTH_CLIENT_INVALID with where to check', () => {
    const error = refreshError({ error: 'invalid_client', description: 'Unauthorized' }, ctx);
    expect(error.code).toBe('OAUTH_CLIENT_INVALID');
    expect(error.hint).toMatch(/--client-id and --client-secret.*then run `mailops connect work` again/);
  });
});

describe('authorizationError', () => {
  it('access_denied and AADSTS65004 are CONSENT_DENIED', () => {
    expect(authorizationError({ error: 'access_denied' }, 'gmail').code).toBe('CONSENT_DENIED');
    expect(authorizationError({ error: 'invalid_request', description: 'AADSTS65004: User declined to consent' }, 'outlook').code).toBe('CONSENT_DENIED');
    expect(authorizationError({ error: 'authorization_declined' }, 'outlook').code).toBe('CONSENT_DENIED');
  });

  it('redirect_uri_mismatch (Google) and AADSTS50011 (Microsoft) say how to register the loopback URI', () => {
    const google = authorizationError({ error: 'redirect_uri_mismatch', description: 'Bad Request' }, 'gmail');
    expect(google.code).toBe('REDIRECT_URI_MISMATCH');
    expect(google.hint).toMatch(/Desktop app/);
    const ms = authorizationError({ error: 'invalid_request', description: "AADSTS50011: The redirect URI 'http://localhost:1' does not match" }, 'outlook');
    expect(ms.code).toBe('REDIRECT_URI_MISMATCH');
    expect(ms.hint).toMatch(/http:\/\/localhost/);
  });

  it('a client that must allow public client flows (AADSTS7000218) says so', () => {
    const error = authorizationError({ error: 'invalid_client', description: 'AADSTS7000218: The request body must contain client_assertion or client_secret' }, 'outlook');
    expect(error.code).toBe('OAUTH_CLIENT_INVALID');
    expect(error.hint).toMatch(/Allow public client flows/);
  });

  it('an expired device code is a timeout', () => {
    expect(authorizationError({ error: 'expired_token' }, 'outlook').code).toBe('OAUTH_TIMEOUT');
  });
});
