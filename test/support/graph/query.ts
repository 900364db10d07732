// Graph's OData query options over messages, as Exchange takes them: $filter (comparisons,
// and/or/not, parentheses, startswith), $orderby, $select, and $search in KQL (bare words,
// from:/to:/cc:/bcc:/subject:/body:/participants:/attachment:, quoted phrases, AND/OR/NOT). What
// Graph refuses is refused here with its error: unknown properties, syntax errors, $search
// combined with $filter or $orderby, and the "InefficientFilter" rule for $filter with $orderby.
import { GraphError, badRequest } from './errors.js';

export type Value = boolean | string | number | null;
type PropType = 'bool' | 'string' | 'date';

/** Filterable and sortable message properties (paths as Graph writes them) and their types. */
export const MESSAGE_PROPERTIES: Record<string, PropType> = {
  id: 'string',
  isRead: 'bool',
  isDraft: 'bool',
  hasAttachments: 'bool',
  'flag/flagStatus': 'string',
  receivedDateTime: 'date',
  sentDateTime: 'date',
  createdDateTime: 'date',
  lastModifiedDateTime: 'date',
  subject: 'string',
  internetMessageId: 'string',
  conversationId: 'string',
  parentFolderId: 'string',
  importance: 'string',
  inferenceClassification: 'string',
  'from/emailAddress/address': 'string',
  'from/emailAddress/name': 'string',
  'sender/emailAddress/address': 'string',
  'sender/emailAddress/name': 'string',
};

const EDM: Record<PropType | 'null' | 'number', string> = { bool: 'Edm.Boolean', string: 'Edm.String', date: 'Edm.DateTimeOffset', null: 'null', number: 'Edm.Int32' };

/** Graph's answer for a property the type does not have (in $filter, $orderby or $select). */
export const noProperty = (name: string, type = 'microsoft.graph.message') => badRequest(`Could not find a property named '${name}' on type '${type}'.`);

// ---- $filter

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; expr: Filter }
  | { op: 'cmp'; path: string; cmp: Comparison; value: Value }
  | { op: 'startswith'; path: string; value: string };

interface Token {
  kind: 'ident' | 'string' | 'literal' | 'punct';
  text: string;
  value?: Value;
  at: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)|('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)(?![\w-])|([A-Za-z_][\w]*(?:\/[A-Za-z_]\w*)*)|([(),])/y;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw badRequest(`Invalid filter clause: Syntax error at position ${at} in '${text}'.`);
    if (m[1]) tokens.push({ kind: 'literal', text: m[1], value: m[1], at });
    else if (m[2]) tokens.push({ kind: 'string', text: m[2], value: m[2].slice(1, -1).replace(/''/g, "'"), at });
    else if (m[3]) tokens.push({ kind: 'literal', text: m[3], value: Number(m[3]), at });
    else if (m[4]) tokens.push({ kind: 'ident', text: m[4], at });
    else if (m[5]) tokens.push({ kind: 'punct', text: m[5], at });
    at = re.lastIndex;
  }
  return tokens;
}

/** Parses a $filter for messages; throws Graph's 400 for what it would refuse. */
export function parseFilter(text: string, properties: Record<string, PropType> = MESSAGE_PROPERTIES): Filter {
  const tokens = tokenize(text);
  let i = 0;
  const syntax = (): GraphError => badRequest(`Invalid filter clause: Syntax error at position ${tokens[i]?.at ?? text.length} in '${text}'.`);
  const peek = (word?: string) => (word === undefined ? tokens[i] : tokens[i]?.kind === 'ident' && tokens[i]!.text.toLowerCase() === word ? tokens[i] : undefined);
  const expect = (punct: string) => {
    if (tokens[i]?.kind !== 'punct' || tokens[i]!.text !== punct) throw syntax();
    i++;
  };
  const property = (): [string, PropType] => {
    const t = tokens[i];
    if (t?.kind !== 'ident') throw syntax();
    i++;
    const name = Object.keys(properties).find((p) => p.toLowerCase() === t.text.toLowerCase());
    if (!name) throw noProperty(t.text.split('/')[0]!);
    return [name, properties[name]!];
  };
  const literal = (): [Value, PropType | 'null' | 'number'] => {
    const t = tokens[i++];
    if (!t) throw syntax();
    if (t.kind === 'string') return [t.value as string, 'string'];
    if (t.kind === 'literal') return typeof t.value === 'number' ? [t.value, 'number'] : [t.value as string, 'date'];
    if (t.kind === 'ident' && (t.text === 'true' || t.text === 'false')) return [t.text === 'true', 'bool'];
    if (t.kind === 'ident' && t.text === 'null') return [null, 'null'];
    i--;
    throw syntax();
  };
  const primary = (): Filter => {
    if (peek('not')) {
      i++;
      return { op: 'not', expr: primary() };
    }
    if (tokens[i]?.kind === 'punct' && tokens[i]!.text === '(') {
      i++;
      const inner = or();
      expect(')');
      return inner;
    }
    const fn = peek();
    if (fn?.kind === 'ident' && tokens[i + 1]?.text === '(') {
      if (fn.text.toLowerCase() !== 'startswith') throw badRequest(`An unknown function with name '${fn.text}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.`);
      i += 2;
      const [path, type] = property();
      expect(',');
      const [value, vtype] = literal();
      expect(')');
      if (type !== 'string' || vtype !== 'string') throw badRequest(`Invalid filter clause: startswith takes a string property and a string.`);
      return { op: 'startswith', path, value: value as string };
    }
    const [path, type] = property();
    const opToken = tokens[i++];
    const cmp = opToken?.kind === 'ident' ? opToken.text.toLowerCase() : '';
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(cmp)) {
      i--;
      throw syntax();
    }
    const [value, vtype] = literal();
    if (vtype !== 'null' && vtype !== type) {
      throw badRequest(`A binary operator with incompatible types was detected. Found operand types '${EDM[type]}' and '${EDM[vtype]}' for operator kind '${cmp}'.`);
    }
    return { op: 'cmp', path, cmp: cmp as Comparison, value: type === 'date' && typeof value === 'string' ? Date.parse(value) : value };
  };
  const and = (): Filter => {
    let left = primary();
    while (peek('and')) {
      i++;
      left = { op: 'and', left, right: primary() };
    }
    return left;
  };
  const or = (): Filter => {
    let left = and();
    while (peek('or')) {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const filter = or();
  if (i < tokens.length) throw syntax();
  return filter;
}

/** Properties of a filter in the order they first appear (for the InefficientFilter rule). */
export function filterProperties(filter: Filter): string[] {
  const out: string[] = [];
  const walk = (f: Filter) => {
    switch (f.op) {
      case 'and':
      case 'or':
        walk(f.left);
        walk(f.right);
        break;
      case 'not':
        walk(f.expr);
        break;
      default:
        if (!out.includes(f.path)) out.push(f.path);
    }
  };
  walk(filter);
  return out;
}

/** `get` gives a property's value for the item: booleans, strings, dates as epoch ms. */
export function matches(filter: Filter, get: (path: string) => Value): boolean {
  switch (filter.op) {
    case 'and':
      return matches(filter.left, get) && matches(filter.right, get);
    case 'or':
      return matches(filter.left, get) || matches(filter.right, get);
    case 'not':
      return !matches(filter.expr, get);
    case 'startswith': {
      const v = get(filter.path);
      return typeof v === 'string' && v.toLowerCase().startsWith(filter.value.toLowerCase());
    }
    case 'cmp': {
      const c = compare(get(filter.path), filter.value);
      if (c === null) return filter.cmp === 'ne';
      return { eq: c === 0, ne: c !== 0, gt: c > 0, ge: c >= 0, lt: c < 0, le: c <= 0 }[filter.cmp];
    }
  }
}

/** Strings compare without case, as Exchange does; null only equals null. */
function compare(a: Value, b: Value): number | null {
  if (a === null || b === null) return a === b ? 0 : null;
  if (typeof a === 'string' && typeof b === 'string') {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- $orderby

export interface OrderBy {
  path: string;
  desc: boolean;
}

export function parseOrderBy(text: string): OrderBy[] {
  return text.split(',').map((part) => {
    const [name = '', dir = 'asc', ...rest] = part.trim().split(/\s+/);
    if (rest.length || !/^(asc|desc)$/i.test(dir)) throw badRequest(`Syntax error at position ${text.indexOf(part)} in '${text}'.`);
    const path = Object.keys(MESSAGE_PROPERTIES).find((p) => p.toLowerCase() === name.toLowerCase());
    if (!path) throw noProperty(name.split('/')[0]!);
    return { path, desc: dir.toLowerCase() === 'desc' };
  });
}

/**
 * Exchange's rule for $filter with $orderby: every $orderby property must be in the $filter, in
 * the same order, before any other property there; else 400 InefficientFilter.
 */
export function checkFilterOrder(filter: Filter, orderBy: OrderBy[]): void {
  const props = filterProperties(filter);
  const ok = orderBy.every((o, index) => props[index] === o.path);
  if (!ok) throw new GraphError(400, 'InefficientFilter', 'The restriction or sort order is too complex for this operation.');
}

export function sortBy<T>(items: T[], orderBy: OrderBy[], get: (item: T, path: string) => Value): T[] {
  return [...items].sort((a, b) => {
    for (const o of orderBy) {
      const c = compare(get(a, o.path), get(b, o.path)) ?? (get(a, o.path) === null ? -1 : 1);
      if (c !== 0) return o.desc ? -c : c;
    }
    return 0;
  });
}

// ---- $select

/** Properties of Graph's message a client may $select (v1.0). */
export const MESSAGE_SELECTABLE = [
  'id', 'createdDateTime', 'lastModifiedDateTime', 'changeKey', 'categories', 'receivedDateTime', 'sentDateTime', 'hasAttachments',
  'internetMessageId', 'subject', 'bodyPreview', 'importance', 'parentFolderId', 'conversationId', 'conversationIndex',
  'isDeliveryReceiptRequested', 'isReadReceiptRequested', 'isRead', 'isDraft', 'webLink', 'inferenceClassification', 'body',
  'uniqueBody', 'sender', 'from', 'toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo', 'flag', 'internetMessageHeaders',
] as const;
export const FOLDER_SELECTABLE = ['id', 'displayName', 'parentFolderId', 'childFolderCount', 'unreadItemCount', 'totalItemCount', 'isHidden'] as const;

/** Canonical names of a $select (Graph takes any case); null when there is none. */
export function parseSelect(text: string | null, selectable: readonly string[], type: string): string[] | null {
  if (text === null) return null;
  return text.split(',').map((raw) => {
    const name = raw.trim();
    const known = selectable.find((p) => p.toLowerCase() === name.toLowerCase());
    if (!known) throw noProperty(name, type);
    return known;
  });
}

/** Keeps the selected properties, plus the id and the etag Graph always returns. */
export function applySelect<T extends object>(item: T, select: string[] | null): T {
  if (!select) return item;
  const keep = new Set(['@odata.etag', '@odata.type', 'id', ...select]);
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k))) as T;
}

// ---- $expand

/**
 * The one $expand the mail client needs: `singleValueExtendedProperties($filter=id eq '...')`,
 * MAPI properties by their Graph id ('Integer 0xe08' is PR_MESSAGE_SIZE). Returns the ids asked
 * for (lower-cased; null for all), or undefined without $expand. Anything else is refused.
 */
export function parseExpand(text: string | null): { extendedIds: string[] | null } | undefined {
  if (text === null) return undefined;
  const m = /^\s*singleValueExtendedProperties\s*(?:\(\s*\$filter\s*=\s*(.*)\)\s*)?$/i.exec(text);
  if (!m) throw badRequest(`Parsing OData Select and Expand failed: Could not find a property named '${text.split('(')[0]!.trim()}' on type 'microsoft.graph.message'.`);
  if (m[1] === undefined) return { extendedIds: null };
  const ids = [...m[1].matchAll(/\bid\s+eq\s+'([^']*)'/gi)].map((x) => x[1]!.toLowerCase());
  if (ids.length === 0) throw badRequest(`Invalid filter clause in $expand: '${m[1]}'.`);
  return { extendedIds: ids };
}

// ---- $search (KQL)

export type Kql =
  | { op: 'and' | 'or'; left: Kql; right: Kql }
  | { op: 'not'; expr: Kql }
  | { op: 'term'; prop: string | null; value: string };

/** What KQL looks at in a message: lower-cased texts by property. */
export interface SearchDoc {
  subject: string;
  body: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  attachment: string;
  hasAttachments: boolean;
}

const KQL_PROPS = ['from', 'to', 'cc', 'bcc', 'subject', 'body', 'participants', 'attachment', 'hasattachments', 'hasattachment'];

/**
 * The $search value: Graph wants it in double quotes (`$search="from:ann subject:report"`);
 * phrases inside are written with escaped quotes (`\"exact words\"`).
 */
export function parseSearch(text: string): Kql {
  let q = text.trim();
  if (q.length >= 2 && q.startsWith('"') && q.endsWith('"')) q = q.slice(1, -1).replace(/\\"/g, '"');
  const re = /\s+|(\(|\))|((?:[A-Za-z]+):)?("([^"]*)"|[^\s()"]+)/y;
  const tokens: ({ kind: 'paren'; text: string } | { kind: 'word'; prop: string | null; value: string; quoted: boolean })[] = [];
  let at = 0;
  while (at < q.length) {
    re.lastIndex = at;
    const m = re.exec(q);
    if (!m) throw badRequest(`Syntax error: character '${q[at]}' is not valid at position ${at} in '${text}'.`);
    if (m[1]) tokens.push({ kind: 'paren', text: m[1] });
    else if (m[3]) {
      const prop = m[2] ? m[2].slice(0, -1).toLowerCase() : null;
      const quoted = m[4] !== undefined;
      tokens.push({ kind: 'word', prop: prop && KQL_PROPS.includes(prop) ? prop : null, value: (prop && !KQL_PROPS.includes(prop) ? m[2]! : '') + (quoted ? m[4]! : m[3]), quoted });
    }
    at = re.lastIndex;
  }
  if (tokens.length === 0) throw badRequest('The $search query option requires a non-empty search term.');
  let i = 0;
  const isOp = (word: string) => {
    const t = tokens[i];
    return t?.kind === 'word' && !t.quoted && t.prop === null && t.value === word;
  };
  const primary = (): Kql => {
    const t = tokens[i++];
    if (!t) throw badRequest(`Syntax error in $search '${text}': an operand is missing.`);
    if (t.kind === 'paren') {
      if (t.text !== '(') throw badRequest(`Syntax error in $search '${text}': unbalanced parentheses.`);
      const inner = or();
      const close = tokens[i++];
      if (close?.kind !== 'paren' || close.text !== ')') throw badRequest(`Syntax error in $search '${text}': unbalanced parentheses.`);
      return inner;
    }
    if (!t.quoted && t.prop === null && t.value === 'NOT') return { op: 'not', expr: primary() };
    return { op: 'term', prop: t.prop, value: t.value.toLowerCase() };
  };
  const and = (): Kql => {
    let left = primary();
    for (;;) {
      if (isOp('AND')) i++;
      else if (i >= tokens.length || isOp('OR') || (tokens[i]!.kind === 'paren' && (tokens[i] as { text: string }).text === ')')) return left;
      // Adjacent terms are ANDed, as KQL does.
      left = { op: 'and', left, right: primary() };
    }
  };
  const or = (): Kql => {
    let left = and();
    while (isOp('OR')) {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const query = or();
  if (i < tokens.length) throw badRequest(`Syntax error in $search '${text}'.`);
  return query;
}

/** A term matches at the start of a word (KQL's prefix matching), without case. */
function hasWord(text: string, term: string): boolean {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|[^\\p{L}\\p{N}])${escaped}`, 'u').test(text);
}

export function searchMatches(query: Kql, doc: SearchDoc): boolean {
  switch (query.op) {
    case 'and':
      return searchMatches(query.left, doc) && searchMatches(query.right, doc);
    case 'or':
      return searchMatches(query.left, doc) || searchMatches(query.right, doc);
    case 'not':
      return !searchMatches(query.expr, doc);
    case 'term': {
      const v = query.value;
      switch (query.prop) {
        case null:
          return [doc.subject, doc.body, doc.from, doc.to, doc.cc, doc.attachment].some((t) => hasWord(t, v));
        case 'participants':
          return [doc.from, doc.to, doc.cc, doc.bcc].some((t) => hasWord(t, v));
        case 'hasattachment':
        case 'hasattachments':
          return doc.hasAttachments === (v === 'true' || v === 'yes');
        default:
          return hasWord(doc[query.prop as keyof Omit<SearchDoc, 'hasAttachments'>], v);
      }
    }
  }
}
