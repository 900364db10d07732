/**
 * Envelopes from Graph's message resource: the fields `ls` prints, asked for with `$select` so the
 * answer stays small. Graph keeps no "answered" state in v1.0 (`answered` is false here), and its
 * message has no size property: the size is PR_MESSAGE_SIZE (0x0E08) when the answer carries that
 * extended property, else 0 until a sync has the MIME.
 */
import type { Message, Recipient } from '@microsoft/microsoft-graph-types';
import type { Address, Envelope, MessageFlags } from '../../domain/types.js';

/** PR_MESSAGE_SIZE as Graph names an extended property. */
export const SIZE_PROPERTY = 'Integer 0xe08';

/** What `ls` and sync ask for. */
export const ENVELOPE_FIELDS = [
  'id',
  'subject',
  'from',
  'sender',
  'toRecipients',
  'ccRecipients',
  'receivedDateTime',
  'sentDateTime',
  'isRead',
  'isDraft',
  'flag',
  'hasAttachments',
  'internetMessageId',
  'parentFolderId',
];

/** `$select` and `$expand` for envelopes: the fields above and the size property. */
export function envelopeQuery(): { $select: string; $expand: string } {
  return { $select: ENVELOPE_FIELDS.join(','), $expand: `singleValueExtendedProperties($filter=id eq '${SIZE_PROPERTY}')` };
}

export function flagsOf(message: Pick<Message, 'isRead' | 'flag' | 'isDraft'>): MessageFlags {
  return { seen: message.isRead === true, flagged: message.flag?.flagStatus === 'flagged', answered: false, draft: message.isDraft === true, keywords: [] };
}

function addressOf(recipient: Recipient | null | undefined): Address | null {
  const email = recipient?.emailAddress;
  if (!email || (!email.address && !email.name)) return null;
  return { name: email.name ?? '', address: email.address ?? '' };
}

export function addressesOf(recipients: Recipient[] | null | undefined): Address[] {
  return (recipients ?? []).map(addressOf).filter((a): a is Address => a !== null);
}

export function sizeOf(message: Message): number {
  const property = message.singleValueExtendedProperties?.find((p) => p.id?.toLowerCase() === SIZE_PROPERTY.toLowerCase());
  const size = Number(property?.value);
  return Number.isFinite(size) && size >= 0 ? size : 0;
}

function dateOf(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function toEnvelope(message: Message, folder: string): Envelope {
  const received = dateOf(message.receivedDateTime);
  return {
    ref: { id: message.id ?? '', folder },
    uid: null,
    messageId: message.internetMessageId ?? null,
    subject: message.subject ?? '',
    from: addressOf(message.from ?? message.sender),
    to: addressesOf(message.toRecipients),
    cc: addressesOf(message.ccRecipients),
    date: dateOf(message.sentDateTime) ?? received,
    received,
    size: sizeOf(message),
    flags: flagsOf(message),
    hasAttachments: message.hasAttachments === true,
  };
}
