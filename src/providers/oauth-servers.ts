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
