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
 * Why not `$filter` for the rest and the words checked here? The envelope has no body, so words
 * and body: could not be checked at all: every listed message would pass, and a rare word would
 * page through the whole folder. Nor `from/emailAddress/address eq` for a from: that is an
 * address: from: means "contains" over the name and the address, so `eq` would lose
 * joann@example.com for from:ann@example.com; from: goes to `$search` like every text term.
 *
 * Either way the request returns at least what the query means wherever it can say it: a term it
 * cannot say (sizes, is:answered) is left out, and so is any OR around one, or any AND around one
 * under a NOT (NOT (A AND B) is wider than NOT A): leaving out only widens the answer. Then each
 * listed message is checked here against what its envelope answers (providers/envelope-match.ts),
 * so text terms mean the contract's substrings where the envelope has the field. Words are KQL's:
 * whole words and word beginnings. Graph keeps no answered state in v1.0: no message is answered,
 * so is:answered matches none, live as in the cache (the contract's answer for such a backend).
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
  if (mentions(query, (n) => n.kind === 'flag' && n.flag === 'answered')) notes.add(ANSWERED_NOTE);
  if (mentions(query, (n) => n.kind === 'text')) {
    const searchNotes = new Set<string>();
    const search = kql(query, searchNotes, true);
    if (search) {
      notes.add('$search answers at most 1,000 messages, in its own order: they are put newest first here');
      for (const note of searchNotes) notes.add(note);
      if (mentions(query, (n) => n.kind === 'size')) notes.add(SIZE_NOTE);
      return { filter: null, search, orderBy: false, checksLocally: true, notes: [...notes] };
    }
  }
  const exact = { value: true };
  const filter = odata(query, notes, exact);
  return { filter: filter ? `${FILTER_LEAD} and ${filter}` : null, search: null, orderBy: true, checksLocally: !exact.value, notes: [...notes] };
}

const ANSWERED_NOTE = 'Graph keeps no answered state: is:answered matches no message (as in the cache)';
const SIZE_NOTE = 'Graph cannot filter on size: larger:/smaller: are checked here where the listing has the size';

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

function mentions(node: QueryNode, test: (leaf: QueryNode) => boolean): boolean {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.some((c) => mentions(c, test));
    case 'not':
      return mentions(node.child, test);
    default:
      return test(node);
  }
}

/**
 * KQL of the text terms; everything else is left to the local check. `negated` says whether the
 * node sits under an odd number of NOTs: there a term left out of an AND leaves out the whole AND
 * (NOT (A AND B) is wider than NOT A), while a term left out of an OR only drops that branch.
 */
function kql(node: QueryNode, notes: Set<string>, top: boolean, negated = false): string | null {
  switch (node.kind) {
    case 'and': {
      const parts = sayable(node.children.map((c) => kql(c, notes, false, negated)), !negated, notes, '$search');
      if (parts === null) return null;
      return top || parts.length === 1 ? parts.join(' AND ') : `(${parts.join(' AND ')})`;
    }
    case 'or': {
      const parts = sayable(node.children.map((c) => kql(c, notes, false, negated)), negated, notes, '$search');
      if (parts === null) return null;
      return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
    }
    case 'not': {
      const inner = kql(node.child, notes, false, !negated);
      return inner === null ? null : `NOT ${inner}`;
    }
    case 'text': {
      const value = kqlValue(node.value);
      if (value === null) return null;
      notes.add('$search matches whole words and word beginnings (free words in attachment names too), not any part of a word');
      return node.field === 'any' ? value : `${node.field}:${value}`;
    }
    default:
      return null;
  }
}

/**
 * The parts of an AND or OR that the request can say, or null when it must leave the whole out.
 * `dropping`: whether a part it cannot say may simply be left out (an AND outside any NOT, an OR
 * under one: both only widen the answer); otherwise one such part leaves out the whole.
 */
function sayable(parts: (string | null)[], dropping: boolean, notes: Set<string>, where: string): string[] | null {
  const said = parts.filter((p): p is string => p !== null);
  if (said.length === 0) return null;
  if (said.length < parts.length && !dropping) {
    notes.add(`an OR (or a NOT around an AND) with a term ${where} cannot say is checked here only`);
    return null;
  }
  return said;
}

/**
 * A KQL value: a bare word, or a phrase in escaped quotes (the `$search` value is itself quoted).
 * A `"` or `\` inside cannot be said in KQL; it becomes a space, which KQL's words break at too.
 * Anything KQL might read as an operator (a leading `-` or `+`, `*`, AND/OR/NOT) goes in quotes.
 */
function kqlValue(value: string): string | null {
  const clean = value.replace(/["\\]/g, ' ').replace(/\s+/g, ' ').trim();
  if (clean === '') return null;
  return /^[\p{L}\p{N}][\p{L}\p{N}@._'-]*$/u.test(clean) && !/^(AND|OR|NOT|NEAR|ONEAR)$/i.test(clean) ? clean : `\\"${clean}\\"`;
}

/**
 * OData of what `$filter` can say exactly; `exact.value` turns false when anything is left out.
 * `negated` as in `kql`: under a NOT, a term left out of an AND leaves out the whole AND.
 */
function odata(node: QueryNode, notes: Set<string>, exact: { value: boolean }, negated = false): string | null {
  const leftOut = (note?: string): null => {
    exact.value = false;
    if (note) notes.add(note);
    return null;
  };
  switch (node.kind) {
    case 'and': {
      const parts = sayable(node.children.map((c) => odata(c, notes, exact, negated)), !negated, notes, '$filter');
      if (parts === null) return leftOut();
      return parts.length === 1 ? parts[0]! : `(${parts.join(' and ')})`;
    }
    case 'or': {
      const parts = sayable(node.children.map((c) => odata(c, notes, exact, negated)), negated, notes, '$filter');
      if (parts === null) return leftOut();
      return parts.length === 1 ? parts[0]! : `(${parts.join(' or ')})`;
    }
    case 'not': {
      const inner = odata(node.child, notes, exact, !negated);
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
          return leftOut();
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
      return leftOut(SIZE_NOTE);
    case 'text':
      return leftOut();
  }
}

/** An OData string literal: quotes doubled. */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
