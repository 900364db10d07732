/**
 * The query language compiled to Microsoft Graph's message listing, and the part of it checked
 * here instead. Graph takes OData `$filter` or KQL `$search`, never both in one request, and no
 * `$orderby` with `$search`; so one of them is chosen:
 *
 * - A query with words (text terms: words, from:, to:, cc:, bcc:, subject:, body:) goes to
 *   `$search`: KQL is the only way Graph matches text. Only the text terms go there; every other
 *   term is checked here on the envelope, where it is exact (flags, dates, attachments, sizes,
 *   Message-ID). `$search` answers at most 1,000 messages in its own order: the provider reads
 *   them all and puts them newest first.
 * - Any other query goes to `$filter` with `$orderby=receivedDateTime desc`: read and flag state,
 *   attachments, dates (from the local midnight the cache uses), Message-ID. `receivedDateTime`
 *   leads the filter, as Graph asks of a filter sorted by a property it does not start with.
 *
 * Either way the request returns at least what the query means wherever it can say it: a term it
 * cannot say (sizes, is:answered: Graph keeps no answered state) is left out, and so is any OR
 * or NOT around one, which only widens the answer; then each listed message is checked here
 * against what its envelope answers (providers/envelope-match.ts), so text terms mean the
 * contract's substrings where the envelope has the field. Words are KQL's: whole words and word
 * beginnings.
 */
import type { QueryNode } from '../../domain/query.js';
import { dayStart } from '../../domain/query.js';
import type { Envelope } from '../../domain/types.js';
import { envelopeMayMatch, type EnvelopeFacts } from '../envelope-match.js';

export interface GraphQuery {
  /** OData `$filter`, or null. */
  filter: string | null;
  /** KQL for `$search` (quotes inside escaped `\"`, without the surrounding quotes), or null. Never set with `filter`. */
  search: string | null;
  /** Whether `$orderby=receivedDateTime desc` may be sent (false with `$search`). */
  orderBy: boolean;
  /** Whether the local check can drop anything (false: the request says it all). */
  checksLocally: boolean;
  /** What the request does not say exactly, for --explain. */
  notes: string[];
}

/** What a `$filter` sorted by receivedDateTime must start with (Graph: "the restriction or sort order is too complex" otherwise). */
export const FILTER_LEAD = 'receivedDateTime ge 1900-01-01T00:00:00Z';

export function compileGraphQuery(query: QueryNode | null): GraphQuery {
  if (!query) return { filter: null, search: null, orderBy: true, checksLocally: false, notes: [] };
  const notes = new Set<string>();
  if (hasText(query)) {
    const search = kql(query, notes, true);
    if (search) {
      notes.add('$search answers at most 1,000 messages, in its own order: they are put newest first here');
      return { filter: null, search, orderBy: false, checksLocally: true, notes: [...notes] };
    }
  }
  const exact = { value: true };
  const filter = odata(query, notes, exact);
  return { filter: filter ? `${FILTER_LEAD} and ${filter}` : null, search: null, orderBy: true, checksLocally: !exact.value, notes: [...notes] };
}

/** The --explain text: what is sent, and what is checked here. */
export function explainGraphQuery(query: QueryNode | null, folderId: string): string {
  const compiled = compileGraphQuery(query);
  const params = compiled.search !== null ? [`$search="${compiled.search}"`] : [...(compiled.filter ? [`$filter=${compiled.filter}`] : []), '$orderby=receivedDateTime desc', '$count=true'];
  const lines = [`GET /v1.0/me/mailFolders/${folderId}/messages?${params.join('&')}`];
  lines.push(compiled.search !== null ? 'order: newest first by receivedDateTime, sorted here ($search has its own order)' : "order: newest first by receivedDateTime (Graph's $orderby)");
  if (compiled.checksLocally) lines.push("checked here on each message's envelope: flags, dates, attachments, sizes, from/to/cc/subject as substrings, message-id");
  for (const note of compiled.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

/** Whether an envelope can match (three-valued: what it cannot answer never drops a message). */
export function mayMatch(query: QueryNode | null, envelope: Envelope): boolean {
  return envelopeMayMatch(query, envelope, GRAPH_FACTS);
}

/** Graph says whether a message has attachments; its size only when the listing asked for PR_MESSAGE_SIZE. */
const GRAPH_FACTS: EnvelopeFacts = { attachments: true, size: (e) => e.size > 0 };

function hasText(node: QueryNode): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.some(hasText);
    case 'not':
      return hasText(node.child);
    case 'text':
      return true;
    default:
      return false;
  }
}

/** KQL of the text terms; everything else is left to the local check (null inside an AND, which widens). */
function kql(node: QueryNode, notes: Set<string>, top: boolean): string | null {
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map((c) => kql(c, notes, false)).filter((p): p is string => p !== null);
      if (parts.length === 0) return null;
      return top || parts.length === 1 ? parts.join(' AND ') : `(${parts.join(' AND ')})`;
    }
    case 'or': {
      const parts = node.children.map((c) => kql(c, notes, false));
      if (parts.some((p) => p === null)) {
        notes.add('an OR with a term $search cannot say is checked here only');
        return null;
      }
      return `(${parts.join(' OR ')})`;
    }
    case 'not': {
      const inner = kql(node.child, notes, false);
      return inner === null ? null : `NOT ${inner}`;
    }
    case 'text': {
      const value = kqlValue(node.value);
      if (value === null) return null;
      switch (node.field) {
        case 'any':
          notes.add('$search matches words and word beginnings, not any part of a word');
          return value;
        default:
          return `${node.field}:${value}`;
      }
    }
    default:
      return null;
  }
}

/** A KQL value: a bare word, or a phrase in escaped quotes (the `$search` value is itself quoted). */
function kqlValue(value: string): string | null {
  const clean = value.replace(/["\\]/g, '').trim();
  if (clean === '') return null;
  return /^[^\s():]+$/.test(clean) && !/^(AND|OR|NOT)$/i.test(clean) ? clean : `\\"${clean}\\"`;
}

/** OData of what `$filter` can say exactly; `exact.value` turns false when anything is left out. */
function odata(node: QueryNode, notes: Set<string>, exact: { value: boolean }): string | null {
  const leftOut = (note?: string): null => {
    exact.value = false;
    if (note) notes.add(note);
    return null;
  };
  switch (node.kind) {
    case 'and': {
      const parts = node.children.map((c) => odata(c, notes, exact)).filter((p): p is string => p !== null);
      if (parts.length === 0) return null;
      return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`;
    }
    case 'or': {
      const parts = node.children.map((c) => odata(c, notes, exact));
      if (parts.some((p) => p === null)) return leftOut('an OR with a term $filter cannot say is checked here only');
      return `(${parts.join(' or ')})`;
    }
    case 'not': {
      const inner = odata(node.child, notes, exact);
      return inner === null ? leftOut() : `not (${inner})`;
    }
    case 'flag':
      switch (node.flag) {
        case 'unread':
          return 'isRead eq false';
        case 'read':
          return 'isRead eq true';
        case 'flagged':
          return "flag/flagStatus eq 'flagged'";
        case 'unflagged':
          return "flag/flagStatus ne 'flagged'";
        case 'answered':
          return leftOut('Graph keeps no answered state: is:answered matches no message');
      }
      return leftOut();
    case 'has_attachment':
      return 'hasAttachments eq true';
    case 'date': {
      const at = dayStart(node.date).toISOString().replace(/\.000Z$/, 'Z');
      return node.op === 'since' ? `receivedDateTime ge ${at}` : `receivedDateTime lt ${at}`;
    }
    case 'message_id':
      return `internetMessageId eq ${literal(`<${node.value.trim().replace(/^<+|>+$/g, '').trim()}>`)}`;
    case 'size':
      return leftOut('Graph cannot filter on size: larger:/smaller: are checked here');
    case 'text':
      return leftOut();
  }
}

/** An OData string literal: quotes doubled. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
