/**
 * FETCH results (ENVELOPE, FLAGS, RFC822.SIZE, INTERNALDATE, BODYSTRUCTURE)
 * to domain envelopes.
 */
import type { FetchMessageObject, MessageAddressObject } from 'imapflow';
import type { Address, Envelope } from '../../domain/types.js';
import { effectiveMediaType } from '../../mime/content-type.js';
import { flagsFromImap } from './flags.js';
import { refFromKey } from './ids.js';

/** What `list` asks the server for: everything an envelope needs, no body bytes. */
export const ENVELOPE_QUERY = {
  uid: true,
  envelope: true,
  flags: true,
  size: true,
  internalDate: true,
  bodyStructure: true,
} as const;

export function toAddresses(list: MessageAddressObject[] | undefined): Address[] {
  // Group syntax ("undisclosed-recipients:;") yields entries without an address.
  return (list ?? [])
    .filter((entry) => entry.address)
    .map((entry) => ({ name: entry.name ?? '', address: entry.address ?? '' }));
}

export function validDate(value: Date | string | undefined): Date | null {
  if (value === undefined) return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The part of a BODYSTRUCTURE node attachments are told by (imapflow's nodes and the sync client's). */
export interface StructureNode {
  type: string;
  disposition?: string | undefined;
  childNodes?: StructureNode[] | undefined;
}

/**
 * An attachment is a part marked as one, or a leaf that is neither text nor
 * a container and is not marked inline (a PDF with no disposition counts; an
 * inline image does not). A forwarded message/rfc822 counts as one attachment.
 */
export function hasAttachments(node: StructureNode | undefined): boolean {
  if (!node) return false;
  const disposition = node.disposition?.toLowerCase();
  if (disposition === 'attachment') return true;
  // A part the server could not type (Content-Type: text) is text/plain, RFC 2045 section 5.2.
  const type = effectiveMediaType(node.type);
  if (type === 'message/rfc822') return disposition !== 'inline';
  if (node.childNodes && node.childNodes.length > 0) return node.childNodes.some(hasAttachments);
  if (type.startsWith('multipart/') || type.startsWith('text/')) return false;
  return disposition !== 'inline';
}

export function toEnvelope(message: FetchMessageObject, folder: string, uidValidity: string): Envelope {
  const envelope = message.envelope;
  return {
    ref: refFromKey({ folder, uidValidity, uid: message.uid }),
    uid: message.uid,
    messageId: envelope?.messageId ?? null,
    subject: envelope?.subject ?? '',
    from: toAddresses(envelope?.from)[0] ?? null,
    to: toAddresses(envelope?.to),
    cc: toAddresses(envelope?.cc),
    date: validDate(envelope?.date) ?? validDate(message.internalDate),
    received: validDate(message.internalDate),
    size: message.size ?? 0,
    flags: flagsFromImap(message.flags ?? []),
    hasAttachments: hasAttachments(message.bodyStructure),
  };
}
