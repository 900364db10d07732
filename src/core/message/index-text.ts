/**
 * The text of a message for the search index, extracted in one cheap pass:
 * sync indexes thousands of messages a second, which a full MIME parser
 * (mailparser decodes every attachment) cannot keep up with. It walks the
 * MIME tree, keeps the first text/plain part (else text/html stripped of
 * tags), decodes its transfer encoding and charset, and skips attachments.
 * Truncated input (a partial fetch of a large message) is fine.
 */
import { readHeaderBlock, headerValue } from './headers.js';

/** Enough text to find a message by; the full body is read from the message itself. */
const MAX_TEXT = 64 * 1024;
const MAX_DEPTH = 8;

interface ContentType {
  type: string;
  params: Map<string, string>;
}

function parseContentType(value: string | null): ContentType {
  const [type = 'text/plain', ...rest] = (value ?? 'text/plain').split(';');
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const val = part.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1');
    params.set(key, val);
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable': {
      const text = body.toString('latin1').replace(/=\r?\n/g, '');
      return Buffer.from(text.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    }
    default:
      return body;
  }
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset?.toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function htmlToIndexText(html: string): string {
  return html
    .replace(/<(script|style|head)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

/** Splits a multipart body at its boundary lines; the preamble and epilogue are dropped. */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
  let start = -1;
  let index = 0;
  for (;;) {
    const at = text.indexOf(delimiter, index);
    if (at < 0) break;
    const lineStart = at === 0 || text[at - 1] === '\n';
    if (!lineStart) {
      index = at + delimiter.length;
      continue;
    }
    if (start >= 0) parts.push(body.subarray(start, text[at - 2] === '\r' ? at - 2 : at - 1));
    if (text.startsWith('--', at + delimiter.length)) return parts;
    const eol = text.indexOf('\n', at);
    if (eol < 0) return parts;
    start = eol + 1;
    index = start;
  }
  // Truncated: keep what we have of the last part.
  if (start >= 0 && start < body.length) parts.push(body.subarray(start));
  return parts;
}

interface Found {
  plain: string | null;
  html: string | null;
}

function walk(entity: Buffer, depth: number, found: Found): void {
  if (depth > MAX_DEPTH || (found.plain !== null && found.html !== null)) return;
  const { headers, bodyOffset } = readHeaderBlock(entity);
  const type = parseContentType(headerValue(headers, 'content-type'));
  const disposition = (headerValue(headers, 'content-disposition') ?? '').toLowerCase();
  const body = entity.subarray(bodyOffset);
  if (type.type.startsWith('multipart/')) {
    const boundary = type.params.get('boundary');
    if (!boundary) return;
    for (const part of splitMultipart(body, boundary)) walk(part, depth + 1, found);
    return;
  }
  if (disposition.startsWith('attachment')) return;
  const isPlain = type.type === 'text/plain';
  const isHtml = type.type === 'text/html';
  if (!(isPlain && found.plain === null) && !(isHtml && found.html === null)) return;
  const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const text = decodeCharset(decodeTransfer(body, encoding), type.params.get('charset'));
  if (isPlain) found.plain = text;
  else found.html = htmlToIndexText(text);
}

export function extractIndexText(raw: Buffer): string {
  const found: Found = { plain: null, html: null };
  walk(raw, 0, found);
  const text = (found.plain ?? found.html ?? '').replace(/\s+/g, ' ').trim();
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

/** Message-IDs from a References header. */
export function parseReferences(value: string | null): string[] {
  return value ? (value.match(/<[^<>\s]+>/g) ?? []) : [];
}
