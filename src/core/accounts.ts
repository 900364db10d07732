/**
 * Account lifecycle: turning what the user gave (flags, prompts, an existing
 * account being repaired) into a complete configuration, and saving it only
 * after the login has been proven.
 */
import { MailopsError } from '../domain/errors.js';
import type { AccountConfig, ProviderName, ServerEndpoint, TlsMode } from '../domain/types.js';

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function validateEmail(email: string): string {
  const trimmed = email.trim();
  if (!EMAIL.test(trimmed)) {
    throw new MailopsError('INVALID_VALUE', `not an email address: ${JSON.stringify(email)}`, { hint: 'pass --email user@example.com' });
  }
  return trimmed;
}

export function domainOf(email: string): string {
  return email.slice(email.lastIndexOf('@') + 1).toLowerCase();
}

const GOOGLE_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
const MICROSOFT_DOMAINS = new Set(['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.de', 'hotmail.co.uk', 'hotmail.fr']);

/** The provider an address most likely belongs to (MX-based detection arrives with discovery). */
export function guessProvider(email: string): ProviderName {
  const domain = domainOf(email);
  if (GOOGLE_DOMAINS.has(domain)) return 'gmail';
  if (MICROSOFT_DOMAINS.has(domain)) return 'outlook';
  return 'imap';
}

const DEFAULT_PORTS: Record<'imap' | 'smtp', Record<TlsMode, number>> = {
  imap: { implicit: 993, starttls: 143, none: 143 },
  smtp: { implicit: 465, starttls: 587, none: 587 },
};

/** The TLS mode a well-known port implies. */
export function tlsForPort(kind: 'imap' | 'smtp', port: number): TlsMode | null {
  if (kind === 'imap') return port === 993 ? 'implicit' : port === 143 ? 'starttls' : null;
  return port === 465 ? 'implicit' : port === 587 || port === 25 ? 'starttls' : null;
}

export interface EndpointInput {
  host?: string | undefined;
  port?: number | undefined;
  tls?: TlsMode | undefined;
}

/**
 * Fills an endpoint: what was given wins, then what the account had, then
 * defaults (host `imap.DOMAIN` / `smtp.DOMAIN`, port from the TLS mode, TLS
 * mode from a well-known port, else implicit TLS as RFC 8314 recommends).
 */
export function resolveEndpoint(
  kind: 'imap' | 'smtp',
  given: EndpointInput,
  existing: ServerEndpoint | undefined,
  email: string,
): ServerEndpoint {
  const host = (given.host ?? existing?.host ?? `${kind}.${domainOf(email)}`).trim();
  if (!host || /[\s/]/.test(host)) {
    throw new MailopsError('INVALID_VALUE', `not a host name: ${JSON.stringify(host)}`, { hint: `pass --${kind}-host` });
  }
  const sameServer = existing !== undefined && existing.host === host;
  const tls =
    given.tls ??
    (given.port !== undefined ? tlsForPort(kind, given.port) : null) ??
    (sameServer ? existing.tls : null) ??
    'implicit';
  const port = given.port ?? (sameServer && existing.tls === tls ? existing.port : DEFAULT_PORTS[kind][tls]);
  if (port < 1 || port > 65535) throw new MailopsError('INVALID_VALUE', `--${kind}-port must be between 1 and 65535`);
  return { host, port, tls };
}

export interface AccountInput {
  name?: string | undefined;
  email: string;
  user?: string | undefined;
  provider: ProviderName;
  imap: ServerEndpoint | null;
  smtp: ServerEndpoint | null;
  insecure?: boolean | undefined;
  caFile?: string | null | undefined;
  secretStore?: AccountConfig['secretStore'] | undefined;
  passwordCommand?: string | null | undefined;
  priority?: number | undefined;
}

/** A complete configuration; a repair keeps what the user did not change. */
export function buildAccountConfig(input: AccountInput, existing: AccountConfig | null): AccountConfig {
  return {
    name: input.name ?? existing?.name ?? input.email,
    provider: input.provider,
    // Password accounts speak IMAP/SMTP; OAuth accounts choose with connect --backend.
    backend: 'imap',
    email: input.email,
    user: input.user ?? (existing && existing.email === input.email ? existing.user : input.email),
    imap: input.imap,
    smtp: input.smtp,
    insecure: input.insecure ?? existing?.insecure ?? false,
    caFile: input.caFile !== undefined ? input.caFile : (existing?.caFile ?? null),
    secretStore: input.secretStore ?? existing?.secretStore ?? 'keychain',
    passwordCommand: input.passwordCommand !== undefined ? input.passwordCommand : (existing?.passwordCommand ?? null),
    priority: input.priority ?? existing?.priority ?? 0,
    isDefault: existing?.isDefault ?? false,
    createdAt: existing?.createdAt ?? new Date().toISOString(),
  };
}

export function validateAccountName(name: string): string {
  if (!name || name.length > 200 || /[\u0000-\u001f]/.test(name) || name.startsWith('-')) {
    throw new MailopsError('INVALID_VALUE', `not a usable account name: ${JSON.stringify(name)}`, {
      hint: 'use letters, digits, dots, dashes or an email address',
    });
  }
  return name;
}

/** `host:port (tls)` for notes and errors; API accounts have no such server. */
export function endpointText(endpoint: ServerEndpoint | null): string {
  return endpoint ? `${endpoint.host}:${endpoint.port} (${endpoint.tls})` : '(no server: an API account)';
}
