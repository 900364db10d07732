/**
 * The text of a message for the search index, extracted in one cheap pass:
 * sync indexes thousands of messages a second, which a full MIME parser
 * (mailparser decodes every attachment) cannot keep up with. It walks the
 * MIME tree, keeps the first text/plain part (else text/html stripped of
 * tags), decodes its transfer encoding and charset, and skips attachments.
 * Truncated input (a partial fetch of a large message) is fine.
 */
/** Enough text to find a message by; the full body is read from the message itself. */
import { effectiveMediaType } from './content-type.js';
import { decodeCharset, decodeQuotedPrintable } from './charset.js';
import { findHeaderEnd } from './raw-header.js';

const MAX_TEXT = 64 * 1024;
const MAX_DEPTH = 8;

interface ContentType {
  type: string;
  params: Map<string, string>;
}

/**
 * Only the Content-* fields of a part, unfolded and raw: they are ASCII, so
 * the encoded-word decoding the full header reader does would be wasted here.
 */
function contentHeaders(raw: Buffer): { fields: Map<string, string>; bodyOffset: number } {
  const { end, bodyOffset } = findHeaderEnd(raw);
  const text = raw.toString('latin1', 0, end);
  const fields = new Map<string, string>();
  const re = /^content-(type|transfer-encoding|disposition)[ \t]*:(.*(?:\r?\n[ \t].*)*)/gim;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const key = m[1]!.toLowerCase();
    if (!fields.has(key)) fields.set(key, m[2]!.replace(/\r?\n/g, '').trim());
  }
  return { fields, bodyOffset };
}

function parseContentType(value: string | undefined): ContentType {
  const [type = 'text/plain', ...rest] = (value ?? 'text/plain').split(';');
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1'));
  }
  // No subtype, or unreadable: text/plain (RFC 2045 section 5.2), as `read` shows it.
  return { type: effectiveMediaType(type.trim()), params };
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  // Node's base64 decoder skips line breaks and stray characters by itself.
  if (encoding === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
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

/** Splits a multipart body at its boundary lines (on bytes, no copy); preamble and epilogue are dropped. */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let start = -1;
  let index = 0;
  for (;;) {
    const at = body.indexOf(delimiter, index);
    if (at < 0) break;
    if (!(at === 0 || body[at - 1] === 0x0a)) {
      index = at + delimiter.length;
      continue;
    }
    if (start >= 0) parts.push(body.subarray(start, body[at - 2] === 0x0d ? at - 2 : at - 1));
    if (body[at + delimiter.length] === 0x2d && body[at + delimiter.length + 1] === 0x2d) return parts;
    const eol = body.indexOf(0x0a, at);
    if (eol < 0) return parts;
    start = eol + 1;
    index = start;
  }
  // Truncated: keep what we have of the last part.
  if (start >= 0 && start < body.length) parts.push(body.subarray(start));
  return parts;
}

/** A text part found, kept encoded until it is known to be the one indexed. */
interface TextPart {
  body: Buffer;
  encoding: string;
  charset: string | undefined;
}

interface Found {
  plain: TextPart | null;
  html: TextPart | null;
}

/**
 * Encoded bytes of a text part worth decoding: 4 MiB covers the 4 × MAX_TEXT characters
 * kept before folding in any charset and transfer encoding, and spares decoding a huge
 * part whole.
 */
const MAX_PART_BYTES = 4 * 1024 * 1024;

function walk(entity: Buffer, depth: number, found: Found): void {
  // The first text/plain part wins; text/html only stands in where there is none.
  if (depth > MAX_DEPTH || found.plain !== null) return;
  const { fields, bodyOffset } = contentHeaders(entity);
  const type = parseContentType(fields.get('type'));
  const body = entity.subarray(bodyOffset);
  if (type.type.startsWith('multipart/')) {
    const boundary = type.params.get('boundary');
    if (!boundary) return;
    for (const part of splitMultipart(body, boundary)) walk(part, depth + 1, found);
    return;
  }
  if ((fields.get('disposition') ?? '').toLowerCase().startsWith('attachment')) return;
  const isPlain = type.type === 'text/plain';
  if (!isPlain && !(type.type === 'text/html' && found.html === null)) return;
  const part = { body: body.subarray(0, MAX_PART_BYTES), encoding: (fields.get('transfer-encoding') ?? '7bit').toLowerCase(), charset: type.params.get('charset') };
  if (isPlain) found.plain = part;
  else found.html = part;
}

function decodePart(part: TextPart): string {
  return decodeCharset(decodeTransfer(part.body, part.encoding), part.charset);
}

export function extractIndexText(raw: Buffer): string {
  const found: Found = { plain: null, html: null };
  walk(raw, 0, found);
  // Only the part that is indexed is decoded (a multipart/alternative's HTML usually is not).
  let text = found.plain ? decodePart(found.plain) : found.html ? htmlToIndexText(decodePart(found.html)) : '';
  // Cap before folding white space: a 5 MB text part need not be folded whole.
  if (text.length > 4 * MAX_TEXT) text = text.slice(0, 4 * MAX_TEXT);
  // Every run of white space becomes one space. A lone space is one already, so the pattern
  // leaves it alone: matching each of them made this 5x slower.
  text = text.replace(/(?: \s|[^\S ])\s*/g, ' ').trim();
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}

/** Message-IDs from a References header. */
export function parseReferences(value: string | null): string[] {
  return value ? (value.match(/<[^<>\s]+>/g) ?? []) : [];
}
