// The query language compiled to Graph's $filter or $search (never both, never $orderby with
// $search), and the local check of what the request cannot say. The Graph fake's own reading of
// both (test/support/graph/query.ts) is the server here: what it parses is what Graph takes, and
// the property tests check that the request never loses a message the query means.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/core/query/index.js';
import { dayStart, type QueryNode, type TextField } from '../../src/domain/query.js';
import type { Address, Envelope } from '../../src/domain/types.js';
import { FILTER_LEAD, compileGraphQuery, explainGraphQuery, mayMatch } from '../../src/providers/graph/query.js';
import { envelopeFixture } from '../support/envelope.js';
import { matches, parseFilter, parseSearch, searchMatches, type SearchDoc, type Value } from '../support/graph/query.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const compile = (text: string) => compileGraphQuery(parseQuery(text, { now: NOW }));
const iso = (day: string) => dayStart(day).toISOString().replace(/\.000Z$/, 'Z');
const lead = (filter: string) => `${FILTER_LEAD} and ${filter}`;

/** As Graph lists it: an immutable id, no size (not asked for), and Graph's word on attachments. */
const envelope = (over: Partial<Envelope> = {}): Envelope => envelopeFixture({ ref: { id: 'AAkALgAAAAAAHYQDEapmEc2byACqAC', folder: 'inbox' }, size: 0, hasAttachments: true, ...over });

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('compileGraphQuery: $filter', () => {
  it('says state, attachments, dates and Message-ID in OData, led by receivedDateTime, sorted newest first', () => {
    const c = compile('is:unread is:flagged has:attachment since:2026-06-01 before:2026-06-08');
    expect(c).toMatchObject({ search: null, orderBy: true, checksLocally: false, notes: [] });
    expect(c.filter).toBe(
      lead(`(isRead eq false and flag/flagStatus eq 'flagged' and hasAttachments eq true and receivedDateTime ge ${iso('2026-06-01')} and receivedDateTime lt ${iso('2026-06-08')})`),
    );
    expect(compile('is:read OR is:unflagged').filter).toBe(lead("(isRead eq true or flag/flagStatus ne 'flagged')"));
    expect(compile('-is:read').filter).toBe(lead('not (isRead eq true)'));
    expect(compile('NOT (is:read has:attachment)').filter).toBe(lead('not ((isRead eq true and hasAttachments eq true))'));
    expect(compile('message-id:<a.b@host>').filter).toBe(lead("internetMessageId eq '<a.b@host>'"));
    expect(compile('message-id:a.b@host').filter).toBe(lead("internetMessageId eq '<a.b@host>'"));
  });

  it("quotes ' in a string literal as ''", () => {
    expect(compile("message-id:<o'brien@x>").filter).toBe(lead("internetMessageId eq '<o''brien@x>'"));
    expect(compile("message-id:<a''b@x>").filter).toBe(lead("internetMessageId eq '<a''''b@x>'"));
    // The fake reads it back as the same value.
    expect(parseFilter(compile("message-id:<o'brien@x>").filter!)).toMatchObject({ op: 'and', right: { path: 'internetMessageId', value: "<o'brien@x>" } });
  });

  it('dates are the local midnight of the day, as UTC', () => {
    process.env.TZ = 'Pacific/Auckland'; // UTC+12 in June
    expect(compile('since:2026-06-01').filter).toBe(lead('receivedDateTime ge 2026-05-31T12:00:00Z'));
    expect(compile('before:2026-06-08').filter).toBe(lead('receivedDateTime lt 2026-06-07T12:00:00Z'));
    process.env.TZ = 'America/New_York'; // UTC-4 in June
    expect(compile('since:2026-06-01').filter).toBe(lead('receivedDateTime ge 2026-06-01T04:00:00Z'));
    process.env.TZ = 'UTC';
    expect(compile('after:2026-01-01').filter).toBe(lead('receivedDateTime ge 2026-01-01T00:00:00Z'));
  });

  it('leaves out sizes and is:answered, and the OR around them, and checks them here', () => {
    const c = compile('larger:2M is:unread');
    expect(c).toMatchObject({ filter: lead('isRead eq false'), search: null, orderBy: true, checksLocally: true });
    expect(c.notes.join(' ')).toMatch(/size/);
    expect(compile('is:answered OR is:unread')).toMatchObject({ filter: null, checksLocally: true });
    expect(compile('is:answered OR is:unread').notes.join(' ')).toMatch(/OR .*checked here only/);
    expect(compile('-is:answered').filter).toBeNull();
    expect(compile('is:answered').notes.join(' ')).toMatch(/no answered state/);
    expect(compile('larger:1K OR is:read').filter).toBeNull();
    expect(compile('(larger:1K is:flagged) OR is:read').filter).toBe(lead("(flag/flagStatus eq 'flagged' or isRead eq true)"));
  });

  it('under a NOT, a term left out of an AND leaves out the whole AND (NOT (A AND B) is wider than NOT A)', () => {
    // Not `not (isRead eq false)`: that would lose an unread message smaller than 2M, which matches.
    expect(compile('-(is:unread larger:2M)').filter).toBeNull();
    expect(compile('-(is:unread is:answered) has:attachment').filter).toBe(lead('hasAttachments eq true'));
    // Under a NOT an OR may lose a branch instead: NOT (A OR B) is narrower than NOT A.
    expect(compile('-(is:unread OR larger:2M)').filter).toBe(lead('not (isRead eq false)'));
    expect(compile('-(-(is:unread larger:2M))').filter).toBe(lead('not (not (isRead eq false))'));
  });

  it('no query: no filter, newest first, nothing checked here', () => {
    expect(compileGraphQuery(null)).toEqual({ filter: null, search: null, orderBy: true, checksLocally: false, notes: [] });
  });
});

describe('compileGraphQuery: $search', () => {
  it('puts the text terms in KQL and everything else in the local check; no $filter, no $orderby', () => {
    const c = compile('from:ann subject:"the report" is:unread since:2026-06-01 kiwi');
    expect(c).toMatchObject({ filter: null, orderBy: false, checksLocally: true });
    expect(c.search).toBe('from:ann AND subject:\\"the report\\" AND kiwi');
    expect(c.notes.join(' ')).toMatch(/1,000/);
    expect(compile('kiwi OR mango').search).toBe('(kiwi OR mango)');
    expect(compile('NOT (from:ann OR to:bob)').search).toBe('NOT (from:ann OR to:bob)');
    expect(compile('cc:carol bcc:dave body:kiwi').search).toBe('cc:carol AND bcc:dave AND body:kiwi');
    // A from: that is a whole address is still "contains": KQL, not `from/emailAddress/address eq`.
    expect(compile('from:ann@example.com is:unread')).toMatchObject({ filter: null, search: 'from:ann@example.com' });
  });

  it('quotes phrases as \\"...\\"; a " inside becomes a space; words KQL would read as operators are quoted', () => {
    expect(compile('body:"say \\"hi\\""').search).toBe('body:\\"say hi\\"');
    expect(compile('subject:"o\\"brien"').search).toBe('subject:\\"o brien\\"');
    expect(compile('"-kiwi"').search).toBe('\\"-kiwi\\"');
    expect(compile('"AND"').search).toBe('\\"AND\\"');
    expect(compile('"kiwi*"').search).toBe('\\"kiwi*\\"');
    expect(compile('"a:b"').search).toBe('\\"a:b\\"');
    expect(compile("o'brien").search).toBe("o'brien");
    // Every one of them parses as Graph takes it (the fake refuses what Graph refuses) and means the words asked for.
    for (const text of ['body:"say \\"hi\\""', '"-kiwi"', '"AND"', '"a:b" OR from:"x y"', "o'brien"]) {
      expect(() => parseSearch(`"${compile(text).search}"`), text).not.toThrow();
    }
    expect(parseSearch(`"${compile('"-kiwi"').search}"`)).toEqual({ op: 'term', prop: null, value: '-kiwi' });
  });

  it('an OR with a term KQL cannot say is left to the local check: the request is a $filter of the rest', () => {
    const c = compile('(subject:kiwi OR is:unread) has:attachment');
    expect(c).toMatchObject({ search: null, filter: lead('hasAttachments eq true'), orderBy: true, checksLocally: true });
    // The notes are those of the request sent: nothing about $search.
    expect(c.notes.join(' ')).not.toMatch(/1,000|word/);
  });

  it('under a NOT, a text term and a term KQL cannot say in one AND leave the whole AND out', () => {
    // Not `NOT kiwi`: that would lose an unread message with kiwi in it, which matches.
    expect(compile('-(kiwi is:read)')).toMatchObject({ search: null, filter: null, checksLocally: true });
    expect(compile('-(kiwi OR is:read)').search).toBe('NOT kiwi');
  });

  it('never both, never $orderby with $search, a $filter always led by receivedDateTime: for any query', () => {
    fc.assert(
      fc.property(queryTree, (query) => {
        const c = compileGraphQuery(query);
        expect(c.filter !== null && c.search !== null).toBe(false);
        if (c.search !== null) expect(c.orderBy).toBe(false);
        if (c.filter !== null) expect(c.filter.startsWith(FILTER_LEAD)).toBe(true);
        if (c.search !== null) expect(c.notes.join(' ')).toMatch(/1,000/);
        // Both parse as Graph takes them.
        if (c.filter !== null) parseFilter(c.filter);
        if (c.search !== null) parseSearch(`"${c.search}"`);
      }),
      { numRuns: 1000 },
    );
  });

  it('the request and the local check never lose a message the query means; a $filter without a local check says it exactly', () => {
    fc.assert(
      fc.property(queryTree, message, (query, m) => {
        const c = compileGraphQuery(query);
        const server = c.filter !== null ? matches(parseFilter(c.filter), filterGet(m)) : c.search !== null ? searchMatches(parseSearch(`"${c.search}"`), searchDoc(m)) : true;
        const local = mayMatch(query, m.envelope);
        const truth = means(query, m);
        if (truth) {
          expect(server, 'the request lost it').toBe(true);
          expect(local, 'the local check dropped it').toBe(true);
        }
        if (!c.checksLocally) expect(server).toBe(truth);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('mayMatch (the local check)', () => {
  it('answers flags, dates, attachments and header substrings', () => {
    const e = envelope();
    expect(mayMatch(parseQuery('from:xample'), e)).toBe(true);
    expect(mayMatch(parseQuery('FROM:ANN'), e)).toBe(true);
    expect(mayMatch(parseQuery('to:ann'), e)).toBe(false);
    expect(mayMatch(parseQuery('subject:arterly'), e)).toBe(true);
    expect(mayMatch(parseQuery('subject:kiwi'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:read'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:unread is:flagged'), e)).toBe(true);
    // Graph says whether there are attachments: the check can drop on it.
    expect(mayMatch(parseQuery('-has:attachment'), e)).toBe(false);
    expect(mayMatch(parseQuery('since:2026-06-11', { now: NOW }), e)).toBe(false);
    expect(mayMatch(parseQuery('before:2026-06-11', { now: NOW }), e)).toBe(true);
    expect(mayMatch(parseQuery('message-id:<M1@example.com>'), e)).toBe(true);
    expect(mayMatch(parseQuery('message-id:<m2@example.com>'), e)).toBe(false);
    expect(mayMatch(null, e)).toBe(true);
  });

  it('cannot tell a word, body:, bcc: or an unlisted size, and never drops a message for one, even under NOT; no message is answered', () => {
    const e = envelope();
    expect(mayMatch(parseQuery('body:anything'), e)).toBe(true);
    expect(mayMatch(parseQuery('-kiwi'), e)).toBe(true);
    expect(mayMatch(parseQuery('bcc:nobody'), e)).toBe(true);
    // Size 0: not listed, so unknown; a listed size is checked.
    expect(mayMatch(parseQuery('larger:1M'), e)).toBe(true);
    expect(mayMatch(parseQuery('larger:1M'), envelope({ size: 1000 }))).toBe(false);
    // Graph keeps no answered state: no message is answered, live as in the cache (the contract's
    // answer for a backend without one, as Gmail's).
    expect(e.flags.answered).toBe(false);
    expect(mayMatch(parseQuery('is:answered'), e)).toBe(false);
    expect(mayMatch(parseQuery('-is:answered'), e)).toBe(true);
    // What the envelope does answer drops it; what it cannot does not.
    expect(mayMatch(parseQuery('-body:kiwi is:read'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:answered OR is:read'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:answered OR body:kiwi'), e)).toBe(true);
  });
});

describe('--explain', () => {
  it('with $search: the request line, the order sorted here, the 1,000 cap and what is checked here', () => {
    const text = explainGraphQuery(parseQuery('subject:kiwi is:unread'), 'FOLDERID');
    expect(text).toMatch(/^GET \/v1\.0\/me\/mailFolders\/FOLDERID\/messages\?\$search="subject:kiwi"$/m);
    expect(text).not.toMatch(/\$filter|\$orderby/);
    expect(text).toMatch(/sorted here/);
    expect(text).toMatch(/at most 1,000/);
    expect(text).toMatch(/checked here/);
  });

  it('with $filter: the request with $orderby, and nothing checked here when the filter says it all', () => {
    const text = explainGraphQuery(parseQuery('is:unread'), 'inbox');
    expect(text).toMatch(/^GET \/v1\.0\/me\/mailFolders\/inbox\/messages\?\$filter=receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false&\$orderby=receivedDateTime desc&\$count=true$/m);
    expect(text).not.toMatch(/checked here|1,000|\$search/);
    const partly = explainGraphQuery(parseQuery('is:unread larger:1M'), 'inbox');
    expect(partly).toMatch(/checked here/);
    expect(partly).toMatch(/size/);
    expect(explainGraphQuery(null, 'inbox')).toBe("GET /v1.0/me/mailFolders/inbox/messages?$orderby=receivedDateTime desc&$count=true\norder: newest first by receivedDateTime (Graph's $orderby)");
  });
});

// ---- random queries and messages, and what a query means (the contract: substrings without case)

const WORDS = ['kiwi', 'mango', 'pear'];
const PEOPLE: Address[] = [
  { name: 'Ann Example', address: 'ann@example.com' },
  { name: 'Bob', address: 'bob@example.org' },
  { name: '', address: 'carol@kiwi.net' },
];
const VALUES = ['kiwi', 'mango', 'kiwi mango', 'ann', 'bob', 'example', 'ann@example.com', 'Kiwi', "o'brien", 'pear kiwi'];
const DAYS = ['2026-06-01', '2026-06-02', '2026-06-03'];
const MESSAGE_IDS = ['<m1@example.com>', '<M1@example.com>', '<m2@example.com>'];
const FIELDS: TextField[] = ['any', 'from', 'to', 'cc', 'bcc', 'subject', 'body'];

const leaf: fc.Arbitrary<QueryNode> = fc.oneof(
  fc.record({ kind: fc.constant('text' as const), field: fc.constantFrom(...FIELDS), value: fc.constantFrom(...VALUES) }),
  fc.record({ kind: fc.constant('flag' as const), flag: fc.constantFrom('unread' as const, 'read' as const, 'flagged' as const, 'unflagged' as const, 'answered' as const) }),
  fc.constant({ kind: 'has_attachment' as const }),
  fc.record({ kind: fc.constant('date' as const), op: fc.constantFrom('since' as const, 'before' as const), date: fc.constantFrom(...DAYS) }),
  fc.record({ kind: fc.constant('size' as const), op: fc.constantFrom('larger' as const, 'smaller' as const), bytes: fc.constantFrom(1000, 5000) }),
  fc.record({ kind: fc.constant('message_id' as const), value: fc.constantFrom('<m1@example.com>', 'm2@example.com') }),
);

const queryTree: fc.Arbitrary<QueryNode> = fc.letrec<{ node: QueryNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children): QueryNode => ({ kind: 'and', children })),
    fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((children): QueryNode => ({ kind: 'or', children })),
    tie('node').map((child): QueryNode => ({ kind: 'not', child })),
  ),
})).node;

/** A message as the mailbox has it, and its envelope as Graph lists it (no answered state, size maybe not listed). */
interface Message {
  envelope: Envelope;
  body: string;
  bcc: Address[];
  answered: boolean;
  size: number;
}

const text = fc.array(fc.constantFrom(...WORDS, "o'brien", 'Kiwi'), { maxLength: 3 }).map((w) => w.join(' '));
const people = fc.subarray(PEOPLE, { maxLength: 2 });
const message: fc.Arbitrary<Message> = fc
  .record({
    subject: text,
    body: text,
    from: fc.option(fc.constantFrom(...PEOPLE), { nil: null }),
    to: people,
    cc: people,
    bcc: people,
    seen: fc.boolean(),
    flagged: fc.boolean(),
    // Graph keeps no answered state: in its mailbox no message is answered.
    answered: fc.constant(false),
    hasAttachments: fc.boolean(),
    // Around the local midnights of DAYS, whatever the zone (Graph always has a receivedDateTime).
    received: fc.constantFrom(...DAYS).chain((d) => fc.constantFrom(-1, 0, 1, 3_600_000).map((ms) => new Date(dayStart(d).getTime() + ms))),
    messageId: fc.option(fc.constantFrom(...MESSAGE_IDS), { nil: null }),
    size: fc.constantFrom(999, 1000, 1001, 4999, 5000, 5001),
    sizeListed: fc.boolean(),
  })
  .map((r) => ({
    envelope: envelope({
      subject: r.subject,
      from: r.from,
      to: r.to,
      cc: r.cc,
      date: r.received,
      received: r.received,
      messageId: r.messageId,
      size: r.sizeListed ? r.size : 0,
      flags: { seen: r.seen, flagged: r.flagged, answered: false, draft: false, keywords: [] },
      hasAttachments: r.hasAttachments,
    }),
    body: r.body,
    bcc: r.bcc,
    answered: r.answered,
    size: r.size,
  }));

/** What the query means for the message: the offline cache's reading (substrings without case). */
function means(node: QueryNode, m: Message): boolean {
  const e = m.envelope;
  switch (node.kind) {
    case 'and':
      return node.children.every((c) => means(c, m));
    case 'or':
      return node.children.some((c) => means(c, m));
    case 'not':
      return !means(node.child, m);
    case 'text': {
      const has = (t: string) => t.toLowerCase().includes(node.value.toLowerCase());
      const inList = (list: Address[]) => list.some((a) => has(a.name) || has(a.address));
      const from = e.from ? [e.from] : [];
      const fields: Record<TextField, boolean> = {
        any: has(e.subject) || has(m.body) || inList([...from, ...e.to, ...e.cc]),
        from: inList(from),
        to: inList(e.to),
        cc: inList(e.cc),
        bcc: inList(m.bcc),
        subject: has(e.subject),
        body: has(m.body),
      };
      return fields[node.field];
    }
    case 'message_id': {
      const bare = (v: string) => v.trim().replace(/^<+|>+$/g, '').toLowerCase();
      return e.messageId !== null && bare(e.messageId) === bare(node.value);
    }
    case 'flag':
      return { unread: !e.flags.seen, read: e.flags.seen, flagged: e.flags.flagged, unflagged: !e.flags.flagged, answered: m.answered }[node.flag];
    case 'has_attachment':
      return e.hasAttachments;
    case 'date':
      return e.received !== null && (node.op === 'since' ? e.received >= dayStart(node.date) : e.received < dayStart(node.date));
    case 'size':
      return node.op === 'larger' ? m.size > node.bytes : m.size < node.bytes;
  }
}

/** The message's properties as the fake's $filter reads them. */
function filterGet(m: Message): (path: string) => Value {
  const e = m.envelope;
  const props: Record<string, Value> = {
    isRead: e.flags.seen,
    'flag/flagStatus': e.flags.flagged ? 'flagged' : 'notFlagged',
    hasAttachments: e.hasAttachments,
    receivedDateTime: e.received?.getTime() ?? null,
    internetMessageId: e.messageId,
  };
  return (path) => {
    if (!(path in props)) throw new Error(`unexpected property ${path}`);
    return props[path]!;
  };
}

/** The message as the fake's $search reads it (no attachment names). */
function searchDoc(m: Message): SearchDoc {
  const e = m.envelope;
  const list = (rs: Address[]) => rs.map((a) => `${a.name} ${a.address}`).join(' ').toLowerCase();
  return { subject: e.subject.toLowerCase(), body: m.body.toLowerCase(), from: list(e.from ? [e.from] : []), to: list(e.to), cc: list(e.cc), bcc: list(m.bcc), attachment: '', hasAttachments: e.hasAttachments };
}
