/**
 * The search query tree. The parser (src/core/query) builds it once; each
 * backend compiles it (IMAP SEARCH, Gmail q=, Graph $filter/$search, SQL+FTS5).
 */

export type TextField = 'any' | 'from' | 'to' | 'cc' | 'bcc' | 'subject' | 'body';
export type FlagTest = 'unread' | 'read' | 'flagged' | 'unflagged' | 'answered';

export type QueryNode =
  | { kind: 'and'; children: QueryNode[] }
  | { kind: 'or'; children: QueryNode[] }
  | { kind: 'not'; child: QueryNode }
  | { kind: 'text'; field: TextField; value: string }
  | { kind: 'message_id'; value: string }
  | { kind: 'flag'; flag: FlagTest }
  | { kind: 'has_attachment' }
  /** `date` is a calendar day, YYYY-MM-DD. since: on or after; before: strictly before. */
  | { kind: 'date'; op: 'since' | 'before'; date: string }
  | { kind: 'size'; op: 'larger' | 'smaller'; bytes: number };

/** When a query's calendar day (YYYY-MM-DD) begins: local midnight, in the cache and on every backend. */
export function dayStart(day: string): Date {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const result = new Date(0);
  result.setFullYear(year, month - 1, date);
  result.setHours(0, 0, 0, 0);
  return result;
}
