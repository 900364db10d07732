/**
 * The query checked on an envelope, for the API backends whose server-side search says less than
 * the query (Gmail's `q`, Graph's `$filter` / `$search`): their listing is a superset, and this
 * check takes out what the envelope proves does not match. Three-valued: a term the envelope
 * cannot answer (words, body:, bcc:, and whatever the backend's envelope lacks) is "unknown", and
 * unknown never drops a message. Matching is the offline cache's: substrings, without case.
 */
import { dayStart, type QueryNode } from '../domain/query.js';
import type { Envelope } from '../domain/types.js';

/** What a backend's envelope can be trusted on beyond the headers and flags. */
export interface EnvelopeFacts {
  /** `has_attachments` is the server's word (Graph), not a guess from the media type (Gmail). */
  attachments: boolean;
  /** Whether this envelope's size is known (Graph lists none unless asked for a property). */
  size: (envelope: Envelope) => boolean;
}

export function envelopeMayMatch(query: QueryNode | null, envelope: Envelope, facts: EnvelopeFacts): boolean {
  return query === null || check(query, envelope, facts) !== false;
}

function check(node: QueryNode, e: Envelope, facts: EnvelopeFacts): boolean | null {
  switch (node.kind) {
    case 'and': {
      let result: boolean | null = true;
      for (const child of node.children) {
        const r = check(child, e, facts);
        if (r === false) return false;
        if (r === null) result = null;
      }
      return result;
    }
    case 'or': {
      let result: boolean | null = false;
      for (const child of node.children) {
        const r = check(child, e, facts);
        if (r === true) return true;
        if (r === null) result = null;
      }
      return result;
    }
    case 'not': {
      const r = check(node.child, e, facts);
      return r === null ? null : !r;
    }
    case 'text': {
      const needle = node.value.toLowerCase();
      const has = (text: string) => text.toLowerCase().includes(needle);
      const addresses = (list: Envelope['to']) => list.some((a) => has(a.name) || has(a.address));
      switch (node.field) {
        case 'subject':
          return has(e.subject);
        case 'from':
          return e.from ? has(e.from.name) || has(e.from.address) : false;
        case 'to':
          return addresses(e.to);
        case 'cc':
          return addresses(e.cc);
        default:
          return null;
      }
    }
    case 'message_id': {
      if (e.messageId === null) return null;
      const bare = (v: string) => v.trim().replace(/^<+|>+$/g, '').trim().toLowerCase();
      return bare(e.messageId) === bare(node.value);
    }
    case 'flag':
      switch (node.flag) {
        case 'unread':
          return !e.flags.seen;
        case 'read':
          return e.flags.seen;
        case 'flagged':
          return e.flags.flagged;
        case 'unflagged':
          return !e.flags.flagged;
        case 'answered':
          return e.flags.answered;
      }
      return null;
    case 'has_attachment':
      return facts.attachments ? e.hasAttachments : null;
    case 'date': {
      const at = (e.received ?? e.date)?.getTime();
      if (at === undefined) return null;
      const start = dayStart(node.date).getTime();
      return node.op === 'since' ? at >= start : at < start;
    }
    case 'size':
      if (!facts.size(e)) return null;
      return node.op === 'larger' ? e.size > node.bytes : e.size < node.bytes;
  }
}
