/**
 * Query trees compiled to imapflow search objects (`client.search(object,
 * { uid: true })`), and the IMAP command text they become, for `search --explain`.
 *
 * How the tree maps to IMAP SEARCH keys:
 * - text: `any` is TEXT (headers and body), the others FROM TO CC BCC SUBJECT BODY;
 * - message-id: HEADER MESSAGE-ID <id@host>;
 * - has:attachment: IMAP SEARCH cannot see attachments. It is approximated by
 *   HEADER CONTENT-TYPE "multipart/mixed", the usual top-level type of a
 *   message with attachments: it misses attachments inside other multiparts
 *   and matches mixed messages without real attachments. The explain text says so;
 * - flags: SEEN / UNSEEN / FLAGGED / UNFLAGGED / ANSWERED;
 * - dates: SINCE (on or after) and BEFORE (strictly before) with a Date.
 *   imapflow prints a Date as its UTC calendar day, so the day is passed as
 *   UTC midnight and goes on the wire unchanged in any local time zone. When
 *   the server has WITHIN (Dovecot does), imapflow sends YOUNGER/OLDER seconds
 *   counted from the Date instead; the day is then passed as local midnight,
 *   so the boundary is the user's local midnight, as in the cache;
 * - sizes: LARGER/SMALLER, clamped to IMAP's 32-bit numbers (no message is
 *   bigger). imapflow drops a 0 value, so larger:0 becomes ALL and smaller:0
 *   NOT ALL, keeping their meaning;
 * - and: keys side by side; or: OR; not: NOT (imapflow adds the parentheses).
 *
 * A JavaScript object cannot hold a key twice, yet `invoice march` needs
 * TEXT twice. imapflow matches keys case-insensitively, so repeats are spelled
 * `TEXT`, `Text`, ... (the same key to imapflow, a new property to JavaScript),
 * and once the spellings of a key run out the rest of the AND is nested in a
 * one-element `oR: [...]`, which imapflow writes inline. That spelling of `or`
 * is kept for this, so a real OR never takes it.
 */
import { createRequire } from 'node:module';
import type { SearchObject } from 'imapflow';
import { MailopsError } from '../../domain/errors.js';
import type { FlagTest, QueryNode } from '../../domain/query.js';

/** What the server can do, as far as the search command depends on it. */
export interface ImapSearchContext {
  /** Server capabilities; WITHIN and SORT matter. Read more than once: not an iterator. */
  capabilities?: readonly string[];
  /** Extensions ENABLEd on the session (`client.enabled`); UTF8=ACCEPT drops CHARSET UTF-8. */
  enabled?: readonly string[];
}

/** IMAP numbers (RFC 3501 "number") are unsigned 32-bit. */
const IMAP_NUMBER_MAX = 4294967295;
const CONTINUATION_KEY = 'oR';
const ATTACHMENT_CONTENT_TYPE = 'multipart/mixed';

type Builder = Record<string, unknown>;
type Entry = readonly [key: string, value: unknown];
type NonAnd = Exclude<QueryNode, { kind: 'and' }>;

/** The imapflow search object for a query; null searches everything (ALL). */
export function compileImapSearch(node: QueryNode | null, context: ImapSearchContext = {}): SearchObject {
  if (node === null) return { all: true };
  const within = [...(context.capabilities ?? [])].some((name) => name.toUpperCase() === 'WITHIN');
  // The object holds repeated keys in other spellings (see above), which SearchObject's type cannot describe.
  return compileObject(node, within) as SearchObject;
}

function compileObject(node: QueryNode, within: boolean): Builder {
  return node.kind === 'and' ? compileAnd(node.children, within) : Object.fromEntries([compileEntry(node, within)]);
}

function compileAnd(children: QueryNode[], within: boolean): Builder {
  const target: Builder = {};
  const rest: NonAnd[] = [];
  for (const child of andChildren(children)) {
    const [key, value] = compileEntry(child, within);
    const spelling = spellings(key).find((candidate) => candidate !== CONTINUATION_KEY && !(candidate in target));
    if (spelling === undefined) rest.push(child);
    else target[spelling] = value;
  }
  // The first child always fits in a fresh object, so each level shrinks the rest.
  if (rest.length > 0) target[CONTINUATION_KEY] = [compileAnd(rest, within)];
  return target;
}

const FLAG_ENTRIES: Record<FlagTest, Entry> = {
  unread: ['seen', false],
  read: ['seen', true],
  flagged: ['flagged', true],
  unflagged: ['flagged', false],
  answered: ['answered', true],
};

/** The one search key of a node. */
function compileEntry(node: NonAnd, within: boolean): Entry {
  switch (node.kind) {
    case 'or':
      return ['or', orChildren(node.children).map((child) => compileObject(child, within))];
    case 'not':
      return ['not', compileObject(node.child, within)];
    case 'text':
      if (node.value === '') {
        // imapflow silently drops an empty string, which would widen a `move --query` to every message.
        throw new MailopsError('INVALID_VALUE', `empty search text for ${node.field === 'any' ? 'a word' : `${node.field}:`}`);
      }
      return [node.field === 'any' ? 'text' : node.field, node.value];
    case 'message_id':
      return ['header', { 'message-id': node.value }];
    case 'has_attachment':
      return ['header', { 'content-type': ATTACHMENT_CONTENT_TYPE }];
    case 'flag':
      return FLAG_ENTRIES[node.flag];
    case 'date':
      return [node.op, dayToDate(node.date, within)];
    case 'size':
      if (node.bytes === 0) return node.op === 'larger' ? ['all', true] : ['not', { all: true }];
      return [node.op, Math.min(node.bytes, IMAP_NUMBER_MAX)];
  }
}

/** Children of an AND with nested ANDs spliced in (the parser flattens; hand-built trees may not be). */
function andChildren(children: QueryNode[]): NonAnd[] {
  return children.flatMap((child) => (child.kind === 'and' ? andChildren(child.children) : [child]));
}

function orChildren(children: QueryNode[]): QueryNode[] {
  return children.flatMap((child) => (child.kind === 'or' ? orChildren(child.children) : [child]));
}

function dayToDate(day: string, localMidnight: boolean): Date {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const result = new Date(0);
  if (localMidnight) {
    result.setFullYear(year, month - 1, date);
    result.setHours(0, 0, 0, 0);
  } else {
    result.setUTCFullYear(year, month - 1, date);
  }
  return result;
}

/** Every upper/lower-case spelling of a key: as given, all capitals, capitalised, then the rest. */
function spellings(key: string): string[] {
  const letters = [...key.toLowerCase()];
  const variants = new Set([key.toLowerCase(), key.toUpperCase(), key.charAt(0).toUpperCase() + key.slice(1).toLowerCase()]);
  for (let mask = 0; mask < 2 ** letters.length; mask++) {
    variants.add(letters.map((ch, i) => (mask & (1 << i) ? ch.toUpperCase() : ch)).join(''));
  }
  return [...variants];
}

/* ---------------------------------------------------------------- explain */

interface ImapAtom {
  type: string;
  value: string;
}
type ImapAttribute = ImapAtom | ImapAttribute[];

interface SearchCompilerConnection {
  capabilities: Map<string, unknown>;
  enabled: Set<string>;
  mailbox: { flags: Set<string> };
}

interface ImapflowInternals {
  searchCompiler: (connection: SearchCompilerConnection, query: SearchObject) => ImapAttribute[];
  atomChars: string;
}

let internals: ImapflowInternals | null = null;

/**
 * imapflow's own search compiler and atom alphabet (imapflow is pinned, so
 * these internal paths are stable), loaded on first use so that commands
 * which never explain do not load them.
 */
function imapflowInternals(): ImapflowInternals {
  if (internals === null) {
    const require = createRequire(import.meta.url);
    const { searchCompiler } = require('imapflow/lib/search-compiler.js') as Pick<ImapflowInternals, 'searchCompiler'>;
    const syntax = require('imapflow/lib/handler/imap-formal-syntax.js') as { 'ATOM-CHAR': () => string };
    internals = { searchCompiler, atomChars: syntax['ATOM-CHAR']() };
  }
  return internals;
}

/**
 * The command the server receives for this query (without the tag), e.g.
 * `UID SEARCH UNSEEN FROM alice`, built by imapflow's own search compiler.
 * Approximations are explained on the lines after it, each starting with `#`.
 */
export function explainImapSearch(node: QueryNode | null, context: ImapSearchContext = {}): string {
  const { atomChars } = imapflowInternals();
  const { command, attributes } = imapListCommand(node, context);
  const lines = [`${command} ${formatAttributes(attributes, atomChars)}`];
  if (node !== null && mentions(node, 'has_attachment')) {
    lines.push(
      `# has:attachment is approximated by HEADER CONTENT-TYPE "${ATTACHMENT_CONTENT_TYPE}": IMAP SEARCH cannot test for attachments, so this misses attachments inside other multipart types and matches mixed messages without any`,
    );
  }
  return lines.join('\n');
}

/**
 * The command that lists a folder by arrival: `UID SORT (ARRIVAL) UTF-8 ...` where the server has
 * SORT, so a mailbox migrated out of date order (imapsync, doveadm import, APPEND with the
 * original date) is still listed by arrival date (INTERNALDATE); else `UID SEARCH`. Either way the
 * caller reverses the answer for newest first. Not `REVERSE ARRIVAL`: RFC 5256 breaks ties by
 * sequence number ascending and REVERSE does not reverse that, so messages that arrived in the
 * same second (INTERNALDATE has seconds) would list oldest first. The search key is imapflow's own.
 */
export function imapListCommand(node: QueryNode | null, context: ImapSearchContext = {}): { command: 'UID SORT' | 'UID SEARCH'; attributes: ImapAttribute[] } {
  const { searchCompiler } = imapflowInternals();
  const capabilities = new Map([...(context.capabilities ?? [])].map((name) => [name.toUpperCase(), true]));
  const connection: SearchCompilerConnection = { capabilities, enabled: new Set(context.enabled ?? []), mailbox: { flags: new Set() } };
  const criteria = searchCompiler(connection, compileImapSearch(node, context));
  if (!capabilities.has('SORT')) return { command: 'UID SEARCH', attributes: criteria };
  // SORT always names a charset (RFC 5256 3); the search compiler adds one only for non-ASCII text.
  const charsetGiven = criteria.length >= 2 && !Array.isArray(criteria[0]) && criteria[0]!.value.toUpperCase() === 'CHARSET';
  const keys = charsetGiven ? criteria.slice(2) : criteria;
  const atom = (value: string): ImapAtom => ({ type: 'ATOM', value });
  return { command: 'UID SORT', attributes: [[atom('ARRIVAL')], atom('UTF-8'), ...(keys.length ? keys : [atom('ALL')])] };
}

/** What `search --explain` adds about the order a listing comes in. */
export function explainListOrder(context: ImapSearchContext): string {
  return imapListCommand(null, context).command === 'UID SORT'
    ? '# read from the end: newest first by arrival, the last added first among messages of the same second'
    : '# this server has no SORT (RFC 5256): messages are listed by UID, the order they were added to the folder, which is not their arrival date in a migrated or restored mailbox';
}

function mentions(node: QueryNode, kind: QueryNode['kind']): boolean {
  if (node.kind === kind) return true;
  if (node.kind === 'and' || node.kind === 'or') return node.children.some((child) => mentions(child, kind));
  return node.kind === 'not' && mentions(node.child, kind);
}

/**
 * Writes attributes as imapflow's wire compiler does (lib/handler/imap-compiler.js,
 * which is async and so cannot serve a synchronous explain): lists in
 * parentheses, atoms bare when every character is an ATOM-CHAR and otherwise
 * as a quoted string with `"` and `\` escaped.
 */
function formatAttributes(attributes: ImapAttribute[], atomChars: string): string {
  return attributes
    .map((attribute) => {
      if (Array.isArray(attribute)) return `(${formatAttributes(attribute, atomChars)})`;
      const { value } = attribute;
      if (attribute.type === 'SEQUENCE') return value;
      const checked = value.startsWith('\\') ? value.slice(1) : value;
      const isAtom = value !== '' && [...checked].every((ch) => atomChars.includes(ch));
      return isAtom ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
    })
    .join(' ');
}
