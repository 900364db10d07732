import { createRequire } from 'node:module';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import type { QueryNode } from '../../src/domain/query.js';
import { parseQuery } from '../../src/core/query/index.js';
import { compileImapSearch, explainImapSearch, explainListOrder } from '../../src/providers/imap/search.js';

const now = new Date(2025, 0, 9, 10, 30);
const parse = (query: string) => parseQuery(query, { now });
const compile = (query: string) => compileImapSearch(parse(query));
const explain = (query: string) => explainImapSearch(parse(query));
const word = (value: string): QueryNode => ({ kind: 'text', field: 'any', value });

const originalTz = process.env.TZ;
afterEach(() => {
  vi.useRealTimers();
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

// imapflow's own search and wire compilers, to check that explain prints what goes on the wire.
const require = createRequire(import.meta.url);
const { searchCompiler } = require('imapflow/lib/search-compiler.js') as {
  searchCompiler: (connection: object, query: object) => unknown[];
};
const wireCompiler = require('imapflow/lib/handler/imap-compiler.js') as (
  command: { command: string; attributes: unknown[] },
  options: object,
) => Promise<Buffer[]>;

async function wireText(node: QueryNode): Promise<string> {
  const connection = { capabilities: new Map(), enabled: new Set(), mailbox: { flags: new Set() } };
  const attributes = searchCompiler(connection, compileImapSearch(node));
  return Buffer.concat(await wireCompiler({ command: 'UID SEARCH', attributes }, {})).toString().trim();
}

describe('compileImapSearch: one key per term', () => {
  test('no query searches everything', () => {
    expect(compileImapSearch(null)).toEqual({ all: true });
  });

  test.each([
    ['invoice', { text: 'invoice' }],
    ['from:alice', { from: 'alice' }],
    ['to:bob', { to: 'bob' }],
    ['cc:carol', { cc: 'carol' }],
    ['bcc:dave', { bcc: 'dave' }],
    ['subject:"weekly report"', { subject: 'weekly report' }],
    ['body:hello', { body: 'hello' }],
    ['message-id:abc@host', { header: { 'message-id': '<abc@host>' } }],
    ['has:attachment', { header: { 'content-type': 'multipart/mixed' } }],
    ['is:unread', { seen: false }],
    ['is:read', { seen: true }],
    ['is:flagged', { flagged: true }],
    ['is:unflagged', { flagged: false }],
    ['is:answered', { answered: true }],
    ['larger:2M', { larger: 2097152 }],
    ['smaller:500K', { smaller: 512000 }],
  ])('%s', (query, expected) => {
    expect(compile(query)).toEqual(expected);
  });

  test('a day is passed as its UTC midnight, which imapflow prints as that same day', () => {
    expect(compile('since:2025-01-02')).toEqual({ since: new Date('2025-01-02T00:00:00.000Z') });
    expect(compile('before:2025-01-09')).toEqual({ before: new Date('2025-01-09T00:00:00.000Z') });
  });

  test('sizes of 0 keep their meaning although imapflow drops a 0', () => {
    expect(compile('larger:0')).toEqual({ all: true });
    expect(compile('smaller:0')).toEqual({ not: { all: true } });
  });

  test('sizes beyond IMAP numbers are clamped to 2^32-1', () => {
    expect(compile('larger:8G')).toEqual({ larger: 4294967295 });
    expect(compile('smaller:5G')).toEqual({ smaller: 4294967295 });
  });

  test('an empty text value is refused: imapflow would silently drop it and match everything', () => {
    const run = () => compileImapSearch({ kind: 'text', field: 'from', value: '' });
    expect(run).toThrow(MailopsError);
    expect(run).toThrow('empty search text for from:');
  });
});

describe('compileImapSearch: and, or, not', () => {
  test('AND puts keys side by side; a repeated key gets another spelling of the same IMAP key', () => {
    expect(compile('from:alice invoice march is:unread')).toEqual({ from: 'alice', text: 'invoice', TEXT: 'march', seen: false });
  });

  test('OR takes every alternative, NOT one object', () => {
    expect(compile('a OR from:b OR (c d)')).toEqual({ or: [{ text: 'a' }, { from: 'b' }, { text: 'c', TEXT: 'd' }] });
    expect(compile('-(from:a subject:b)')).toEqual({ not: { from: 'a', subject: 'b' } });
    expect(compile('-is:read')).toEqual({ not: { seen: true } });
  });

  test('several ORs and NOTs in one AND', () => {
    expect(compile('(a OR b) (c OR d) -e -f')).toEqual({
      or: [{ text: 'a' }, { text: 'b' }],
      OR: [{ text: 'c' }, { text: 'd' }],
      not: { text: 'e' },
      NOT: { text: 'f' },
    });
  });

  test('nested OR inside NOT inside OR', () => {
    expect(compile('a OR -(b OR c d)')).toEqual({
      or: [{ text: 'a' }, { not: { or: [{ text: 'b' }, { text: 'c', TEXT: 'd' }] } }],
    });
  });

  test('when the spellings of a key run out, the rest of the AND continues in a one-element oR', () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`);
    const search = compile(words.join(' ')) as Record<string, unknown>;
    const keys = Object.keys(search);
    expect(keys).toHaveLength(17);
    expect(new Set(keys.slice(0, 16).map((key) => key.toLowerCase()))).toEqual(new Set(['text']));
    expect(search.oR).toEqual([{ text: 'w16', TEXT: 'w17', Text: 'w18', tExt: 'w19' }]);
  });

  test('hand-built nested trees are flattened like parsed ones', () => {
    const tree: QueryNode = {
      kind: 'and',
      children: [word('a'), { kind: 'and', children: [word('b'), { kind: 'or', children: [word('c'), { kind: 'or', children: [word('d'), word('e')] }] }] }],
    };
    expect(compileImapSearch(tree)).toEqual({ text: 'a', TEXT: 'b', or: [{ text: 'c' }, { text: 'd' }, { text: 'e' }] });
  });
});

describe('explainImapSearch', () => {
  test.each([
    [null, 'UID SEARCH ALL'],
    ['from:alice is:unread since:2025-01-02', 'UID SEARCH FROM alice UNSEEN SINCE 02-Jan-2025'],
    ['invoice march', 'UID SEARCH TEXT invoice TEXT march'],
    ['a OR b OR c', 'UID SEARCH OR OR TEXT a TEXT b TEXT c'],
    ['(from:a b) OR -c', 'UID SEARCH OR (FROM a TEXT b) NOT TEXT c'],
    ['-(from:a subject:b)', 'UID SEARCH NOT (FROM a SUBJECT b)'],
    ['a OR -(b OR c d)', 'UID SEARCH OR TEXT a NOT OR TEXT b (TEXT c TEXT d)'],
    ['is:read is:flagged is:unflagged is:answered', 'UID SEARCH SEEN FLAGGED UNFLAGGED ANSWERED'],
    ['message-id:<abc@host>', 'UID SEARCH HEADER MESSAGE-ID <abc@host>'],
    ['larger:500K smaller:2M', 'UID SEARCH LARGER 512000 SMALLER 2097152'],
    ['smaller:0', 'UID SEARCH NOT ALL'],
    ['before:2025-01-09', 'UID SEARCH BEFORE 09-Jan-2025'],
    ['subject:"weekly report"', 'UID SEARCH SUBJECT "weekly report"'],
    ['"say \\"hi\\" \\\\o/"', 'UID SEARCH TEXT "say \\"hi\\" \\\\o/"'],
    ['"50%" "a*b" "x]"', 'UID SEARCH TEXT "50%" TEXT "a*b" TEXT "x]"'],
  ])('%s', (query, expected) => {
    expect(explainImapSearch(query === null ? null : parse(query))).toBe(expected);
  });

  test('non-ASCII text adds CHARSET UTF-8 unless the session enabled UTF8=ACCEPT', () => {
    expect(explain('Grüße')).toBe('UID SEARCH CHARSET UTF-8 TEXT "Grüße"');
    expect(explainImapSearch(parse('Grüße'), { enabled: ['UTF8=ACCEPT'] })).toBe('UID SEARCH TEXT "Grüße"');
  });

  test('with SORT, a listing is UID SORT (ARRIVAL) with the charset SORT always names, and the same keys', () => {
    const sort = { capabilities: ['IMAP4rev1', 'SORT'] };
    expect(explainImapSearch(null, sort)).toBe('UID SORT (ARRIVAL) UTF-8 ALL');
    expect(explainImapSearch(parse('from:alice is:unread'), sort)).toBe('UID SORT (ARRIVAL) UTF-8 FROM alice UNSEEN');
    // The search compiler's CHARSET UTF-8 is not repeated: SORT's charset argument takes its place.
    expect(explainImapSearch(parse('Grüße'), sort)).toBe('UID SORT (ARRIVAL) UTF-8 TEXT "Grüße"');
    expect(explainListOrder(sort)).toMatch(/^# read from the end: newest first by arrival/);
    expect(explainListOrder({ capabilities: ['IMAP4rev1'] })).toMatch(/^# this server has no SORT \(RFC 5256\): messages are listed by UID/);
  });

  test('has:attachment is sent as a header test, and the explanation says it is an approximation', () => {
    const lines = explain('from:a -has:attachment').split('\n');
    expect(lines[0]).toBe('UID SEARCH FROM a NOT HEADER CONTENT-TYPE multipart/mixed');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^# has:attachment is approximated by HEADER CONTENT-TYPE "multipart\/mixed": IMAP SEARCH cannot test for attachments/);
    expect(explain('from:a').split('\n')).toHaveLength(1);
  });

  test('the day on the wire does not depend on the local time zone', () => {
    for (const tz of ['Pacific/Kiritimati', 'America/Los_Angeles', 'UTC']) {
      process.env.TZ = tz;
      expect(explain('since:2025-01-09 before:2025-01-10')).toBe('UID SEARCH SINCE 09-Jan-2025 BEFORE 10-Jan-2025');
    }
  });

  test('with WITHIN, imapflow sends seconds since the local midnight of the day', () => {
    process.env.TZ = 'Europe/Berlin'; // UTC+1 in January
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-09T11:00:00Z')); // 12:00 in Berlin, 12 hours after local midnight
    const context = { capabilities: ['IMAP4rev1', 'WITHIN'] };

    expect(compileImapSearch(parse('since:2025-01-09'), context)).toEqual({ since: new Date(2025, 0, 9) });
    expect(explainImapSearch(parse('since:2025-01-09'), context)).toBe('UID SEARCH YOUNGER 43200');
    expect(explainImapSearch(parse('before:2025-01-08'), context)).toBe(`UID SEARCH OLDER ${36 * 3600}`);
    expect(compileImapSearch(parse('since:2025-01-09'), { capabilities: ['within'] })).toEqual({ since: new Date(2025, 0, 9) });
    // Without WITHIN, the same query is a plain date.
    expect(explainImapSearch(parse('since:2025-01-09'), { capabilities: ['IMAP4rev1'] })).toBe('UID SEARCH SINCE 09-Jan-2025');
  });

  test.each([
    'from:alice is:unread since:2025-01-02 before:2025-01-09',
    '(a OR b) (c OR d) -(e f) larger:1M',
    'subject:"weekly report" "say \\"hi\\" \\\\o/" "50%" "a*b" "x]" "(paren)" "{brace}"',
    'Grüße OR message-id:<a@b> has:attachment',
    Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '),
  ])('matches what imapflow writes on the wire: %s', async (query) => {
    const tree = parse(query);
    expect(explainImapSearch(tree).split('\n')[0]).toBe(await wireText(tree));
  });
});
