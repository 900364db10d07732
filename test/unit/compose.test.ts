import { describe, expect, it } from 'vitest';
import { composeMessage, parseHeaderFlag, prepareRawMessage, splitAddresses } from '../../src/core/compose.js';

const base = { from: 'Me <me@example.org>', to: [], cc: [], bcc: [], subject: 'Hi', text: 'Hello', html: undefined, attachments: [], replyTo: undefined, headers: [] };

describe('compose', () => {
  it('splits repeatable, comma-separated address flags without breaking quoted names', () => {
    expect(splitAddresses(['a@x.org, b@x.org', '"Doe, Jane" <jane@x.org>'])).toEqual(['a@x.org', 'b@x.org', '"Doe, Jane" <jane@x.org>']);
    expect(splitAddresses(undefined)).toEqual([]);
  });

  it('parses --header and refuses header injection', () => {
    expect(parseHeaderFlag('X-Ticket: 42')).toEqual({ key: 'X-Ticket', value: '42' });
    expect(() => parseHeaderFlag('no colon')).toThrow(/not a header/);
    expect(() => parseHeaderFlag('X-A: 1\r\nBcc: evil@x.org')).toThrow(/not a header/);
  });

  it('sends without the Bcc header but keeps it in the copy; both share Message-ID', async () => {
    const m = await composeMessage({ ...base, to: ['to@x.org'], bcc: ['hidden@x.org'], html: '<b>x</b>', headers: ['X-Ticket: 42'] });
    expect(m.outgoing.envelope).toEqual({ from: 'me@example.org', to: ['to@x.org', 'hidden@x.org'] });
    const sent = m.outgoing.raw.toString();
    const copy = m.copy.toString();
    expect(sent).not.toMatch(/^Bcc:/m);
    expect(copy).toMatch(/^Bcc: hidden@x.org/m);
    expect(sent).toContain(`Message-ID: ${m.outgoing.messageId}`);
    expect(copy).toContain(`Message-ID: ${m.outgoing.messageId}`);
    expect(sent).toMatch(/multipart\/alternative/);
    expect(sent).toMatch(/^X-Ticket: 42/m);
  });

  it('refuses no recipients, bad addresses and unreadable attachments', async () => {
    await expect(composeMessage(base)).rejects.toMatchObject({ code: 'MISSING_INPUT', exitCode: 2 });
    await expect(composeMessage({ ...base, to: ['not an address'] })).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    await expect(composeMessage({ ...base, to: ['a@x.org'], attachments: ['/no/such/file'] })).rejects.toThrow(/cannot read attachment/);
  });

  it('takes the envelope of a prepared message from its headers unless flags give one', async () => {
    const raw = Buffer.from('From: a@x.org\r\nTo: b@x.org, c@x.org\r\nBcc: d@x.org\r\nMessage-ID: <1@x>\r\nSubject: s\r\n\r\nbody\r\n');
    const m = await prepareRawMessage(raw, { recipients: [] });
    expect(m.outgoing.envelope).toEqual({ from: 'a@x.org', to: ['b@x.org', 'c@x.org', 'd@x.org'] });
    expect(m.outgoing.raw).toBe(raw);
    expect(m.outgoing.messageId).toBe('<1@x>');
    const overridden = await prepareRawMessage(raw, { from: 'z@x.org', recipients: ['only@x.org'] });
    expect(overridden.outgoing.envelope).toEqual({ from: 'z@x.org', to: ['only@x.org'] });
  });
});
