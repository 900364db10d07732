/**
 * Message ids for the Gmail API: Gmail's own message ids (hex, `18c2f0a1b2c3d4e5`), printed as
 * they are. They belong to the message, not to a label, so they survive label changes, moves and
 * the trash; the folder a ref carries only says which label a `move` takes off.
 */
import type { IdCodec } from '../../domain/provider.js';

const ID_PATTERN = /^[0-9a-f]{6,32}$/i;

export const gmailIds: IdCodec = {
  parse(id, folder) {
    return ID_PATTERN.test(id) ? { id: id.toLowerCase(), folder } : null;
  },
  hookVariables(ref) {
    return { MAILOPS_GMAIL_ID: ref.id };
  },
};
