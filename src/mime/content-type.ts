/**
 * RFC 2045 section 5.2: a Content-Type that cannot be read means text/plain. Old mailers write
 * `Content-Type: text; charset=us-ascii`; servers then describe the part in ways of their own
 * (Dovecot's BODYSTRUCTURE says `"" ""`), and parsers take it for an attachment.
 */

/** `type/subtype` as RFC 2045 section 5.1 spells it (tokens on both sides of one slash). */
const MEDIA_TYPE = /^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/i;

export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

/** The media type a part is to be read as: as given when it is one, else text/plain. */
export function effectiveMediaType(value: string): string {
  return isMediaType(value) ? value.toLowerCase() : 'text/plain';
}
