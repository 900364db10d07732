// The query language compiled to Graph's $filter or $search (never both, never $orderby with
// $search), and the local check of what the request cannot say. The fake's reading of both is
// checked in the e2e tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/core/query/index.js';
import { formatQuery } from '../../src/core/query/format.js';
import { dayStart, type QueryNode } from '../../src/domain/query.js';
import type { Envelope } from '../../src/domain/types.js';
import { FILTER_LEAD, compileGraphQuery, explainGraphQuery, mayMatch } from '../../src/providers/graph/query.js';
import { envelopeFixture } from '../support/envelope.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const compile = (text: string) => compileGraphQuery(parseQuery(text, { now: NOW }));
const iso = (day: string) => dayStart(day).toISOString().replace(/\.000Z$/, 'Z');

/** As Graph lists it: an immutable id, no size (not asked for), and Graph's word on attachments. */
const envelope = (over: Partial<Envelope> = {}): Envelope => envelopeFixture({ ref: { id: 'AAkALgAAAAAAHYQDEapmEc2byACqAC', folder: 'inbox' }, size: 0, hasAttachments: true, ...over });

describe('compileGraphQuery: $filter', () => {
  it('says state, attachments, dates (local midnight) and Message-ID in OData, led by receivedDateTime, sorted newest first', () => {
    const c = compile('is:unread is:flagged has:attachment since:2026-06-01 before:2026-06-08');
    expect(c).toMatchObject({ search: null, orderBy: true, checksLocally: false });
    expect(c.filter).toBe(
      `${FILTER_LEAD} and (isRead eq false and flag/flagStatus eq 'flagged' and hasAttachments eq true and receivedDateTime ge ${iso('2026-06-01')} and receivedDateTime lt ${iso('2026-06-08')})`,
    );
    expect(compile('is:read OR is:unflagged').filter).toBe(`${FILTER_LEAD} and (isRead eq true or flag/flagStatus ne 'flagged')`);
    expect(compile('-is:read').filter).toBe(`${FILTER_LEAD} and not (isRead eq true)`);
    expect(compile("message-id:<o'brien@x>").filter).toBe(`${FILTER_LEAD} and internetMessageId eq '<o''brien@x>'`);
  });

  it('leaves out sizes and is:answered, and the OR or NOT around them, and checks them here', () => {
    const c = compile('larger:2M is:unread');
    expect(c.filter).toBe(`${FILTER_LEAD} and isRead eq false`);
    expect(c.checksLocally).toBe(true);
    expect(c.notes.join(' ')).toMatch(/size/);
    expect(compile('is:answered OR is:unread').filter).toBeNull();
    expect(compile('-is:answered').filter).toBeNull();
  });
});

describe('compileGraphQuery: $search', () => {
  it('puts the words in KQL and everything else in the local check; no $filter, no $orderby', () => {
    const c = compile('from:ann subject:"the report" is:unread since:2026-06-01 kiwi');
    expect(c).toMatchObject({ filter: null, orderBy: false, checksLocally: true });
    expect(c.search).toBe('from:ann AND subject:\\"the report\\" AND kiwi');
    expect(c.notes.join(' ')).toMatch(/1,000/);
    expect(compile('kiwi OR mango').search).toBe('(kiwi OR mango)');
    expect(compile('NOT (from:ann OR to:bob)').search).toBe('NOT (from:ann OR to:bob)');
    expect(compile('body:"say \\"hi\\""').search).toBe('body:\\"say hi\\"');
  });

  it('an OR with a term KQL cannot say is left to the local check: the request is a $filter of the rest', () => {
    const c = compile('(subject:kiwi OR is:unread) has:attachment');
    expect(c.search).toBeNull();
    expect(c.filter).toBe(`${FILTER_LEAD} and hasAttachments eq true`);
    expect(c.checksLocally).toBe(true);
  });

  it('never both, never $orderby with $search: for any query', () => {
    const word = fc.constantFrom('kiwi', 'a b', 'ann@example.com', "o'brien");
    const leaf: fc.Arbitrary<string> = fc.oneof(
      word.map((w) => `"${w}"`),
      word.map((w) => `from:"${w}"`),
      word.map((w) => `subject:"${w}"`),
      fc.constantFrom('is:unread', 'is:read', 'is:flagged', 'is:answered', 'has:attachment', 'since:2026-01-02', 'before:2026-03-04', 'larger:1M', 'message-id:<a@b>'),
    );
    const tree = fc.letrec<{ q: string }>((tie) => ({
      q: fc.oneof({ depthSize: 'small' }, leaf, fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} ${b})`), fc.tuple(tie('q'), tie('q')).map(([a, b]) => `(${a} OR ${b})`), tie('q').map((a) => `-(${a})`)),
    })).q;
    fc.assert(
      fc.property(tree, (text) => {
        const c = compileGraphQuery(parseQuery(text, { now: NOW }) as QueryNode);
        expect(c.filter !== null && c.search !== null).toBe(false);
        if (c.search !== null) expect(c.orderBy).toBe(false);
        // A filter is always led by receivedDateTime, as Graph asks of one sorted by it.
        if (c.filter !== null) expect(c.filter.startsWith(FILTER_LEAD)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('mayMatch (the local check)', () => {
  it('answers flags, dates, attachments and header substrings; an unknown size or a word never drops a message', () => {
    const e = envelope();
    expect(mayMatch(parseQuery('from:xample'), e)).toBe(true);
    expect(mayMatch(parseQuery('to:ann'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:read'), e)).toBe(false);
    // Graph says whether there are attachments: the check can drop on it.
    expect(mayMatch(parseQuery('-has:attachment'), e)).toBe(false);
    // Size 0: not listed, so unknown.
    expect(mayMatch(parseQuery('larger:1M'), e)).toBe(true);
    expect(mayMatch(parseQuery('larger:1M'), envelope({ size: 1000 }))).toBe(false);
    expect(mayMatch(parseQuery('body:anything'), e)).toBe(true);
    expect(mayMatch(parseQuery('since:2026-06-11', { now: NOW }), e)).toBe(false);
    expect(mayMatch(parseQuery('is:answered'), e)).toBe(false);
    expect(mayMatch(null, e)).toBe(true);
  });
});

describe('--explain', () => {
  it('shows the request, the order, the cap of $search and what is checked here', () => {
    const searched = explainGraphQuery(parseQuery('subject:kiwi is:unread'), 'FOLDERID');
    expect(searched).toMatch(/^GET \/v1\.0\/me\/mailFolders\/FOLDERID\/messages\?\$search="subject:kiwi"$/m);
    expect(searched).toMatch(/sorted here/);
    expect(searched).toMatch(/1,000/);
    expect(searched).toMatch(/checked here/);
    const filtered = explainGraphQuery(parseQuery('is:unread'), 'inbox');
    expect(filtered).toMatch(/\$filter=receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false&\$orderby=receivedDateTime desc&\$count=true/);
    expect(filtered).not.toMatch(/checked here/);
    expect(formatQuery(parseQuery('is:unread'))).toBe('is:unread');
  });
});
