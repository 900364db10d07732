/**
 * RFC 2047 encoded words ("=?utf-8?q?caf=C3=A9?=") to text, without libmime: the sync
 * decodes every new message's envelope, and libmime (with iconv-lite and
 * encoding-japanese) took longer to load than a sync with a few new messages takes.
 * Adjacent words of one charset are joined before decoding, as libmime does, so a
 * character split across two words comes out whole. A word that cannot be decoded
 * stays as written.
 */
import { decodeCharset, decodeQuotedPrintable } from './charset.js';

const WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/**
 * A run's bytes. A B word may end mid-quantum (its last characters belong with the next
 * word's): whole quanta are decoded, the rest waits for the next word.
 */
function runBytes(parts: Array<{ encoding: string; data: string }>): Buffer {
  const out: Buffer[] = [];
  let pending = '';
  for (const part of parts) {
    if (part.encoding === 'B') {
      const chunk = pending + part.data;
      const whole = part.data.endsWith('=') ? chunk.length : chunk.length - (chunk.length % 4);
      out.push(Buffer.from(chunk.slice(0, whole), 'base64'));
      pending = chunk.slice(whole);
      continue;
    }
    if (pending) out.push(Buffer.from(pending, 'base64'));
    pending = '';
    // Q: "_" is a space; =XX as in quoted-printable.
    out.push(decodeQuotedPrintable(Buffer.from(part.data.replace(/_/g, ' '), 'latin1')));
  }
  if (pending) out.push(Buffer.from(pending, 'base64'));
  return Buffer.concat(out);
}

export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  // A run of words in one charset, decoded together when the run ends.
  let run: { charset: string; parts: Array<{ encoding: string; data: string }> } | null = null;
  const flush = () => {
    if (run) out += decodeCharset(runBytes(run.parts), run.charset);
    run = null;
  };
  for (const match of value.matchAll(WORD)) {
    const between = value.slice(last, match.index);
    // White space between two encoded words is not part of the text (RFC 2047 6.2).
    if (!(run && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    // "utf-8*en": RFC 2231 adds a language after the charset.
    const charset = match[1]!.replace(/\*.*$/, '').toLowerCase();
    const part = { encoding: match[2]!.toUpperCase(), data: match[3]! };
    const current = run as { charset: string; parts: Array<{ encoding: string; data: string }> } | null;
    if (current && current.charset === charset) current.parts.push(part);
    else {
      flush();
      run = { charset, parts: [part] };
    }
    last = match.index + match[0].length;
  }
  flush();
  return out + value.slice(last);
}
