/**
 * Which OAuth client (app registration) an account signs in with. mailops ships no client of its
 * own: the user registers one and hands it over with flags, Google's downloaded JSON, or
 * environment variables; a repair keeps the one the account had.
 *
 *   --client-id / --client-secret / --client-secrets FILE / --tenant
 *   MAILOPS_GOOGLE_CLIENT_ID, MAILOPS_GOOGLE_CLIENT_SECRET, MAILOPS_GOOGLE_CLIENT_SECRETS (a FILE)
 *   MAILOPS_MS_CLIENT_ID, MAILOPS_MS_TENANT
 */
import { readFileSync } from 'node:fs';
import { MailopsError } from '../domain/errors.js';
import type { OAuthSettings } from '../domain/types.js';
import type { OAuthProviderName } from '../providers/oauth-servers.js';
import { redirectMismatch } from './errors.js';

export interface OAuthClient {
  clientId: string;
  /** Google's clients have one (not really secret for a desktop app, but Google requires it); Microsoft public clients none. */
  clientSecret: string | null;
  /** Microsoft tenant: common, organizations, consumers, or a tenant id or domain. */
  tenant: string | null;
  /** A fixed redirect URI: a Google "web" client accepts only the URIs registered for it. */
  redirectUri: string | null;
}

export interface ClientInput {
  provider: OAuthProviderName;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  clientSecretsFile?: string | undefined;
  tenant?: string | undefined;
  /** --port: picks among a web client's registered redirect URIs. */
  port?: number | undefined;
  env: NodeJS.ProcessEnv;
  /** The account being repaired, and its stored client secret. */
  previous: OAuthSettings | null;
  previousSecret: string | null;
}

/** What is known so far; missing parts are asked for (TTY) or reported by the caller. */
export interface PartialClient {
  clientId: string | null;
  clientSecret: string | null;
  tenant: string | null;
  redirectUri: string | null;
}

const TENANT = /^(?:common|organizations|consumers|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/i;

export function resolveClient(input: ClientInput): PartialClient {
  const { provider, env } = input;
  if (provider === 'outlook') {
    if (input.clientSecret !== undefined || input.clientSecretsFile !== undefined) {
      throw new MailopsError('USAGE', 'Outlook accounts sign in as a public client: --client-secret and --client-secrets do not apply', {
        hint: 'register the app with the "Mobile and desktop applications" platform and pass only --client-id (and --tenant)',
      });
    }
    const tenant = (input.tenant ?? env.MAILOPS_MS_TENANT ?? input.previous?.tenant ?? 'common').trim();
    if (!TENANT.test(tenant)) {
      throw new MailopsError('INVALID_VALUE', `not a Microsoft tenant: ${JSON.stringify(tenant)}`, { hint: 'use common, organizations, consumers, a tenant id or a domain such as contoso.onmicrosoft.com' });
    }
    const clientId = nonEmpty(input.clientId) ?? nonEmpty(env.MAILOPS_MS_CLIENT_ID) ?? input.previous?.clientId ?? null;
    return { clientId, clientSecret: null, tenant, redirectUri: null };
  }

  if (input.tenant !== undefined) throw new MailopsError('USAGE', '--tenant applies to Outlook accounts only');
  const file = input.clientSecretsFile ?? nonEmpty(env.MAILOPS_GOOGLE_CLIENT_SECRETS);
  const fromFile = file ? readClientSecrets(file, input.port) : null;
  const clientId = nonEmpty(input.clientId) ?? fromFile?.clientId ?? nonEmpty(env.MAILOPS_GOOGLE_CLIENT_ID) ?? input.previous?.clientId ?? null;
  // A secret belongs to its client id: the stored one is kept only for the same client.
  const sameAsBefore = clientId !== null && clientId === input.previous?.clientId;
  const clientSecret =
    nonEmpty(input.clientSecret) ??
    (fromFile && fromFile.clientId === clientId ? fromFile.clientSecret : null) ??
    nonEmpty(env.MAILOPS_GOOGLE_CLIENT_SECRET) ??
    (sameAsBefore ? input.previousSecret : null);
  const redirectUri = fromFile && fromFile.clientId === clientId ? fromFile.redirectUri : sameAsBefore ? (input.previous?.redirectUri ?? null) : null;
  return { clientId, clientSecret, tenant: null, redirectUri };
}

/**
 * Google's downloaded client JSON: {"installed": {...}} for a desktop app (any loopback port
 * works) or {"web": {...}} (only its registered redirect URIs work: one must be a loopback URI).
 */
export function readClientSecrets(path: string, port?: number): { clientId: string; clientSecret: string | null; redirectUri: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new MailopsError('INVALID_VALUE', `cannot read the client secrets file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MailopsError('INVALID_VALUE', `${path} is not JSON`, { hint: 'pass the file Google Cloud console downloads for an OAuth client (client_secret_....json)' });
  }
  const root = (parsed ?? {}) as Record<string, unknown>;
  const kind = root.installed ? 'installed' : root.web ? 'web' : null;
  const client = (kind ? root[kind] : null) as Record<string, unknown> | null;
  if (!kind || !client || typeof client.client_id !== 'string' || !client.client_id) {
    throw new MailopsError('INVALID_VALUE', `${path} is not a Google OAuth client file (no "installed" or "web" client with a client_id)`, {
      hint: 'download it from Google Cloud console → APIs & Services → Credentials → your OAuth client → Download JSON',
    });
  }
  const clientSecret = typeof client.client_secret === 'string' && client.client_secret ? client.client_secret : null;
  if (kind === 'installed') return { clientId: client.client_id, clientSecret, redirectUri: null };
  const uris = Array.isArray(client.redirect_uris) ? client.redirect_uris.filter((u): u is string => typeof u === 'string') : [];
  const loopback = uris.filter(isLoopbackRedirect);
  const chosen = port ? loopback.find((u) => new URL(u).port === String(port)) : loopback[0];
  if (!chosen) {
    throw redirectMismatch(
      'gmail',
      port
        ? `the web client in ${path} has no loopback redirect URI on port ${port}`
        : `the web client in ${path} has no loopback redirect URI with a port (registered: ${uris.join(', ') || 'none'})`,
    );
  }
  return { clientId: client.client_id, clientSecret, redirectUri: chosen };
}

/** http://127.0.0.1:PORT/..., http://localhost:PORT/... or http://[::1]:PORT/... with an explicit port. */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.port !== '';
  } catch {
    return false;
  }
}

/** How to get a client, for `connect` without one (and `status` of an account that lost it). */
export function registrationHelp(provider: OAuthProviderName): string {
  return provider === 'gmail'
    ? 'register an OAuth client: Google Cloud console → APIs & Services → enable the Gmail API; Credentials → Create credentials → OAuth client ID → ' +
        'Application type "Desktop app"; download its JSON and pass --client-secrets FILE (or --client-id and --client-secret, ' +
        'or set MAILOPS_GOOGLE_CLIENT_ID and MAILOPS_GOOGLE_CLIENT_SECRET)'
    : 'register an app: Microsoft Entra admin center → App registrations → New registration; add the platform "Mobile and desktop applications" ' +
        'with redirect URI http://localhost; API permissions → Office 365 Exchange Online → IMAP.AccessAsUser.All and SMTP.Send; ' +
        'Authentication → Allow public client flows (for --device-code); then pass --client-id ID (and --tenant), or set MAILOPS_MS_CLIENT_ID';
}

function nonEmpty(value: string | undefined | null): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed : null;
}
