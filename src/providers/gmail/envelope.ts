/**
 * Envelopes from Gmail's `metadata` format: the headers `ls` prints (asked for by name, so the
 * answer stays small), labels as flags, internalDate as the arrival time. Gmail has no
 * "answered" state: `answered` is always false on this backend. Attachments are judged from
 * the top-level media type (multipart/mixed), as the metadata format has no parts.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import type { Envelope, MessageFlags } from '../../domain/types.js';
import { headerAddresses } from '../cached-message.js';
import { parseMailDate } from '../../mime/date.js';
import { decodeEncodedWords } from '../../mime/encoded-words.js';

export const METADATA_HEADERS = ['From', 'To', 'Cc', 'Subject', 'Date', 'Message-ID'];

export function flagsOf(labelIds: readonly string[] | null | undefined): MessageFlags {
  const labels = labelIds ?? [];
  return { seen: !labels.includes('UNREAD'), flagged: labels.includes('STARRED'), answered: false, draft: labels.includes('DRAFT'), keywords: [] };
}

export function headerOf(message: gmail_v1.Schema$Message, name: string): string | null {
  const wanted = name.toLowerCase();
  const found = message.payload?.headers?.find((h) => h.name?.toLowerCase() === wanted);
  return found?.value ?? null;
}

export const addressesOf = headerAddresses;

export function toEnvelope(message: gmail_v1.Schema$Message, folder: string): Envelope {
  const received = message.internalDate ? new Date(Number(message.internalDate)) : null;
  const date = parseMailDate(headerOf(message, 'Date')) ?? received;
  const mediaType = (message.payload?.mimeType ?? '').toLowerCase();
  return {
    ref: { id: message.id ?? '', folder },
    uid: null,
    messageId: headerOf(message, 'Message-ID')?.trim() ?? null,
    subject: decodeEncodedWords(headerOf(message, 'Subject') ?? ''),
    from: addressesOf(headerOf(message, 'From'))[0] ?? null,
    to: addressesOf(headerOf(message, 'To')),
    cc: addressesOf(headerOf(message, 'Cc')),
    date,
    received,
    size: message.sizeEstimate ?? 0,
    flags: flagsOf(message.labelIds),
    hasAttachments: mediaType === 'multipart/mixed',
  };
}
