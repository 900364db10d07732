/**
 * The read side of the message cache (the --offline commands): the query
 * language compiled to SQL over `messages` and the FTS5 index `messages_fts`,
 * and the paged listing that runs it over the folders' memberships. The write
 * side is ./cache.ts.
 *
 * Every value from the user travels as a bound parameter; the SQL text is
 * built from fixed pieces only. Each leaf evaluates to 0 or 1, never NULL, so
 * NOT keeps its meaning on messages without a From, a Message-ID or a date.
 *
 * How each term matches (chosen to agree with IMAP SEARCH where it can):
 * - `word` / `"a phrase"` and `body:`: the FTS5 index (unicode61, diacritics
 *   removed), as a phrase whose last word may be a prefix: `report` finds
 *   "report" and "reports", `"quarterly rep"` finds "quarterly report".
 *   Words only match from their start (IMAP's substring search also finds
 *   "misreport"), and a word is searched in the subject, the addresses and
 *   the body text: IMAP TEXT also looks at every other header. A value with
 *   no letters or digits at all (`"!!!"`) has no words for the index and is
 *   matched as a substring of the subject, the addresses and the body text.
 * - `subject:` `from:` `to:` `cc:` `bcc:`: a substring, as IMAP does, of the
 *   subject or of each address written `Name <address>` (so both the name and
 *   the address are searched), case- and diacritic-insensitively.
 * - `message-id:`: equal to the stored Message-ID, angle brackets optional on
 *   both sides, ASCII case-insensitive.
 * - `is:`: the stored flags (seen, flagged, answered), as of the last sync.
 * - `has:attachment`: the attachment marker sync stored from the message's
 *   structure (exact, where IMAP only approximates it with multipart/mixed).
 * - `since:` / `before:`: the day's local midnight compared with the arrival
 *   time (INTERNALDATE, as IMAP SINCE/BEFORE and YOUNGER/OLDER use; the Date
 *   header when there is none); since is inclusive, before exclusive.
 * - `larger:` / `smaller:`: the size in bytes, strictly (as IMAP LARGER/SMALLER).
 */
import { MailopsError } from '../domain/errors.js';
import { dayStart, type FlagTest, type QueryNode, type TextField } from '../domain/query.js';
import type { Database } from './db.js';
import { ENVELOPE_COLUMNS, rowToEnvelope, type CachedEnvelope, type EnvelopeRow } from './cache.js';

/** A piece of SQL and the parameters its `?` placeholders take, in order. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** What a listing returns for one message: the envelope fields, without the stored bytes and text. */
export type { CachedEnvelope };

/** One folder as the cache holds it. */
export interface CachedFolder {
  id: string;
  /** As the folder list last showed it (the id when the list does not have it). */
  path: string;
}

export interface CachePage {
  items: CachedEnvelope[];
  total: number;
}

/** Name of the SQL function the compiled conditions call for substring tests. */
const CONTAINS = 'mailops_contains';

/** Case and diacritics folded away, so `cafe` finds "Café" (as FTS5's remove_diacritics does for words). */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/**
 * unicode61 keeps letters, digits and private-use characters as word
 * characters; a value without any gives FTS5 an empty phrase.
 */
const WORD_CHARACTER = /[\p{L}\p{N}\p{Co}]/u;

/**
 * The FTS5 query for a value: one quoted phrase (a `"` doubled inside it, so
 * `*`, `-`, `:`, NEAR, AND, OR, NOT and parentheses are just text), its last
 * word a prefix when the value ends in one (`rep` finds "report"; `C++` finds
 * the word "C", not every word starting with c). Null when the value has no
 * word to search for.
 */
export function ftsPhrase(value: string): string | null {
  if (!WORD_CHARACTER.test(value)) return null;
  const phrase = `"${value.replace(/"/g, '""')}"`;
  return WORD_CHARACTER.test(Array.from(value).at(-1) ?? '') ? `${phrase} *` : phrase;
}

const FTS_COLUMNS: Record<'any' | 'body', string> = {
  any: '',
  body: 'body : ',
};

/** Fixed SQL per flag test: the flags are columns. */
const FLAG_TESTS: Record<FlagTest, string> = {
  unread: '(m.seen = 0)',
  read: '(m.seen = 1)',
  flagged: '(m.flagged = 1)',
  unflagged: '(m.flagged = 0)',
  answered: '(m.answered = 1)',
};

/** `Name <address>`, or the bare address, from a name and an address column (or JSON fields). */
function addressText(name: string, address: string): string {
  return `CASE WHEN coalesce(${name}, '') = '' THEN coalesce(${address}, '') ELSE ${name} || ' <' || coalesce(${address}, '') || '>' END`;
}

const ADDRESS_LISTS: Record<'to' | 'cc' | 'bcc', string> = { to: 'm.to_json', cc: 'm.cc_json', bcc: 'm.bcc_json' };

/**
 * The WHERE condition for a query over `messages m`; `1` for no query. `messageId` is the column
 * the word and body terms test against their indexes: `m.id`, or a membership's `f.message` (the
 * same id), which lets a folder's walk test them before it reads the message (CacheQuery.page).
 */
export function compileCacheQuery(node: QueryNode | null, messageId: MessageId = 'm.id'): SqlCondition {
  if (node === null) return { sql: '1', params: [] };
  return compileNode(node, messageId);
}

type MessageId = 'm.id' | 'f.message';

function compileNode(node: QueryNode, messageId: MessageId): SqlCondition {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const parts = cheapFirst(node.children.map((child) => compileNode(child, messageId)));
      const joiner = node.kind === 'and' ? ' AND ' : ' OR ';
      return { sql: `(${parts.map((p) => p.sql).join(joiner)})`, params: parts.flatMap((p) => p.params) };
    }
    case 'not': {
      const inner = compileNode(node.child, messageId);
      return { sql: `(NOT ${inner.sql})`, params: inner.params };
    }
    case 'text':
      return compileText(node.field, node.value, messageId);
    case 'message_id':
      return {
        sql: `(trim(coalesce(m.message_id, ''), '<> ') = ? COLLATE NOCASE)`,
        params: [node.value.trim().replace(/^<+|>+$/g, '').trim()],
      };
    case 'flag':
      return { sql: FLAG_TESTS[node.flag], params: [] };
    case 'has_attachment':
      return { sql: '(m.has_attachments = 1)', params: [] };
    case 'date':
      return {
        sql: `(coalesce(coalesce(m.internal_date, m.date) ${node.op === 'since' ? '>=' : '<'} ?, 0))`,
        params: [dayStart(node.date).toISOString()],
      };
    case 'size':
      return { sql: `(m.size ${node.op === 'larger' ? '>' : '<'} ?)`, params: [node.bytes] };
  }
}

/**
 * The terms of an AND or an OR with those that call the substring function (a JavaScript call per
 * row) after the others, each group in the order written. SQLite evaluates the terms in order and
 * stops at the first that decides, so `from:x is:unread since:30d` tests the flag and the date
 * column on every message of the folder and the substring only on the few left (a 40,000-message
 * folder: about a third of the time). The answer is the same in any order: every term is 0 or 1, never NULL.
 */
function cheapFirst(parts: SqlCondition[]): SqlCondition[] {
  const costly = (p: SqlCondition) => p.sql.includes(CONTAINS);
  return [...parts.filter((p) => !costly(p)), ...parts.filter(costly)];
}

function compileText(field: TextField, value: string, messageId: MessageId): SqlCondition {
  if (value === '') {
    // An empty substring matches everything: that would widen a query instead of narrowing it.
    throw new MailopsError('INVALID_VALUE', `empty search text for ${field === 'any' ? 'a word' : `${field}:`}`);
  }
  const needle = foldText(value);
  switch (field) {
    case 'any':
    case 'body': {
      const phrase = ftsPhrase(value);
      if (phrase !== null) {
        return {
          sql: `(${messageId} IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?))`,
          params: [FTS_COLUMNS[field] + phrase],
        };
      }
      const body: SqlCondition = { sql: `(${messageId} IN (SELECT b.id FROM message_bodies b WHERE ${CONTAINS}(b.body_text, ?)))`, params: [needle] };
      if (field === 'body') return body;
      const parts = [...(['subject', 'from', 'to', 'cc', 'bcc'] as const).map((f) => compileText(f, value, messageId)), body];
      return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
    }
    case 'subject':
      return { sql: `(${CONTAINS}(m.subject, ?))`, params: [needle] };
    case 'from':
      return { sql: `(${CONTAINS}(${addressText('m.from_name', 'm.from_address')}, ?))`, params: [needle] };
    case 'to':
    case 'cc':
    case 'bcc':
      return {
        sql: `(EXISTS (SELECT 1 FROM json_each(${ADDRESS_LISTS[field]}) j WHERE ${CONTAINS}(${addressText(
          "json_extract(j.value, '$.name')",
          "json_extract(j.value, '$.address')",
        )}, ?)))`,
        params: [needle],
      };
  }
}

/** The day's midnight in the local time zone: "today" and `since:2025-01-09` are the user's days. */


const prepared = new WeakSet<Database>();

/** The substring function the compiled conditions use; registered once per connection. */
function registerFunctions(db: Database): void {
  if (prepared.has(db)) return;
  db.function(CONTAINS, { deterministic: true }, (haystack: unknown, needle: unknown) =>
    typeof haystack === 'string' && typeof needle === 'string' && foldText(haystack).includes(needle) ? 1 : 0,
  );
  prepared.add(db);
}

export class CacheQuery {
  constructor(private readonly db: Database) {
    registerFunctions(db);
  }

  /**
   * The folders the cache holds, by id, with their paths from the folder list: every folder with
   * sync state of its own, and under an account-wide feed every listed folder.
   */
  folders(account: string): CachedFolder[] {
    const rows = this.db
      .prepare(
        `SELECT s.scope AS id, coalesce(l.path, s.scope) AS path FROM sync_state s
           LEFT JOIN folders l ON l.account = s.account AND l.id = s.scope
         WHERE s.account = @account AND s.scope <> ''
         UNION
         SELECT l.id, l.path FROM folders l
         WHERE l.account = @account AND l.selectable = 1 AND EXISTS (SELECT 1 FROM sync_state WHERE account = @account AND scope = '')
         ORDER BY path`,
      )
      .all({ account }) as CachedFolder[];
    return rows;
  }

  /**
   * One page of the messages in `folders` (null: the whole account) that match `query`, newest
   * first by arrival, with the total. A message in several of the folders is listed once, in the
   * first of them by id.
   */
  page(account: string, folders: string[] | null, query: QueryNode | null, page: { limit: number; page: number }): CachePage {
    const { from, scope, order, messageId } = listingShape(account, folders, query);
    const condition = compileCacheQuery(query, messageId);
    const listing: SqlCondition = {
      sql: `FROM ${from.sql} WHERE ${scope.sql} AND ${condition.sql}`,
      params: [...from.params, ...scope.params, ...condition.params],
    };
    const count = countFrom(folders, query, listing, scope, condition);
    const total = this.db.prepare(`SELECT count(*) ${count.sql}`).pluck().get(...count.params) as number;
    const rows = this.db
      .prepare(`SELECT ${ENVELOPE_COLUMNS} ${listing.sql} ORDER BY ${order} LIMIT ? OFFSET ?`)
      .all(...listing.params, page.limit, (page.page - 1) * page.limit) as EnvelopeRow[];
    return { items: rows.map(rowToEnvelope), total };
  }

  /**
   * The SQL a query runs (the account and folder as `?`), with its parameters after those two,
   * for `search --offline --explain`.
   */
  explain(query: QueryNode | null, folder: string | null): SqlCondition {
    const folders = folder === null ? null : ['?'];
    const { from, scope, order, messageId } = listingShape('?', folders, query);
    const condition = compileCacheQuery(query, messageId);
    const afterAccountAndFolder = scope.params.slice(folders === null ? 1 : 2);
    return { sql: `SELECT ... FROM ${from.sql} WHERE ${scope.sql} AND ${condition.sql} ORDER BY ${order}`, params: [...afterAccountAndFolder, ...condition.params] };
  }
}

/**
 * What the count reads: no join where the listing's join cannot change it. A folder without a
 * query counts its memberships (each has its message); the whole account counts its messages
 * (each is in a folder); a folder with a query that tests no column of the message (words and
 * body text, tested on the membership's `f.message`) counts its memberships too. Otherwise the
 * listing's own FROM and WHERE.
 *
 * Counting a word's matches in the bench's 40,000-message INBOX read every message of the folder
 * to test its id, one look-up in the messages table each: 72-84 ms in a fresh process, against
 * 20 ms for the memberships alone.
 *
 * A folder's memberships are counted in memberships_by_folder, named: SQLite (without ANALYZE's
 * statistics) took memberships_by_arrival, whose entries carry the arrival and are about twice
 * the size, and counting the bench's 40,000-message INBOX in a fresh process took 16-23 ms
 * there against 6-8 ms here (every `ls --offline` counts its folder).
 */
function countFrom(folders: string[] | null, query: QueryNode | null, listing: SqlCondition, scope: SqlCondition, condition: SqlCondition): SqlCondition {
  if (folders === null) return { sql: `FROM messages m WHERE ${scope.sql} AND ${condition.sql}`, params: [...scope.params, ...condition.params] };
  if (folders.length === 1 && query === null) return { sql: `FROM memberships f INDEXED BY memberships_by_folder WHERE ${scope.sql}`, params: scope.params };
  // The compiled SQL calls the message `m` (its other aliases are b, j and f): without `m.`,
  // the query tests no column of the message.
  if (folders.length === 1 && !/\bm\./.test(condition.sql)) return { sql: `FROM memberships f WHERE ${scope.sql} AND ${condition.sql}`, params: [...scope.params, ...condition.params] };
  return listing;
}

/**
 * Listing order, in one place: newest first by arrival (INTERNALDATE, Gmail's internalDate,
 * Graph's receivedDateTime; the Date header where there is none), as the live `ls` lists with
 * UID SORT (ARRIVAL) and the live `search --all-folders` merges. The membership keeps it
 * (`received`), so a folder's page is a walk down the memberships_by_arrival index. Ties: the
 * higher number first, as SORT read from the end gives them; across folders, folder by folder.
 * (SQLite puts NULLs last in a descending order: messages without any date come last.)
 */
const ORDER_ONE_FOLDER = 'f.received DESC, f.uid DESC, f.message DESC';
const ORDER_SEVERAL = 'f.received DESC, f.folder, f.uid DESC, f.message DESC';

/**
 * The stretch of a folder's arrivals that a query's since: and before: terms leave, when they are
 * its own terms or terms of its top-level AND: conditions on the membership's `received`, the
 * arrival the listing is ordered by (the same internal date, else Date, that the terms compare:
 * MEMBERSHIP_INSERT copies it from the message whenever it writes the membership). A folder's
 * walk of memberships_by_arrival then reads only those memberships: `from:x is:unread since:30d`
 * over a 40,000-message folder read every membership and its message to count the matches
 * (about 40 ms), and now reads a month's. The terms themselves still decide; a term under OR or
 * NOT gives no range.
 */
function arrivalRange(query: QueryNode | null): SqlCondition {
  const terms = query === null ? [] : query.kind === 'and' ? query.children : [query];
  const parts: SqlCondition = { sql: '', params: [] };
  for (const term of terms) {
    if (term.kind !== 'date') continue;
    parts.sql += ` AND f.received ${term.op === 'since' ? '>=' : '<'} ?`;
    parts.params.push(dayStart(term.date).toISOString());
  }
  return parts;
}

/**
 * Where a listing reads from. One folder walks its memberships (the index on folder and number);
 * several, or the whole account, walk the messages, each joined with its first membership among
 * those folders, so a message in two of them is listed once.
 */
function listingShape(account: string, folders: string[] | null, query: QueryNode | null): { from: SqlCondition; scope: SqlCondition; order: string; messageId: MessageId } {
  if (folders !== null && folders.length === 1) {
    const range = arrivalRange(query);
    return {
      from: { sql: 'memberships f JOIN messages m ON m.id = f.message', params: [] },
      scope: { sql: `f.account = ? AND f.folder = ?${range.sql}`, params: [account, folders[0], ...range.params] },
      order: ORDER_ONE_FOLDER,
      // The membership's copy of the id: a word's test runs before the message is read.
      messageId: 'f.message',
    };
  }
  const among = folders === null ? '' : ` AND g.folder IN (${folders.map(() => '?').join(', ') || 'NULL'})`;
  return {
    from: {
      // A message in several folders (Gmail labels) is listed once, under its first folder by id,
      // a folder with the role "all" (All Mail) last: the one search --all-folders names live too.
      sql: `messages m JOIN memberships f ON f.message = m.id AND f.folder = (SELECT g.folder FROM memberships g LEFT JOIN folders r ON r.account = g.account AND r.id = g.folder WHERE g.message = m.id${among} ORDER BY coalesce(r.role = 'all', 0), g.folder LIMIT 1)`,
      params: folders ?? [],
    },
    scope: { sql: 'm.account = ?', params: [account] },
    order: ORDER_SEVERAL,
    messageId: 'm.id',
  };
}
