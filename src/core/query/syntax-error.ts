/**
 * The one shape of a query syntax error: what is wrong, the 1-based column,
 * and the query echoed with a caret under that column, e.g.
 *
 *   unexpected ')' at column 9
 *     from:bob) x
 *             ^
 */
import { MailopsError } from '../../domain/errors.js';

/** `index` is a UTF-16 offset into `query`; the column counts characters (code points). */
export function querySyntaxError(query: string, index: number, problem: string, hint: string): MailopsError {
  const column = Array.from(query.slice(0, index)).length + 1;
  // Tabs and line breaks would push the caret out of line with the echoed query.
  const shown = query.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const message = `${problem} at column ${column}\n  ${shown}\n  ${' '.repeat(column - 1)}^`;
  return new MailopsError('QUERY_SYNTAX', message, { hint });
}
