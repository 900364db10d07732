/**
 * A message as the cache keeps it, read from its raw bytes the way the live envelopes read their
 * headers, so offline and live agree: for the API backends (Gmail, Graph), whose sync fetches the
 * MIME whole and knows the arrival time and flags from the API.
 */
import type { CachedMessage } from '../domain/sync.js';
import type { Address, MessageFlags } from '../domain/types.js';
import addressparser from 'nodemailer/lib/addressparser';
import { parseMailDate } from '../mime/date.js';
import { decodeEncodedWords } from '../mime/encoded-words.js';
import { headerValue, readHeaderBlock } from '../mime/headers.js';
import { extractIndexText, parseReferences } from '../mime/index-text.js';

/** Addresses of a header value (From, To, Cc), encoded words decoded. */
export function headerAddresses(value: string | null): Address[] {
  if (!value) return [];
  return addressparser(value, { flatten: true })
    .filter((a) => a.address || a.name)
    .map((a) => ({ name: decodeEncodedWords(a.name ?? ''), address: a.address ?? '' }));
}

export interface RawFacts {
  id: string;
  /** When it arrived (Gmail internalDate, Graph receivedDateTime). */
  received: Date | null;
  flags: MessageFlags;
  /** The API's size where it has one, else the raw length. */
  size?: number | undefined;
  /** The API's word on attachments where it has one, else the top-level type says (multipart/mixed). */
  hasAttachments?: boolean | undefined;
}

export function cachedFromRaw(raw: Buffer, facts: RawFacts, bodyLimit: number): CachedMessage {
  const { headers } = readHeaderBlock(raw);
  const header = (name: string) => headerValue(headers, name);
  const mediaType = (header('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
  return {
    id: facts.id,
    messageId: header('Message-ID')?.trim() || null,
    subject: header('Subject') ?? '',
    from: headerAddresses(header('From'))[0] ?? null,
    to: headerAddresses(header('To')),
    cc: headerAddresses(header('Cc')),
    bcc: headerAddresses(header('Bcc')),
    replyTo: headerAddresses(header('Reply-To')),
    inReplyTo: header('In-Reply-To')?.trim() || null,
    references: parseReferences(header('References')),
    date: parseMailDate(header('Date')) ?? facts.received,
    internalDate: facts.received,
    size: facts.size ?? raw.length,
    flags: facts.flags,
    hasAttachments: facts.hasAttachments ?? mediaType === 'multipart/mixed',
    // Over the limit: kept without its bytes (read fetches it live), its text still indexed.
    raw: raw.length <= bodyLimit ? raw : null,
    bodyText: extractIndexText(raw),
  };
}
