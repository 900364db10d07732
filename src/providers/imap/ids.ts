/**
 * Message ids for IMAP. An id names a message by folder, UIDVALIDITY and UID,
 * which together identify it for as long as it stays in that folder:
 *
 *   base64url(folder path, UTF-8) "." uidvalidity "." uid     e.g.  SU5CT1g.1795245819.42
 *
 * base64url keeps ids free of shell metacharacters, so they can be pasted
 * without quoting; its first character is never '-' (that would need a lead
 * byte of 0xF8 or above, which UTF-8 never produces), so an id never reads as a flag.
 */
import { MailopsError } from '../../domain/errors.js';
import type { IdCodec } from '../../domain/provider.js';
import type { MessageRef } from '../../domain/types.js';

export interface ImapMessageKey {
  folder: string;
  /** Decimal string: UIDVALIDITY is a 32-bit unsigned value, imapflow hands it over as a bigint. */
  uidValidity: string;
  uid: number;
}

const ID_PATTERN = /^([A-Za-z0-9_-]+)\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})$/;
const UINT32_MAX = 0xffff_ffff;

export function encodeMessageId(key: ImapMessageKey): string {
  const folder = Buffer.from(key.folder, 'utf8').toString('base64url');
  return `${folder}.${key.uidValidity}.${key.uid}`;
}

/** Returns null for anything that is not an id this module made. */
export function decodeMessageId(id: string): ImapMessageKey | null {
  const match = ID_PATTERN.exec(id);
  if (!match) return null;
  const [, encodedFolder = '', uidValidity = '', uidText = ''] = match;
  const folderBytes = Buffer.from(encodedFolder, 'base64url');
  const folder = folderBytes.toString('utf8');
  // Buffer.from ignores garbage silently; re-encoding proves the id was well formed and valid UTF-8.
  if (Buffer.from(folder, 'utf8').toString('base64url') !== encodedFolder) return null;
  const uid = Number(uidText);
  if (uid > UINT32_MAX || Number(uidValidity) > UINT32_MAX) return null;
  return { folder, uidValidity, uid };
}

export function refFromKey(key: ImapMessageKey): MessageRef {
  return { id: encodeMessageId(key), folder: key.folder };
}

/** A bare UID the user typed with --folder: the folder's UIDVALIDITY is then unknown and not checked. */
const BARE_UID = /^[0-9]+$/;

/**
 * What the IMAP backend reads out of a ref: the folder, the UID and, for ids `ls` printed, the
 * UIDVALIDITY they were made under (null for a bare UID). Throws MESSAGE_NOT_FOUND otherwise.
 */
export function keyOf(ref: MessageRef): { folder: string; uid: number; uidValidity: string | null } {
  if (BARE_UID.test(ref.id)) {
    const uid = Number(ref.id);
    if (uid >= 1 && uid <= UINT32_MAX) return { folder: ref.folder, uid, uidValidity: null };
    throw messageNotFound(ref.id);
  }
  const key = decodeMessageId(ref.id);
  if (!key) throw messageNotFound(ref.id);
  return key;
}

/** The IMAP id codec (src/providers/registry.ts): what `ls` printed, or a bare UID in `folder`. */
export const imapIds: IdCodec = {
  parse(id: string, folder: string): MessageRef | null {
    const trimmed = id.trim();
    if (BARE_UID.test(trimmed)) {
      const uid = Number(trimmed);
      return uid >= 1 && uid <= UINT32_MAX ? { id: String(uid), folder } : null;
    }
    const key = decodeMessageId(trimmed);
    return key ? refFromKey(key) : null;
  },
  hookVariables(ref: MessageRef): Record<string, string> {
    const key = decodeMessageId(ref.id);
    return key ? { MAILOPS_UIDVALIDITY: key.uidValidity } : {};
  },
};

export function messageNotFound(id: string): MailopsError {
  return new MailopsError('MESSAGE_NOT_FOUND', `no message with id ${id}`, {
    hint: 'ids come from mailops ls or search',
  });
}
