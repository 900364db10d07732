/**
 * How much of one IMAP response mailops holds before it gives up on a server: whatever a server
 * sends, memory stays bounded (a response line that never ends, a literal announced as
 * `{4294967295}` and dripped). imapflow's own defaults are 1 GB a line and a literal, 2 GB a
 * response; these are the limits both IMAP clients (imapflow for commands, wire/ for sync) and
 * diagnose use.
 *
 * - A line without a literal: 32 MiB. The longest legitimate ones are UID SEARCH answers; 32 MiB
 *   holds four million seven-digit UIDs.
 * - A literal: 160 MiB, above the largest message a mail service takes (Exchange Online 150 MB,
 *   Gmail 35 MB). The sync client asks for at most --max-body bytes of a body and holds its
 *   literals to that (plus the headers it asks for) instead.
 * - A whole response, its lines and literals together: 200 MiB.
 */
export const IMAP_LIMITS = {
  maxLine: 32 * 1024 * 1024,
  maxLiteral: 160 * 1024 * 1024,
  maxResponse: 200 * 1024 * 1024,
} as const;

export type ImapLimits = { maxLine: number; maxLiteral: number; maxResponse: number };

/** Thrown by the response reader: the server sent more than a limit allows. */
export class ResponseTooLarge extends Error {
  readonly code = 'EPROTOCOL';

  constructor(
    readonly what: 'line' | 'literal' | 'response',
    readonly size: number,
    readonly limit: number,
  ) {
    super(`the IMAP server sent a ${what} of ${size > limit ? `${size} bytes` : `more than ${limit} bytes`}, more than the ${Math.round(limit / 1024 / 1024)} MiB mailops accepts`);
    this.name = 'ResponseTooLarge';
  }
}
