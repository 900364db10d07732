import { describe, expect, test } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import type { QueryNode } from '../../src/domain/query.js';
import { parseQuery } from '../../src/core/query/index.js';

// 9 January 2025, 10:30 local time: local calendar arithmetic is the same in every time zone.
const now = new Date(2025, 0, 9, 10, 30);
const parse = (query: string) => parseQuery(query, { now });

const word = (value: string): QueryNode => ({ kind: 'text', field: 'any', value });
const and = (...children: QueryNode[]): QueryNode => ({ kind: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: 'or', children });
const not = (child: QueryNode): QueryNode => ({ kind: 'not', child });

function syntaxError(query: string): MailopsError {
  try {
    parse(query);
  } catch (error) {
    if (error instanceof MailopsError) return error;
    throw error;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(query)}`);
}

describe('terms', () => {
  test('a bare word and a phrase search all text', () => {
    expect(parse('invoice')).toEqual(word('invoice'));
    expect(parse('"weekly report"')).toEqual(word('weekly report'));
  });

  test.each([
    ['from', 'from'],
    ['to', 'to'],
    ['cc', 'cc'],
    ['bcc', 'bcc'],
    ['subject', 'subject'],
    ['body', 'body'],
  ] as const)('%s: searches that field', (key, field) => {
    expect(parse(`${key}:alice@example.com`)).toEqual({ kind: 'text', field, value: 'alice@example.com' });
  });

  test('a field value may be quoted, and keeps its case and inner spaces', () => {
    expect(parse('subject:"Weekly  Report"')).toEqual({ kind: 'text', field: 'subject', value: 'Weekly  Report' });
    expect(parse('from:"Doe, Jane"')).toEqual({ kind: 'text', field: 'from', value: 'Doe, Jane' });
  });

  test('inside quotes \\" is a quote and \\\\ a backslash; other backslashes stay', () => {
    expect(parse('"say \\"hi\\""')).toEqual(word('say "hi"'));
    expect(parse('subject:"a \\\\ b"')).toEqual({ kind: 'text', field: 'subject', value: 'a \\ b' });
    expect(parse('"C:\\temp\\new"')).toEqual(word('C:\\temp\\new'));
  });

  test('inside quotes, parentheses, operators and keys are plain text', () => {
    expect(parse('"(a OR b)"')).toEqual(word('(a OR b)'));
    expect(parse('"is:unread"')).toEqual(word('is:unread'));
    expect(parse('"OR"')).toEqual(word('OR'));
    expect(parse('"-x"')).toEqual(word('-x'));
  });

  test('tabs and line breaks inside a phrase become spaces', () => {
    expect(parse('"two\tlines\nhere"')).toEqual(word('two lines here'));
  });

  test('a field value runs to the next space and may contain colons and hyphens', () => {
    expect(parse('subject:re:hello')).toEqual({ kind: 'text', field: 'subject', value: 're:hello' });
    expect(parse('from:-bounce')).toEqual({ kind: 'text', field: 'from', value: '-bounce' });
    expect(parse('e-mail')).toEqual(word('e-mail'));
  });

  test('message-id: is stored with angle brackets, typed or not', () => {
    expect(parse('message-id:<id.1@host>')).toEqual({ kind: 'message_id', value: '<id.1@host>' });
    expect(parse('message-id:id.1@host')).toEqual({ kind: 'message_id', value: '<id.1@host>' });
    expect(parse('message-id:"<id.1@host>"')).toEqual({ kind: 'message_id', value: '<id.1@host>' });
  });

  test.each(['unread', 'read', 'flagged', 'unflagged', 'answered'] as const)('is:%s', (flag) => {
    expect(parse(`is:${flag}`)).toEqual({ kind: 'flag', flag });
  });

  test('has:attachment (and the plural)', () => {
    expect(parse('has:attachment')).toEqual({ kind: 'has_attachment' });
    expect(parse('has:attachments')).toEqual({ kind: 'has_attachment' });
  });

  test('since: and after: are both inclusive "since"; before: is "before"', () => {
    expect(parse('since:2024-12-31')).toEqual({ kind: 'date', op: 'since', date: '2024-12-31' });
    expect(parse('after:2024-12-31')).toEqual({ kind: 'date', op: 'since', date: '2024-12-31' });
    expect(parse('before:2024-02-29')).toEqual({ kind: 'date', op: 'before', date: '2024-02-29' });
  });

  test.each([
    ['today', '2025-01-09'],
    ['yesterday', '2025-01-08'],
    ['7d', '2025-01-02'],
    ['2w', '2024-12-26'],
    ['6m', '2024-07-09'],
    ['1y', '2024-01-09'],
    ['0d', '2025-01-09'],
  ])('relative date %s counts back from now', (value, date) => {
    expect(parse(`since:${value}`)).toEqual({ kind: 'date', op: 'since', date });
  });

  test.each([
    ['500K', 512000],
    ['2M', 2097152],
    ['1G', 1073741824],
    ['1.5M', 1572864],
    ['12345', 12345],
    ['10kb', 10240],
  ])('size %s is %d bytes', (value, bytes) => {
    expect(parse(`larger:${value}`)).toEqual({ kind: 'size', op: 'larger', bytes });
    expect(parse(`smaller:${value}`)).toEqual({ kind: 'size', op: 'smaller', bytes });
  });

  test('keys, flag names, date words and size units are case-insensitive', () => {
    expect(parse('FROM:Alice')).toEqual({ kind: 'text', field: 'from', value: 'Alice' });
    expect(parse('Subject:"Hi"')).toEqual({ kind: 'text', field: 'subject', value: 'Hi' });
    expect(parse('IS:UnRead')).toEqual({ kind: 'flag', flag: 'unread' });
    expect(parse('HAS:Attachment')).toEqual({ kind: 'has_attachment' });
    expect(parse('Message-ID:<a@b>')).toEqual({ kind: 'message_id', value: '<a@b>' });
    expect(parse('SINCE:Yesterday BEFORE:7D')).toEqual(
      and({ kind: 'date', op: 'since', date: '2025-01-08' }, { kind: 'date', op: 'before', date: '2025-01-02' }),
    );
    expect(parse('LARGER:2m')).toEqual({ kind: 'size', op: 'larger', bytes: 2097152 });
  });

  test('URLs and words whose prefix is not key-like are plain words', () => {
    expect(parse('https://example.com/a?b=c')).toEqual(word('https://example.com/a?b=c'));
    expect(parse('10:30')).toEqual(word('10:30'));
    expect(parse(':smile:')).toEqual(word(':smile:'));
  });
});

describe('operators and precedence', () => {
  test('terms side by side are ANDed, in order', () => {
    expect(parse('from:alice is:unread invoice')).toEqual(
      and({ kind: 'text', field: 'from', value: 'alice' }, { kind: 'flag', flag: 'unread' }, word('invoice')),
    );
  });

  test('OR in any case; NOT and AND only in capitals', () => {
    expect(parse('a OR b')).toEqual(or(word('a'), word('b')));
    expect(parse('a or b')).toEqual(or(word('a'), word('b')));
    expect(parse('a Or b')).toEqual(or(word('a'), word('b')));
    expect(parse('a AND b')).toEqual(and(word('a'), word('b')));
    expect(parse('NOT a')).toEqual(not(word('a')));
    // Lower-case "not" and "and" are words people search for.
    expect(parse('do not reply')).toEqual(and(word('do'), word('not'), word('reply')));
    expect(parse('terms and conditions')).toEqual(and(word('terms'), word('and'), word('conditions')));
  });

  test('-term and NOT term negate', () => {
    expect(parse('-is:read')).toEqual(not({ kind: 'flag', flag: 'read' }));
    expect(parse('-"out of office"')).toEqual(not(word('out of office')));
    expect(parse('NOT from:bob')).toEqual(not({ kind: 'text', field: 'from', value: 'bob' }));
    expect(parse('--a')).toEqual(not(not(word('a'))));
  });

  test('implicit AND binds tighter than OR', () => {
    expect(parse('a b OR c d')).toEqual(or(and(word('a'), word('b')), and(word('c'), word('d'))));
    expect(parse('a OR b c')).toEqual(or(word('a'), and(word('b'), word('c'))));
  });

  test('NOT binds tighter than AND and OR', () => {
    expect(parse('-a b')).toEqual(and(not(word('a')), word('b')));
    expect(parse('NOT a OR b')).toEqual(or(not(word('a')), word('b')));
  });

  test('parentheses group, and negate as a whole', () => {
    expect(parse('(a OR b) c')).toEqual(and(or(word('a'), word('b')), word('c')));
    expect(parse('-(a OR b)')).toEqual(not(or(word('a'), word('b'))));
    expect(parse('NOT (a b)')).toEqual(not(and(word('a'), word('b'))));
    expect(parse('from:x (subject:a OR (b -c))')).toEqual(
      and({ kind: 'text', field: 'from', value: 'x' }, or({ kind: 'text', field: 'subject', value: 'a' }, and(word('b'), not(word('c'))))),
    );
  });

  test('nested and/or of the same kind are flattened; a lone term is not wrapped', () => {
    expect(parse('(a b) c')).toEqual(and(word('a'), word('b'), word('c')));
    expect(parse('a (b (c d))')).toEqual(and(word('a'), word('b'), word('c'), word('d')));
    expect(parse('(a OR b) OR c')).toEqual(or(word('a'), word('b'), word('c')));
    expect(parse('a OR (b OR c)')).toEqual(or(word('a'), word('b'), word('c')));
    expect(parse('((a))')).toEqual(word('a'));
    expect(parse('  a  ')).toEqual(word('a'));
  });

  test('parentheses need no spaces around them', () => {
    expect(parse('(from:a)OR(from:b)')).toEqual(or({ kind: 'text', field: 'from', value: 'a' }, { kind: 'text', field: 'from', value: 'b' }));
    expect(parse('"a b"(c)')).toEqual(and(word('a b'), word('c')));
  });
});

describe('syntax errors', () => {
  test('are usage errors (exit 2) that echo the query with a caret under the column', () => {
    const error = syntaxError('from:bob) x');
    expect(error.code).toBe('QUERY_SYNTAX');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe("unexpected ')' at column 9\n  from:bob) x\n          ^");
    expect(error.hint).toBe("remove it, or add the matching '(' before it");
  });

  test.each([
    // [query, first line of the message, hint fragment]
    ['', 'empty query at column 1', 'at least one term'],
    ['   ', 'empty query at column 1', 'at least one term'],
    [')', "unexpected ')' at column 1", "matching '('"],
    ['a (b c', "missing ')' for this '(' at column 3", "add ')'"],
    ['(a (b) c', "missing ')' for this '(' at column 1", "add ')'"],
    ['a ()', 'empty parentheses at column 3', 'between the parentheses'],
    ['subject:"weekly report', 'unterminated quote at column 9', 'matching "'],
    ['a "b \\" c', 'unterminated quote at column 3', 'matching "'],
    ['foo:bar', "unknown key 'foo:' at column 1", 'quote it: "foo:bar"'],
    ['x Form:alice', "unknown key 'form:' at column 3", 'known keys: from: to:'],
    ['since:2025-13-01', "invalid date '2025-13-01' at column 7", 'YYYY-MM-DD'],
    ['before:2025-02-29', "invalid date '2025-02-29' at column 8", 'YYYY-MM-DD'],
    ['after:lastweek', "invalid date 'lastweek' at column 7", '7d, 2w, 6m, 1y'],
    ['since:5x', "invalid date '5x' at column 7", '7d'],
    ['larger:5X', "invalid size '5X' at column 8", 'K = 1024'],
    ['smaller:-1', "invalid size '-1' at column 9", '500K'],
    ['from:', "empty value for 'from:' at column 6", 'no space after the colon'],
    ['from: alice', "empty value for 'from:' at column 6", 'no space after the colon'],
    ['subject:""', "empty value for 'subject:' at column 9", 'subject:"two words"'],
    ['message-id:<>', "empty value for 'message-id:' at column 12", 'message-id:<id@host>'],
    ['""', 'empty phrase at column 1', 'between the quotes'],
    ['a "  "', 'empty phrase at column 3', 'between the quotes'],
    ['is:unseen', "unknown value 'unseen' for 'is:' at column 4", 'is:unread, is:read, is:flagged, is:unflagged or is:answered'],
    ['has:pdf', "unknown value 'pdf' for 'has:' at column 5", 'has:attachment'],
    ['a OR', "nothing after 'OR' at column 3", 'a OR b'],
    ['OR a', "'OR' needs a term before it at column 1", 'a OR b'],
    ['a OR OR b', "unexpected 'OR' at column 6", 'a OR b'],
    ['(a OR) b', "unexpected ')' at column 6", 'a OR b'],
    ['(or a)', "'or' needs a term before it at column 2", 'a OR b'],
    ['a AND', "nothing after 'AND' at column 3", 'a AND b'],
    ['AND a', "'AND' needs a term before it at column 1", 'a AND b'],
    ['a NOT', "nothing after 'NOT' at column 3", 'term to exclude'],
    ['NOT OR a', "unexpected 'OR' at column 5", 'term to exclude'],
    ['a -', "nothing after '-' at column 3", 'no space'],
    ['a - b', "nothing after '-' at column 3", 'no space'],
    ['(-)', "nothing after '-' at column 2", 'no space'],
    ['ab"c"', `unexpected '"' at column 3`, 'put a space before it'],
    ['from:a"b"', `unexpected '"' at column 7`, 'put a space before it'],
    ['"a"b', `unexpected 'b' after a closing quote at column 4`, 'put a space'],
    ['a\u0001b', 'control character U+0001 at column 2', 'remove it'],
  ])('%j', (query, firstLine, hint) => {
    const error = syntaxError(query);
    expect(error.code).toBe('QUERY_SYNTAX');
    expect(error.message.split('\n')[0]).toBe(firstLine);
    expect(error.hint).toContain(hint);
  });

  test('the caret lines up under the offending character', () => {
    const lines = syntaxError('since:7d larger:huge').message.split('\n');
    expect(lines[1]).toBe('  since:7d larger:huge');
    expect(lines[0]).toBe("invalid size 'huge' at column 17");
    expect(lines[2]).toBe(`${' '.repeat(18)}^`);
    expect(lines[1]?.indexOf('huge')).toBe(lines[2]?.indexOf('^'));
  });

  test('columns count characters, not UTF-16 units, and tabs are echoed as spaces', () => {
    expect(syntaxError('"😀" )').message).toBe("unexpected ')' at column 5\n  \"😀\" )\n      ^");
    expect(syntaxError('a\t)').message).toBe("unexpected ')' at column 3\n  a )\n    ^");
  });

  test('relative dates that leave years 1-9999 are invalid', () => {
    expect(syntaxError('since:999999y').message.split('\n')[0]).toBe("invalid date '999999y' at column 7");
  });
});
