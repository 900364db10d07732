/**
 * The top-level header block read straight from the raw bytes, in order and with
 * duplicates, for --headers and for the fields mailparser gets wrong on hostile
 * input (it decodes raw 8-bit header bytes as UTF-8 only, and turns a bad Date into
 * "now"). Nothing here throws: what cannot be decoded is shown as it came.
 */

import { isUtf8 } from 'node:buffer';
import { libmime } from './libmime.js';
import { decodeWindows1252 } from './charset.js';
import { findHeaderEnd } from './raw-header.js';

export interface HeaderLine {
  /** Field name as written (case kept); '' for a line that is not a header field (no colon). */
  name: string;
  /** Unfolded value with RFC 2047 encoded-words decoded; the whole line when name is ''. */
  value: string;
}

export interface HeaderBlock {
  headers: HeaderLine[];
  /** Offset in the raw message where the body starts (raw.length when there is none). */
  bodyOffset: number;
}

// A field name is printable US-ASCII except colon (RFC 5322 2.2); obsolete syntax allows blanks before the colon.
const FIELD = /^([!-9;-~]+)[ \t]*:(.*)$/s;

export function readHeaderBlock(raw: Buffer): HeaderBlock {
  const { end, bodyOffset } = findHeaderEnd(raw);
  // latin1 maps every byte to one code unit, so the text can be cut into lines and turned back into the same bytes.
  const text = raw.subarray(0, end).toString('latin1');
  const headers: HeaderLine[] = [];
  let current: string | null = null;
  const flush = (): void => {
    if (current !== null) headers.push(toHeaderLine(current));
  };
  for (const line of text.split(/\r?\n/)) {
    if (current !== null && /^[ \t]/.test(line)) {
      // Unfolding removes the line break only, the blank that starts the next line stays.
      current += line;
      continue;
    }
    flush();
    current = line;
  }
  flush();
  return { headers: headers.filter((h) => h.name !== '' || h.value !== ''), bodyOffset };
}

/** The first value of a header field (names compare case-insensitively), or null. */
export function headerValue(headers: readonly HeaderLine[], name: string): string | null {
  const wanted = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === wanted)?.value ?? null;
}

/**
 * Raw header bytes (as a latin1 string) to text: UTF-8 when they are valid UTF-8
 * (RFC 6532), else windows-1252, the usual charset of unlabelled 8-bit headers;
 * then encoded-words. A malformed encoded-word stays as written.
 */
export function decodeHeaderText(latin1: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  const text = isUtf8(bytes) ? bytes.toString('utf8') : decodeWindows1252(bytes);
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}

/** Body bytes as text for the fallback view: UTF-8 when valid, else windows-1252. */
export function decodeLooseText(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : decodeWindows1252(bytes);
}

function toHeaderLine(line: string): HeaderLine {
  const m = FIELD.exec(line);
  if (!m) return { name: '', value: decodeHeaderText(line).trim() };
  return { name: m[1]!, value: decodeHeaderText(m[2]!).trim() };
}
