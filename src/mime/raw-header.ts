/**
 * The header block of raw message bytes, read without decoding anything (no libmime): where
 * it ends, and one field's raw value. Shared by the header reader (headers.ts), the index
 * text (index-text.ts) and sync's FETCH mapping.
 */

/** Where the header block ends and the body starts (LF or CRLF line ends). */
export function findHeaderEnd(raw: Buffer): { end: number; bodyOffset: number } {
  // A message that starts with an empty line has no headers at all.
  if (raw[0] === 0x0a) return { end: 0, bodyOffset: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { end: 0, bodyOffset: 2 };
  let pos = raw.indexOf(0x0a);
  while (pos !== -1) {
    const next = pos + 1;
    const end = raw[pos - 1] === 0x0d ? pos - 1 : pos;
    if (raw[next] === 0x0a) return { end, bodyOffset: next + 1 };
    if (raw[next] === 0x0d && raw[next + 1] === 0x0a) return { end, bodyOffset: next + 2 };
    pos = raw.indexOf(0x0a, next);
  }
  return { end: raw.length, bodyOffset: raw.length };
}

/** The raw value of the first top-level field `name` (unfolded, undecoded), or null. */
export function rawHeaderField(raw: Buffer, name: string): string | null {
  const head = raw.toString('latin1', 0, findHeaderEnd(raw).end);
  const match = new RegExp(`^${name}[ \\t]*:(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
  return match ? match[1]!.replace(/\r?\n/g, '') : null;
}
