/**
 * The `ls` filter flags expressed as a query, so `ls` and `search` go through
 * one path to every backend (and the cache).
 */
import { MailopsError } from '../../domain/errors.js';
import type { QueryNode } from '../../domain/query.js';
import { DATE_FORMS_HINT, resolveDay } from './dates.js';
import { combine } from './parser.js';

export interface ListFilters {
  unread?: boolean;
  since?: string;
  before?: string;
  from?: string;
}

/** The flags ANDed in the order above; null when no filter is set. Throws INVALID_VALUE naming the flag. */
export function queryFromListFilters(filters: ListFilters, options: { now?: Date } = {}): QueryNode | null {
  const now = options.now ?? new Date();
  const terms: QueryNode[] = [];

  if (filters.unread === true) terms.push({ kind: 'flag', flag: 'unread' });
  for (const op of ['since', 'before'] as const) {
    const value = filters[op];
    if (value === undefined) continue;
    const date = resolveDay(value, now);
    if (date === null) {
      throw new MailopsError('INVALID_VALUE', `--${op}: invalid date '${value}'`, { hint: DATE_FORMS_HINT });
    }
    terms.push({ kind: 'date', op, date });
  }
  if (filters.from !== undefined) {
    if (filters.from.trim() === '') {
      throw new MailopsError('INVALID_VALUE', '--from: empty value', { hint: 'give part of the sender address or name: --from alice@example.com' });
    }
    terms.push({ kind: 'text', field: 'from', value: filters.from });
  }

  return terms.length === 0 ? null : combine('and', terms);
}
