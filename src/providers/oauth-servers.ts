/**
 * The IMAP and SMTP servers of the OAuth providers, and the scopes their XOAUTH2 / OAUTHBEARER
 * logins need. `connect --imap-* / --smtp-*` override the servers (a tenant's own relay, tests).
 */
import type { ServerEndpoint } from '../domain/types.js';

export type OAuthProviderName = 'gmail' | 'outlook';

export interface OAuthMailServers {
  imap: ServerEndpoint;
  smtp: ServerEndpoint;
  /** Scopes for IMAP and SMTP with OAuth; a refresh token needs offline access too (see src/auth/endpoints.ts). */
  scopes: string[];
}

export const OAUTH_MAIL_SERVERS: Record<OAuthProviderName, OAuthMailServers> = {
  gmail: {
    imap: { host: 'imap.gmail.com', port: 993, tls: 'implicit' },
    smtp: { host: 'smtp.gmail.com', port: 465, tls: 'implicit' },
    // The only scope Gmail accepts for IMAP and SMTP.
    scopes: ['https://mail.google.com/'],
  },
  outlook: {
    // Microsoft's documented hosts for OAuth IMAP and SMTP AUTH, for work and personal accounts alike.
    imap: { host: 'outlook.office365.com', port: 993, tls: 'implicit' },
    smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' },
    scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send', 'offline_access'],
  },
};

export function isOAuthProvider(provider: string): provider is OAuthProviderName {
  return provider === 'gmail' || provider === 'outlook';
}

/** What an account over the Gmail API may do, by `connect` flag: --read-only, the default, --scope-full. */
export type ApiAccess = 'read-only' | 'default' | 'full';

/** The Gmail API's scopes for each access (permanent deletion is the one thing gmail.modify cannot do). */
export const GMAIL_API_SCOPES: Record<ApiAccess, string[]> = {
  'read-only': ['https://www.googleapis.com/auth/gmail.readonly'],
  default: ['https://www.googleapis.com/auth/gmail.modify'],
  full: ['https://mail.google.com/'],
};

/** Whether granted scopes let an account change and send mail (not a read-only grant). */
export function grantsChanges(granted: readonly string[]): boolean {
  return granted.some((s) => s === GMAIL_API_SCOPES.default[0] || s === GMAIL_API_SCOPES.full[0]);
}

/**
 * Microsoft Graph's delegated scopes for each access. Graph has no scope above Mail.ReadWrite:
 * it deletes for good too, so `--scope-full` has nothing to add there.
 */
export const GRAPH_API_SCOPES: Record<Exclude<ApiAccess, 'full'>, string[]> = {
  'read-only': ['https://graph.microsoft.com/Mail.Read', 'offline_access'],
  default: ['https://graph.microsoft.com/Mail.ReadWrite', 'https://graph.microsoft.com/Mail.Send', 'offline_access'],
};

/** A scope's name without its resource (`https://graph.microsoft.com/Mail.Read` → `mail.read`), for comparing. */
export function scopeName(scope: string): string {
  return scope.slice(scope.lastIndexOf('/') + 1).toLowerCase();
}

/** Whether granted Graph scopes let an account change mail (Mail.ReadWrite). */
export function graphGrantsChanges(granted: readonly string[]): boolean {
  return granted.some((s) => scopeName(s) === 'mail.readwrite');
}
