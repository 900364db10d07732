/**
 * Message ids for Microsoft Graph: the immutable ids every request asks for
 * (`Prefer: IdType="ImmutableId"`), printed as they are. They belong to the message for its
 * life in the mailbox, so they survive moves between folders; the folder a ref carries only says
 * where it was listed. Graph's ids are URL-safe base64 (`AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A...`).
 */
import type { IdCodec } from '../../domain/provider.js';

const ID_PATTERN = /^[A-Za-z0-9_\-+/=]{16,512}$/;

export const graphIds: IdCodec = {
  parse(id, folder) {
    return ID_PATTERN.test(id) ? { id, folder } : null;
  },
  hookVariables(ref) {
    return { MAILOPS_GRAPH_ID: ref.id };
  },
};
