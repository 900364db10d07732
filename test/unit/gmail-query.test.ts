// The query language compiled to Gmail's q, checked against the Gmail fake's own reading of q
// (test/support/gmail/query.ts), and the local check of what q cannot say.
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../src/core/query/index.js';
import { dayStart } from '../../src/domain/query.js';
import { compileGmailQuery, explainGmailQuery, mayMatch } from '../../src/providers/gmail/query.js';
import { envelopeFixture } from '../support/envelope.js';
import { parseQuery as parseGmailQ } from '../support/gmail/query.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const q = (text: string) => compileGmailQuery(parseQuery(text, { now: NOW })).q;

const envelope = envelopeFixture;

describe('compileGmailQuery', () => {
  it('says each term in Gmail operators, dates as epoch seconds from local midnight', () => {
    const since = Math.floor(dayStart('2026-06-01').getTime() / 1000);
    const before = Math.floor(dayStart('2026-06-08').getTime() / 1000);
    expect(q('from:ann subject:"the report" is:unread has:attachment')).toBe('from:ann subject:"the report" is:unread has:attachment');
    expect(q('since:2026-06-01 before:2026-06-08')).toBe(`after:${since - 1} before:${before}`);
    expect(q('is:flagged -is:read larger:2M')).toBe('is:starred -is:read larger:2097152');
    expect(q('is:unflagged cc:carol bcc:dave')).toBe('-is:starred cc:carol bcc:dave');
    expect(q('message-id:<a.b@host>')).toBe('rfc822msgid:a.b@host');
    expect(q('kiwi OR mango')).toBe('{kiwi mango}');
    expect(q('NOT (from:ann OR from:bob)')).toBe('-{from:ann from:bob}');
  });

  it('leaves out what Gmail cannot search, and the OR or NOT around it (q only narrows what is sure)', () => {
    expect(q('is:answered from:ann')).toBe('from:ann');
    expect(q('is:answered OR from:ann')).toBe('');
    expect(q('-is:answered kiwi')).toBe('kiwi');
    expect(compileGmailQuery(parseQuery('is:answered OR from:ann')).notes.join(' ')).toMatch(/OR .* checked here/);
  });

  it('makes q that Gmail reads (the fake parses what Gmail does)', () => {
    for (const text of ['from:ann "a phrase" is:unread', 'kiwi OR (mango -is:read)', 'since:7d smaller:10K', 'message-id:<x@y>', 'subject:"quoted \\"words\\""']) {
      expect(() => parseGmailQ(q(text)), text).not.toThrow();
    }
  });

  it('--explain shows the request, the order and what is checked here', () => {
    const text = explainGmailQuery(parseQuery('is:answered OR body:kiwi'), ['INBOX']);
    expect(text).toMatch(/^GET \/gmail\/v1\/users\/me\/messages\?labelIds=INBOX&q=$/m);
    expect(text).toMatch(/newest first by internalDate/);
    expect(text).toMatch(/Gmail keeps no answered state/);
  });
});

describe('mayMatch (the local check)', () => {
  const e = envelope();
  it('drops what the envelope rules out, with the contract meaning (to: is the To field, substrings)', () => {
    expect(mayMatch(parseQuery('from:xample'), e)).toBe(true);
    expect(mayMatch(parseQuery('to:ann'), e)).toBe(false);
    expect(mayMatch(parseQuery('subject:arterly'), e)).toBe(true);
    expect(mayMatch(parseQuery('is:read'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:answered'), e)).toBe(false);
    expect(mayMatch(parseQuery('larger:1K smaller:3K'), e)).toBe(true);
    expect(mayMatch(parseQuery('message-id:<M1@example.com>'), e)).toBe(true);
    expect(mayMatch(parseQuery('since:2026-06-11', { now: NOW }), e)).toBe(false);
  });

  it('never drops a message for a term it cannot answer, even under NOT', () => {
    expect(mayMatch(parseQuery('kiwi'), e)).toBe(true);
    expect(mayMatch(parseQuery('-kiwi'), e)).toBe(true);
    expect(mayMatch(parseQuery('-body:kiwi is:unread'), e)).toBe(true);
    expect(mayMatch(parseQuery('-body:kiwi is:read'), e)).toBe(false);
    expect(mayMatch(parseQuery('is:answered OR kiwi'), e)).toBe(true);
  });
});

describe('compileGmailQuery under NOT', () => {
  it('a NOT around an AND with a term Gmail cannot say is left out whole: -(kiwi is:answered) is every message, not -kiwi', () => {
    expect(q('-(kiwi is:answered)')).toBe('');
    expect(q('-(kiwi is:answered) from:ann')).toBe('from:ann');
    // An OR under a NOT keeps what Gmail can say: NOT (A OR B) is within NOT A.
    expect(q('-(kiwi OR is:answered)')).toBe('-kiwi');
    expect(q('-(kiwi mango)')).toBe('-(kiwi mango)');
  });
});
