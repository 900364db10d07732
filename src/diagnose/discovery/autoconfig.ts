/**
 * Mozilla autoconfig (the clientConfig v1.1 format Thunderbird reads): the
 * documents a domain publishes at autoconfig.DOMAIN and under
 * DOMAIN/.well-known/autoconfig, and what they say about IMAP and SMTP.
 */
import type { ServerEndpoint, TlsMode } from '../../domain/types.js';

/** Where a domain's document may be, in order. `{domain}` and `{email}` are filled in. */
export const DEFAULT_AUTOCONFIG_URLS = [
  'https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}',
  'https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress={email}',
  // Thunderbird also tries plain HTTP for autoconfig.DOMAIN (many hosts serve it so).
  'http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}',
];

export const AUTOCONFIG_ENV = 'MAILOPS_AUTOCONFIG_URLS';

/** The URL templates: MAILOPS_AUTOCONFIG_URLS (comma-separated) replaces the defaults, e.g. for a test server. */
export function autoconfigUrls(env: NodeJS.ProcessEnv, email: string, domain: string): string[] {
  const templates = env[AUTOCONFIG_ENV]?.trim() ? env[AUTOCONFIG_ENV]!.split(',').map((t) => t.trim()).filter(Boolean) : DEFAULT_AUTOCONFIG_URLS;
  return templates.map((t) => t.replaceAll('{domain}', encodeURIComponent(domain)).replaceAll('{email}', encodeURIComponent(email)));
}

export interface AutoconfigServer extends ServerEndpoint {
  /** The login name the document gives, placeholders filled in. */
  user: string | null;
}

export interface AutoconfigDocument {
  imap: AutoconfigServer | null;
  smtp: AutoconfigServer | null;
}

const SOCKET_TYPES: Record<string, TlsMode> = { SSL: 'implicit', TLS: 'implicit', STARTTLS: 'starttls', PLAIN: 'none' };

/**
 * The first IMAP incomingServer and the first SMTP outgoingServer of a
 * clientConfig document (they are listed in order of preference), skipping
 * plain-text ones (socketType PLAIN) while one with TLS follows; a document
 * that offers only plain text still yields it, so that discovery can report
 * it (and never choose it). Returns null when the text is not such a document.
 */
export function parseAutoconfig(xml: string, email: string): AutoconfigDocument | null {
  if (!/<clientConfig[\s>]/i.test(xml)) return null;
  const imap = firstServer(xml, 'incomingServer', 'imap', email);
  const smtp = firstServer(xml, 'outgoingServer', 'smtp', email);
  return imap || smtp ? { imap, smtp } : null;
}

function firstServer(xml: string, element: string, type: string, email: string): AutoconfigServer | null {
  const pattern = new RegExp(`<${element}\\b([^>]*)>([\\s\\S]*?)</${element}>`, 'gi');
  let plain: AutoconfigServer | null = null;
  for (const match of xml.matchAll(pattern)) {
    if (!new RegExp(`type\\s*=\\s*["']${type}["']`, 'i').test(match[1]!)) continue;
    const body = match[2]!;
    const host = field(body, 'hostname');
    const port = Number(field(body, 'port'));
    const socket = (field(body, 'socketType') ?? '').toUpperCase();
    const tls = SOCKET_TYPES[socket];
    if (!host || !Number.isInteger(port) || port < 1 || port > 65535 || !tls) continue;
    const user = field(body, 'username');
    const server = { host: fill(host, email), port, tls, user: user ? fill(user, email) : null };
    if (tls !== 'none') return server;
    plain ??= server;
  }
  return plain;
}

function field(body: string, name: string): string | null {
  const value = new RegExp(`<${name}>([^<]*)</${name}>`, 'i').exec(body)?.[1];
  return value === undefined ? null : decodeEntities(value.trim());
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (entity, name: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    return named[name] ?? String.fromCharCode(Number(name.slice(1)));
  });
}

/** %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%. */
function fill(text: string, email: string): string {
  const at = email.lastIndexOf('@');
  return text
    .replaceAll('%EMAILADDRESS%', email)
    .replaceAll('%EMAILLOCALPART%', email.slice(0, at))
    .replaceAll('%EMAILDOMAIN%', email.slice(at + 1));
}
