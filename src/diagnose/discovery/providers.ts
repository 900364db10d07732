/**
 * Mail providers recognized by a domain's MX records, with their well-known
 * servers: Google Workspace and Microsoft 365 host many custom domains.
 */
import type { ServerEndpoint } from '../../domain/types.js';

export interface KnownProvider {
  name: 'gmail' | 'outlook';
  label: string;
  imap: ServerEndpoint;
  smtp: ServerEndpoint;
}

const GOOGLE: KnownProvider = {
  name: 'gmail',
  label: 'Google',
  imap: { host: 'imap.gmail.com', port: 993, tls: 'implicit' },
  smtp: { host: 'smtp.gmail.com', port: 465, tls: 'implicit' },
};

const MICROSOFT: KnownProvider = {
  name: 'outlook',
  label: 'Microsoft 365',
  imap: { host: 'outlook.office365.com', port: 993, tls: 'implicit' },
  smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' },
};

/** aspmx.l.google.com, alt1.aspmx.l.google.com, smtp.google.com, *.googlemail.com; *.mail.protection.outlook.com. */
export function providerForMx(exchange: string): KnownProvider | null {
  const host = exchange.toLowerCase().replace(/\.$/, '');
  if (/(^|\.)(google\.com|googlemail\.com)$/.test(host)) return GOOGLE;
  if (/(^|\.)mail\.protection\.outlook\.com$/.test(host) || /(^|\.)outlook\.com$/.test(host)) return MICROSOFT;
  return null;
}
