/**
 * A FETCH response of the sync client to the message the cache keeps. ENVELOPE and
 * BODYSTRUCTURE are read the way imapflow reads them (encoded words decoded, group
 * syntax dropped, quoted names unquoted), so that a cached envelope and a live one agree.
 */
import { decodeEncodedWords } from '../../../mime/encoded-words.js';
import type { MessageUpsert, SyncOptions } from '../../../domain/sync.js';
import type { Address } from '../../../domain/types.js';
import { extractIndexText, parseReferences } from '../../../mime/index-text.js';
import { rawHeaderField } from '../../../mime/raw-header.js';
import { hasAttachments, validDate, type StructureNode } from '../envelope.js';
import { flagsFromImap } from '../flags.js';
import { encodeMessageId } from '../ids.js';
import { imapNumber, text, type Value } from '../../../net/imap/response.js';

/** What `sync` asks for with each new message (BODY[] partial: up to the body limit). */
export function newMessageItems(options: SyncOptions, condstore: boolean): string {
  const body = options.headersOnly ? 'BODY.PEEK[HEADER.FIELDS (REFERENCES)]' : `BODY.PEEK[]<0.${options.bodyLimit}>`;
  return `(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE${condstore ? ' MODSEQ' : ''} ${body})`;
}

/** imapflow's processName: names some servers leave quoted lose the quotes. */
function unquote(value: string): string {
  return value.length > 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

function addresses(list: Value | undefined): Address[] {
  if (!Array.isArray(list)) return [];
  const out: Address[] = [];
  for (const entry of list) {
    if (!Array.isArray(entry)) continue;
    const mailbox = text(entry[2]) ?? '';
    const host = text(entry[3]) ?? '';
    // A NIL host marks group syntax ("undisclosed-recipients:;"): no address to keep.
    if (!host) continue;
    out.push({ name: unquote(decodeEncodedWords(text(entry[0]) ?? '')), address: `${mailbox}@${host}` });
  }
  return out;
}

/** BODYSTRUCTURE (RFC 9051 7.5.2) to the nodes hasAttachments() walks. */
export function structureNode(value: Value | undefined): StructureNode | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (Array.isArray(value[0])) {
    let i = 0;
    const childNodes: StructureNode[] = [];
    while (Array.isArray(value[i])) {
      const child = structureNode(value[i]);
      if (child) childNodes.push(child);
      i++;
    }
    const subtype = (text(value[i]) ?? 'mixed').toLowerCase();
    // After the subtype: parameters, then the disposition.
    return { type: `multipart/${subtype}`, disposition: dispositionOf(value[i + 2]), childNodes };
  }
  const type = `${text(value[0]) ?? 'text'}/${text(value[1]) ?? 'plain'}`.toLowerCase();
  // Seven basic fields; text adds its line count, message/rfc822 its envelope, body and line count.
  let next = 7;
  if (type.startsWith('text/')) next += 1;
  else if (type === 'message/rfc822' || type === 'message/global') next += 3;
  // Then MD5, then the disposition.
  return { type, disposition: dispositionOf(value[next + 1]) };
}

function dispositionOf(value: Value | undefined): string | undefined {
  return Array.isArray(value) ? (text(value[0])?.toLowerCase() ?? undefined) : undefined;
}

function bodySection(attributes: Map<string, Value>): Buffer | null {
  for (const [key, value] of attributes) if (key.startsWith('BODY[') && Buffer.isBuffer(value)) return value;
  for (const [key, value] of attributes) if (key.startsWith('BODY[') && typeof value === 'string') return Buffer.from(value, 'utf8');
  return null;
}

/** The message the cache keeps, in its folder under its UID; `bytes`: what the FETCH carried. */
export function toCachedMessage(
  attributes: Map<string, Value>,
  folder: string,
  uidValidity: string,
  options: SyncOptions,
): { cached: MessageUpsert; uid: number; bytes: number } {
  const envelope = attributes.get('ENVELOPE');
  const env = Array.isArray(envelope) ? envelope : [];
  const size = imapNumber(text(attributes.get('RFC822.SIZE'))) ?? 0;
  const section = bodySection(attributes);
  const source = options.headersOnly ? null : section;
  const flags = attributes.get('FLAGS');
  const internalDate = validDate(text(attributes.get('INTERNALDATE')) ?? undefined);
  const envelopeDate = text(env[0]);
  const uid = Number(text(attributes.get('UID')));
  return {
    cached: {
      message: {
        id: encodeMessageId({ folder, uidValidity, uid }),
        messageId: text(env[9])?.trim() || null,
        subject: decodeEncodedWords(text(env[1]) ?? ''),
        from: addresses(env[2])[0] ?? null,
        to: addresses(env[5]),
        cc: addresses(env[6]),
        bcc: addresses(env[7]),
        replyTo: addresses(env[4]),
        inReplyTo: text(env[8])?.trim() || null,
        references: parseReferences(section ? rawHeaderField(section, 'references') : null),
        date: (envelopeDate ? validDate(envelopeDate) : null) ?? internalDate,
        internalDate,
        size,
        flags: flagsFromImap(Array.isArray(flags) ? flags.map((f) => text(f) ?? '').filter(Boolean) : []),
        hasAttachments: hasAttachments(structureNode(attributes.get('BODYSTRUCTURE'))),
        // Only whole messages are stored: a partial one is fetched live when read.
        raw: source && source.length >= size ? source : null,
        bodyText: source ? extractIndexText(source) : null,
      },
      folders: [{ folder, uid }],
    },
    uid,
    bytes: section?.length ?? 0,
  };
}
