/**
 * IMAP's modified UTF-7 for folder names (RFC 3501 5.1.3): printable ASCII stands
 * for itself ("&" as "&-"), anything else is UTF-16BE in base64 with "," for "/",
 * between "&" and "-". "Entwürfe" is "Entw&APw-rfe".
 */

export function decodeMailboxName(name: string): string {
  if (!name.includes('&')) return name;
  return name.replace(/&([^-]*)-/g, (_, encoded: string) => {
    if (encoded === '') return '&';
    const bytes = Buffer.from(encoded.replace(/,/g, '/'), 'base64');
    // UTF-16BE: swap to the little-endian order Node decodes.
    const swapped = Buffer.alloc(bytes.length - (bytes.length % 2));
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      swapped[i] = bytes[i + 1]!;
      swapped[i + 1] = bytes[i]!;
    }
    return swapped.toString('utf16le');
  });
}

export function encodeMailboxName(name: string): string {
  return name.replace(/&|[^\x20-\x7e]+/g, (run) => {
    if (run === '&') return '&-';
    const le = Buffer.from(run, 'utf16le');
    for (let i = 0; i + 1 < le.length; i += 2) {
      const low = le[i]!;
      le[i] = le[i + 1]!;
      le[i + 1] = low;
    }
    return `&${le.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
  });
}

/** A quoted string argument: `"` and `\` escaped (for ASCII; other text goes as a literal). */
export function quoteString(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/** A mailbox name as a command argument: modified UTF-7, quoted. */
export function quoteMailbox(name: string): string {
  return quoteString(encodeMailboxName(name));
}
