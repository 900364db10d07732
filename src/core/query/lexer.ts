/**
 * Splits a query into tokens that remember where they start, so every later
 * error can point at a column.
 *
 * Lexical rules (the choices the spec leaves open are marked):
 * - Whitespace separates terms; `(` and `)` are always tokens of their own
 *   outside quotes (quote a value that contains them).
 * - `"..."` is a phrase; inside it `\"` is a quote and `\\` a backslash, any
 *   other backslash is literal. Tabs and line breaks inside a phrase become
 *   spaces; other control characters are an error anywhere.
 * - `key:value` and `key:"quoted value"`: the key is case-insensitive.
 *   Choice: a word is read as `key:value` when the part before its first `:`
 *   looks like a key (a letter, then letters, digits or hyphens). An unknown
 *   key is then an error rather than silently searched as text, so typos like
 *   `form:alice` are caught; the hint says to quote the word to search for it.
 *   Exception: URLs (`https://host/...`, the value starts with `//`) stay
 *   plain words. Words whose prefix does not look like a key (`10:30`) are text.
 * - `-` directly before a term (or `(`) negates it; a `-` inside a word is
 *   part of the word (`e-mail`).
 * - Operators: `OR` in any case (the spec allows `or`); `NOT` and `AND` only
 *   in capitals, because "not" and "and" are common words people search for.
 *   `AND` is accepted for people used to it; terms are ANDed without it.
 * - A quote may only start a term or follow `key:`, and a closing quote must
 *   end the term: `ab"c"` and `"a"b` are errors, not two silently glued terms.
 */
import { querySyntaxError } from './syntax-error.js';

export interface OperatorToken {
  type: 'lparen' | 'rparen' | 'or' | 'and' | 'not' | 'neg';
  start: number;
  /** As typed, for messages. */
  text: string;
}

export interface WordToken {
  type: 'word';
  start: number;
  /** The whole term as typed, quotes included. */
  text: string;
  /** Lower-cased key without the colon; null for a plain word or phrase. */
  key: string | null;
  /** Unquoted, unescaped value. */
  value: string;
  /** Where the value starts (its opening quote when quoted). */
  valueStart: number;
}

export interface EndToken {
  type: 'end';
  start: number;
  text: '';
}

export type Token = OperatorToken | WordToken | EndToken;

const KEY_SHAPE = /^[a-z][a-z0-9-]*$/i;
const WHITESPACE = /\s/;
/** Control characters that are not whitespace. */
const CONTROL = /[\u0000-\u0008\u000e-\u001f\u007f]/;

export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;

  const fail = (index: number, problem: string, hint: string): never => {
    throw querySyntaxError(query, index, problem, hint);
  };
  const checkControl = (index: number, ch: string) => {
    if (CONTROL.test(ch)) {
      fail(index, `control character U+${ch.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`, 'remove it from the query');
    }
  };

  /** Reads the phrase whose opening quote is at `open`; returns its value and the index after the closing quote. */
  const readQuoted = (open: number): { value: string; end: number } => {
    let value = '';
    let j = open + 1;
    for (;;) {
      const ch = query[j];
      if (ch === undefined) {
        return fail(open, 'unterminated quote', 'close the phrase with a matching " (write \\" for a quote inside it)');
      }
      if (ch === '"') break;
      const next = query[j + 1];
      if (ch === '\\' && (next === '"' || next === '\\')) {
        value += next;
        j += 2;
        continue;
      }
      checkControl(j, ch);
      value += WHITESPACE.test(ch) ? ' ' : ch;
      j += 1;
    }
    const end = j + 1;
    const after = query[end];
    if (after !== undefined && !WHITESPACE.test(after) && after !== '(' && after !== ')') {
      fail(end, `unexpected '${after}' after a closing quote`, 'put a space between the phrase and the next term');
    }
    return { value, end };
  };

  while (i < query.length) {
    const ch = query[i] as string;
    if (WHITESPACE.test(ch)) {
      i += 1;
      continue;
    }
    checkControl(i, ch);

    if (ch === '(' || ch === ')') {
      tokens.push({ type: ch === '(' ? 'lparen' : 'rparen', start: i, text: ch });
      i += 1;
      continue;
    }

    if (ch === '-') {
      const next = query[i + 1];
      if (next === undefined || WHITESPACE.test(next) || next === ')') {
        fail(i, "nothing after '-'", 'write -word, with no space, to exclude a term');
      }
      tokens.push({ type: 'neg', start: i, text: '-' });
      i += 1;
      continue;
    }

    if (ch === '"') {
      const { value, end } = readQuoted(i);
      tokens.push({ type: 'word', start: i, text: query.slice(i, end), key: null, value, valueStart: i });
      i = end;
      continue;
    }

    let end = i;
    while (end < query.length) {
      const c = query[end] as string;
      if (WHITESPACE.test(c) || c === '(' || c === ')' || c === '"') break;
      checkControl(end, c);
      end += 1;
    }
    const run = query.slice(i, end);

    const operator = operatorOf(run);
    if (operator !== null && query[end] !== '"') {
      tokens.push({ type: operator, start: i, text: run });
      i = end;
      continue;
    }

    const colon = run.indexOf(':');
    const prefix = colon > 0 ? run.slice(0, colon) : '';
    const rest = run.slice(colon + 1);
    const isKeyed = KEY_SHAPE.test(prefix) && !rest.startsWith('//');

    if (query[end] === '"') {
      if (!isKeyed || rest !== '') {
        fail(end, `unexpected '"'`, 'a quote may only start a term or follow key: (subject:"two words"); put a space before it');
      }
      const { value, end: after } = readQuoted(end);
      tokens.push({ type: 'word', start: i, text: query.slice(i, after), key: prefix.toLowerCase(), value, valueStart: end });
      i = after;
      continue;
    }

    tokens.push(
      isKeyed
        ? { type: 'word', start: i, text: run, key: prefix.toLowerCase(), value: rest, valueStart: i + colon + 1 }
        : { type: 'word', start: i, text: run, key: null, value: run, valueStart: i },
    );
    i = end;
  }

  tokens.push({ type: 'end', start: query.length, text: '' });
  return tokens;
}

function operatorOf(run: string): 'or' | 'and' | 'not' | null {
  if (run.toLowerCase() === 'or') return 'or';
  if (run === 'AND') return 'and';
  if (run === 'NOT') return 'not';
  return null;
}
