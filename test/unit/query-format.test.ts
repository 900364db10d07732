import { describe, expect, test } from 'vitest';
import type { QueryNode } from '../../src/domain/query.js';
import { formatQuery, parseQuery } from '../../src/core/query/index.js';

const now = new Date(2025, 0, 9, 10, 30);
const word = (value: string): QueryNode => ({ kind: 'text', field: 'any', value });

describe('formatQuery', () => {
  test.each<[QueryNode, string]>([
    [word('invoice'), 'invoice'],
    [word('weekly report'), '"weekly report"'],
    [word('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"'],
    [word('re:hello'), '"re:hello"'],
    [word('-x'), '"-x"'],
    [word('or'), '"or"'],
    [word('AND'), '"AND"'],
    [word('and'), 'and'],
    [word('(x)'), '"(x)"'],
    [word('Grüße'), 'Grüße'],
    [{ kind: 'text', field: 'from', value: 'alice@example.com' }, 'from:alice@example.com'],
    [{ kind: 'text', field: 'subject', value: 'weekly report' }, 'subject:"weekly report"'],
    [{ kind: 'text', field: 'subject', value: 're:x' }, 'subject:re:x'],
    [{ kind: 'text', field: 'body', value: '-x' }, 'body:-x'],
    [{ kind: 'text', field: 'cc', value: 'a"b' }, 'cc:"a\\"b"'],
    [{ kind: 'message_id', value: '<id.1@host>' }, 'message-id:<id.1@host>'],
    [{ kind: 'flag', flag: 'unflagged' }, 'is:unflagged'],
    [{ kind: 'has_attachment' }, 'has:attachment'],
    [{ kind: 'date', op: 'since', date: '2025-01-02' }, 'since:2025-01-02'],
    [{ kind: 'date', op: 'before', date: '2025-01-09' }, 'before:2025-01-09'],
    [{ kind: 'size', op: 'larger', bytes: 512000 }, 'larger:500K'],
    [{ kind: 'size', op: 'smaller', bytes: 2 * 1024 ** 3 }, 'smaller:2G'],
    [{ kind: 'size', op: 'smaller', bytes: 3 * 1024 ** 2 }, 'smaller:3M'],
    [{ kind: 'size', op: 'larger', bytes: 1500 }, 'larger:1500'],
    [{ kind: 'size', op: 'larger', bytes: 0 }, 'larger:0'],
    [{ kind: 'not', child: word('x') }, '-x'],
    [{ kind: 'not', child: word('a b') }, '-"a b"'],
    [{ kind: 'not', child: { kind: 'not', child: word('x') } }, '--x'],
    [{ kind: 'not', child: { kind: 'and', children: [word('a'), word('b')] } }, '-(a b)'],
    [{ kind: 'not', child: { kind: 'or', children: [word('a'), word('b')] } }, '-(a OR b)'],
    [{ kind: 'and', children: [word('a'), { kind: 'or', children: [word('b'), word('c')] }] }, 'a (b OR c)'],
    [{ kind: 'or', children: [{ kind: 'and', children: [word('a'), word('b')] }, word('c')] }, '(a b) OR c'],
  ])('%j -> %s', (node, text) => {
    expect(formatQuery(node)).toBe(text);
  });

  test.each([
    'from:alice is:unread invoice',
    'subject:"weekly report" OR "out of office" -is:read',
    'NOT (a OR b) c',
    '(a b) OR (c -(d OR e)) OR f',
    'message-id:abc@host has:attachment larger:1.5M smaller:2G',
    'since:7d before:yesterday after:2024-02-29',
    '"say \\"hi\\"" subject:"a \\\\ b" "10:30" https://example.com/x',
    'bcc:"(x)" cc:-y OR x',
  ])('parsing the formatted text gives the same tree: %s', (query) => {
    const tree = parseQuery(query, { now });
    expect(parseQuery(formatQuery(tree), { now })).toEqual(tree);
  });

  test('relative dates appear resolved', () => {
    expect(formatQuery(parseQuery('since:7d is:unread', { now }))).toBe('since:2025-01-02 is:unread');
  });
});
