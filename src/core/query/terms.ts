/**
 * Turns one word token (`word`, `"a phrase"`, `key:value`) into a query leaf,
 * checking the key and its value.
 */
import type { FlagTest, QueryNode, TextField } from '../../domain/query.js';
import { DATE_FORMS_HINT, resolveDay } from './dates.js';
import type { WordToken } from './lexer.js';
import { resolveSize, SIZE_FORMS_HINT } from './sizes.js';
import { querySyntaxError } from './syntax-error.js';

const TEXT_KEYS: Record<string, TextField> = {
  from: 'from',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  subject: 'subject',
  body: 'body',
};

const FLAG_VALUES: Record<string, FlagTest> = {
  unread: 'unread',
  read: 'read',
  flagged: 'flagged',
  unflagged: 'unflagged',
  answered: 'answered',
};

const DATE_KEYS: Record<string, 'since' | 'before'> = { since: 'since', after: 'since', before: 'before' };
const SIZE_KEYS: Record<string, 'larger' | 'smaller'> = { larger: 'larger', smaller: 'smaller' };

export const KNOWN_KEYS = [
  ...Object.keys(TEXT_KEYS),
  'message-id',
  'is',
  'has',
  ...Object.keys(DATE_KEYS),
  ...Object.keys(SIZE_KEYS),
] as const;

export function termNode(query: string, token: WordToken, now: Date): QueryNode {
  const fail = (index: number, problem: string, hint: string): never => {
    throw querySyntaxError(query, index, problem, hint);
  };
  const { key, value } = token;

  if (key === null) {
    if (value.trim() === '') fail(token.start, 'empty phrase', 'put the text to search for between the quotes');
    return { kind: 'text', field: 'any', value };
  }

  if (!KNOWN_KEYS.includes(key as (typeof KNOWN_KEYS)[number])) {
    return fail(
      token.start,
      `unknown key '${key}:'`,
      `known keys: ${KNOWN_KEYS.map((k) => `${k}:`).join(' ')}; to search for the text itself, quote it: ${quoteForHint(token.text)}`,
    );
  }
  if (value.trim() === '') {
    return fail(token.valueStart, `empty value for '${key}:'`, `write ${key}:VALUE with no space after the colon; quote a value with spaces: ${key}:"two words"`);
  }

  const textField = TEXT_KEYS[key];
  if (textField !== undefined) return { kind: 'text', field: textField, value };

  const dateOp = DATE_KEYS[key];
  if (dateOp !== undefined) {
    const date = resolveDay(value, now);
    return date === null ? fail(token.valueStart, `invalid date '${value}'`, DATE_FORMS_HINT) : { kind: 'date', op: dateOp, date };
  }

  const sizeOp = SIZE_KEYS[key];
  if (sizeOp !== undefined) {
    const bytes = resolveSize(value);
    return bytes === null ? fail(token.valueStart, `invalid size '${value}'`, SIZE_FORMS_HINT) : { kind: 'size', op: sizeOp, bytes };
  }

  switch (key) {
    case 'message-id': {
      // Stored with its angle brackets whether or not they were typed: that is how the header carries it.
      const id = value.trim().replace(/^<(.*)>$/, '$1');
      return id === '' ? fail(token.valueStart, `empty value for '${key}:'`, 'write message-id:<id@host>') : { kind: 'message_id', value: `<${id}>` };
    }
    case 'is': {
      const flag = FLAG_VALUES[value.toLowerCase()];
      return flag === undefined
        ? fail(token.valueStart, `unknown value '${value}' for 'is:'`, `use ${listWithOr(Object.keys(FLAG_VALUES).map((f) => `is:${f}`))}`)
        : { kind: 'flag', flag };
    }
    default: {
      // The only key left is has:. The plural is accepted: people type it as often as the singular.
      const lower = value.toLowerCase();
      return lower === 'attachment' || lower === 'attachments'
        ? { kind: 'has_attachment' }
        : fail(token.valueStart, `unknown value '${value}' for 'has:'`, 'use has:attachment');
    }
  }
}

function listWithOr(items: string[]): string {
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

function quoteForHint(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}
