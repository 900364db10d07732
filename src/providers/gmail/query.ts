/**
 * The query language compiled to Gmail's `q`, and the part of it checked here instead.
 *
 * `q` is made so that Gmail returns at least what the query means wherever it can say it: a
 * term `q` cannot say (is:answered: Gmail has no such state) is left out of it, and so is any OR
 * or NOT around one, which only widens the answer. Dates go as epoch seconds (Gmail reads
 * `YYYY/MM/DD` as midnight Pacific time), from the local midnight the cache uses too.
 *
 * Then every listed message is checked here against the terms its envelope can answer (flags,
 * dates, sizes, From/To/Cc/Subject as substrings, Message-ID), so the answer means what the
 * contract says where Gmail's matching differs (to: there includes Cc and Bcc; words match whole
 * words). Terms the envelope cannot answer (words, body:, bcc:, has:attachment) are Gmail's
 * word: a check that cannot tell never drops a message.
 */
import type { QueryNode } from '../../domain/query.js';
import { dayStart } from '../../domain/query.js';
import type { Envelope } from '../../domain/types.js';
import { envelopeMayMatch, type EnvelopeFacts } from '../envelope-match.js';

export interface GmailQuery {
  /** For messages.list; '' for none. */
  q: string;
  /** Whether the local check can drop anything (false: `q` says it all). */
  checksLocally: boolean;
  /** What `q` does not say exactly, for --explain. */
  notes: string[];
}

export function compileGmailQuery(query: QueryNode | null): GmailQuery {
  if (!query) return { q: '', checksLocally: false, notes: [] };
  const notes = new Set<string>();
  const q = compile(query, notes, true) ?? '';
  return { q, checksLocally: true, notes: [...notes] };
}

/** The --explain text: what is sent, and what is checked here. */
export function explainGmailQuery(query: QueryNode | null, labelIds: string[]): string {
  const { q, notes } = compileGmailQuery(query);
  const lines = [`GET /gmail/v1/users/me/messages?${labelIds.map((l) => `labelIds=${l}&`).join('')}q=${q}`];
  lines.push('order: newest first by internalDate (Gmail\'s own order)');
  if (query) lines.push('checked here on each message\'s envelope: flags, dates, sizes, from/to/cc/subject as substrings, message-id');
  for (const note of notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

/**
 * `negated`: the node sits under an odd number of NOTs. There a term left out of an AND leaves
 * out the whole AND (NOT (A AND B) is wider than NOT A: `-(kiwi is:answered)` must not become
 * `-kiwi`), as a term left out of an OR does elsewhere.
 */
function compile(node: QueryNode, notes: Set<string>, top: boolean, negated = false): string | null {
  switch (node.kind) {
    case 'and': {
      const compiled = node.children.map((c) => compile(c, notes, top && !negated, negated));
      if (negated && compiled.some((p) => p === null)) {
        notes.add('a NOT around a term Gmail cannot search is checked here only');
        return null;
      }
      const parts = compiled.filter((p): p is string => p !== null && p !== '');
      if (parts.length === 0) return null;
      return top || parts.length === 1 ? parts.join(' ') : `(${parts.join(' ')})`;
    }
    case 'or': {
      const parts = node.children.map((c) => compile(c, notes, false, negated));
      if (parts.some((p) => p === null)) {
        if (negated) {
          // Under a NOT an OR narrows like an AND: the branches Gmail can say still hold.
          const said = parts.filter((p): p is string => p !== null && p !== '');
          if (said.length > 0) return said.length === 1 ? said[0]! : `{${said.join(' ')}}`;
        }
        notes.add('an OR with a term Gmail cannot search is checked here only');
        return null;
      }
      return `{${parts.join(' ')}}`;
    }
    case 'not': {
      const inner = compile(node.child, notes, false, !negated);
      if (inner === null) return null;
      return `-${inner}`;
    }
    case 'text': {
      const value = quote(node.value);
      switch (node.field) {
        case 'any':
          notes.add('Gmail matches words and word beginnings, not any part of a word');
          return value;
        case 'body':
          notes.add('Gmail has no body: operator; a body: term searches the whole message');
          return value;
        case 'subject':
          return `subject:${value}`;
        case 'from':
          return `from:${value}`;
        case 'to':
          return `to:${value}`;
        case 'cc':
          return `cc:${value}`;
        case 'bcc':
          return `bcc:${value}`;
      }
      return value;
    }
    case 'message_id':
      return `rfc822msgid:${node.value.trim().replace(/^<+|>+$/g, '')}`;
    case 'flag':
      switch (node.flag) {
        case 'unread':
          return 'is:unread';
        case 'read':
          return 'is:read';
        case 'flagged':
          return 'is:starred';
        case 'unflagged':
          return '-is:starred';
        case 'answered':
          notes.add('Gmail keeps no answered state: is:answered matches no message');
          return null;
      }
      return null;
    case 'has_attachment':
      return 'has:attachment';
    case 'date': {
      const epoch = Math.floor(dayStart(node.date).getTime() / 1000);
      // Inclusive since: one second earlier, whatever Gmail's "after" does at the boundary; checked here exactly.
      return node.op === 'since' ? `after:${epoch - 1}` : `before:${epoch}`;
    }
    case 'size':
      return node.op === 'larger' ? `larger:${node.bytes}` : `smaller:${node.bytes}`;
  }
}

function quote(value: string): string {
  return /^[^\s"(){}:-][^\s"(){}:]*$/.test(value) && value !== 'OR' && value !== 'AND' ? value : `"${value.replace(/"/g, '')}"`;
}

/**
 * Whether an envelope can match: false only when the terms the envelope answers rule it out.
 * Gmail's metadata has no parts, so attachments are Gmail's word; its sizeEstimate is always there.
 */
export function mayMatch(query: QueryNode | null, envelope: Envelope): boolean {
  return envelopeMayMatch(query, envelope, GMAIL_FACTS);
}

const GMAIL_FACTS: EnvelopeFacts = { attachments: false, size: () => true };
