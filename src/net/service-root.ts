/**
 * The API backends' service roots: the real host unless the contract's variable points elsewhere
 * (MAILOPS_GMAIL_API_URL, MAILOPS_GRAPH_URL: national clouds, test servers). Scheme and host, and
 * a path prefix if one is given, without the trailing slash.
 */
import { MailopsError } from '../domain/errors.js';

export function serviceRoot(value: string | undefined, variable: string, fallback: string): string {
  const text = value?.trim();
  if (!text) return fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MailopsError('INVALID_VALUE', `${variable} is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new MailopsError('INVALID_VALUE', `${variable} must be an http(s) URL: ${JSON.stringify(text)}`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
