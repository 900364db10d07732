// The IMAP protocol kit (src/net/imap) and the sync client's pieces (src/providers/imap/wire): the byte stream cut into
// responses, values and FETCH attributes, modified UTF-7 folder names, BODYSTRUCTURE to
// attachment detection, FETCH attributes to the cached message, and VANISHED UID sets.
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import type { SyncOptions } from '../../src/domain/sync.js';
import { hasAttachments } from '../../src/providers/imap/envelope.js';
import { ResponseTooLarge } from '../../src/net/imap/limits.js';
import { encodeMessageId } from '../../src/providers/imap/ids.js';
import { newMessageItems, structureNode, toCachedMessage } from '../../src/providers/imap/wire/message.js';
import { ConnectionAhead } from '../../src/providers/imap/wire/ahead.js';
import { WireClient } from '../../src/providers/imap/wire/client.js';
import { listFolders } from '../../src/providers/imap/folder-list.js';
import {
  ResponseReader,
  fetchAttributes,
  parseValues,
  responseCode,
  text,
  type Response,
  type Untagged,
  type Value,
} from '../../src/net/imap/response.js';
import { compressUidSet, expandUidSet } from '../../src/net/imap/uid-set.js';
import { decodeMailboxName, encodeMailboxName, quoteMailbox } from '../../src/net/imap/utf7.js';

const bytes = (...parts: (string | Buffer)[]): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part)));

/** A literal as it goes on the wire: `{n}\r\n` and the n bytes. */
const literal = (content: Buffer): Buffer => bytes(`{${content.length}}\r\n`, content);

function readAll(...chunks: Buffer[]): Response[] {
  const reader = new ResponseReader();
  const out = chunks.flatMap((chunk) => reader.push(chunk));
  // Nothing of a complete stream may stay behind.
  expect(reader.buffered).toBe(0);
  return out;
}

function untagged(response: Response | undefined): Untagged {
  expect(response?.type).toBe('untagged');
  return response as Untagged;
}

const options = (overrides: Partial<SyncOptions> = {}): SyncOptions => ({
  folders: null,
  full: false,
  since: null,
  headersOnly: false,
  bodyLimit: 1_000_000,
  batchSize: 100,
  ...overrides,
});

describe('ResponseReader', () => {
  // A body with CRLFs, 8-bit bytes (invalid UTF-8 too), a NUL, and text that looks like a
  // literal marker and like a tagged response: none of it may be read as protocol.
  const body = bytes(
    'Subject: caf\xe9\r\n\r\nline one\r\n',
    Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0xa9, 0x0d, 0x0a]),
    'fake {3}\r\nA1 OK not a response\r\n',
  );
  const stream = bytes(
    // A UTF-8 subject (UTF8=ACCEPT) in the line itself: cuts fall inside its multi-byte characters too.
    '* 12 FETCH (UID 7 FLAGS (\\Seen) ENVELOPE (NIL "Grüße 📧" NIL NIL NIL NIL NIL NIL NIL NIL) BODY[] ',
    literal(body),
    ' BODY[HEADER.FIELDS (X-NONE)] ',
    literal(Buffer.alloc(0)),
    ')\r\n',
    'A3 OK [EXPUNGEISSUED] Fetch completed.\r\n',
  );

  function expectFetchAndOk(responses: Response[]): void {
    expect(responses).toHaveLength(2);
    const fetch = untagged(responses[0]);
    expect(fetch).toMatchObject({ tag: '*', number: 12, kind: 'FETCH' });
    expect(fetch.segments).toHaveLength(5);
    expect(fetch.segments[0]).toBe('(UID 7 FLAGS (\\Seen) ENVELOPE (NIL "Grüße 📧" NIL NIL NIL NIL NIL NIL NIL NIL) BODY[] {' + body.length + '}');
    expect(fetch.segments[1]).toEqual(body);
    expect(fetch.segments[2]).toBe(' BODY[HEADER.FIELDS (X-NONE)] {0}');
    expect(fetch.segments[3]).toEqual(Buffer.alloc(0));
    expect(fetch.segments[4]).toBe(')');
    expect(responses[1]).toEqual({ type: 'tagged', tag: 'A3', status: 'OK', code: 'EXPUNGEISSUED', text: 'Fetch completed.' });
  }

  it('reads a FETCH with literals the same in one chunk, cut at every byte, and one byte at a time', () => {
    expectFetchAndOk(readAll(stream));
    for (let cut = 0; cut <= stream.length; cut++) {
      expectFetchAndOk(readAll(stream.subarray(0, cut), stream.subarray(cut)));
    }
    const oneByOne: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) oneByOne.push(stream.subarray(i, i + 1));
    expectFetchAndOk(readAll(...oneByOne));
  });

  it('reads the same in three chunks (first cut at every byte, second every 17 bytes after it)', () => {
    for (let a = 0; a <= stream.length; a += 1) {
      for (let b = a; b <= stream.length; b += 17) {
        expectFetchAndOk(readAll(stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)));
      }
    }
  });

  it('returns nothing until a response is complete, and holds only the incomplete part', () => {
    const reader = new ResponseReader();
    const cut = stream.indexOf('line one');
    expect(reader.push(stream.subarray(0, cut))).toEqual([]);
    expect(reader.buffered).toBeGreaterThan(0);
    expectFetchAndOk(reader.push(stream.subarray(cut)));
    expect(reader.buffered).toBe(0);
    expect(reader.push(Buffer.alloc(0))).toEqual([]);
  });

  it('survives a malformed untagged line and reads on', () => {
    // A bare `*` is a protocol violation, but push() runs in the socket's data handler:
    // a throw there is an uncaught exception that ends the process instead of a mapped error.
    const reader = new ResponseReader();
    let responses: Response[] = [];
    expect(() => {
      responses = reader.push(bytes('*\r\n* 5 EXISTS\r\n'));
    }).not.toThrow();
    expect(responses.at(-1)).toMatchObject({ type: 'untagged', number: 5, kind: 'EXISTS' });
  });

  it('reads several responses from one chunk, in order', () => {
    const responses = readAll(
      bytes(
        '* 5 EXISTS\r\n',
        '* 0 RECENT\r\n',
        '* OK [UIDVALIDITY 3] UIDs valid\r\n',
        '* OK [UIDNEXT 42] Predicted next UID\r\n',
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n',
        'A2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n',
      ),
    );
    expect(responses).toHaveLength(6);
    const exists = untagged(responses[0]);
    expect(exists).toMatchObject({ number: 5, kind: 'EXISTS', text: '' });
    expect(untagged(responses[1])).toMatchObject({ number: 0, kind: 'RECENT' });
    const ok = untagged(responses[2]);
    expect(ok).toMatchObject({ number: null, kind: 'OK', text: '[UIDVALIDITY 3] UIDs valid' });
    expect(responseCode(ok.text)).toEqual(['UIDVALIDITY', '3']);
    expect(responseCode(untagged(responses[3]).text)).toEqual(['UIDNEXT', '42']);
    const flags = untagged(responses[4]);
    expect(flags).toMatchObject({ number: null, kind: 'FLAGS' });
    expect(parseValues(flags.segments)).toEqual([['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft']]);
    expect(responses[5]).toEqual({ type: 'tagged', tag: 'A2', status: 'OK', code: 'READ-WRITE', text: 'Select completed (0.001 + 0.000 secs).' });
  });

  it('reads tagged OK, NO and BAD with and without response codes', () => {
    const [no, bad, ok, lower, withArgs] = readAll(
      bytes(
        'A1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n',
        'A2 BAD Error in IMAP command UID: Invalid arguments.\r\n',
        'A3 OK Logout completed.\r\n',
        'a4 no [trycreate] Mailbox does not exist\r\n',
        'A5 OK [APPENDUID 38505 3955] Append completed.\r\n',
      ),
    );
    expect(no).toEqual({ type: 'tagged', tag: 'A1', status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Authentication failed.' });
    expect(bad).toEqual({ type: 'tagged', tag: 'A2', status: 'BAD', code: null, text: 'Error in IMAP command UID: Invalid arguments.' });
    expect(ok).toEqual({ type: 'tagged', tag: 'A3', status: 'OK', code: null, text: 'Logout completed.' });
    // Status and code atom are case-insensitive; the code's arguments are kept as sent.
    expect(lower).toEqual({ type: 'tagged', tag: 'a4', status: 'NO', code: 'TRYCREATE', text: 'Mailbox does not exist' });
    expect(withArgs).toMatchObject({ status: 'OK', code: 'APPENDUID 38505 3955', text: 'Append completed.' });
  });

  it('reads continuations, with and without text', () => {
    const [ready, empty] = readAll(bytes('+ Ready for literal data\r\n+\r\n'));
    expect(ready).toEqual({ type: 'continuation', tag: '+', text: 'Ready for literal data' });
    expect(empty).toEqual({ type: 'continuation', tag: '+', text: '' });
  });

  it('accepts bare LF line ends', () => {
    const [exists, ok] = readAll(bytes('* 3 EXISTS\n', 'A1 OK done\n'));
    expect(exists).toMatchObject({ type: 'untagged', number: 3, kind: 'EXISTS', text: '' });
    expect(ok).toMatchObject({ type: 'tagged', status: 'OK', text: 'done' });
  });

  it('reads a response with two literals (an ENVELOPE subject and BODY[])', () => {
    const subject = Buffer.from('Grüße {1}\r\n)', 'utf8');
    const message = bytes('Subject: x\r\n\r\nhi\r\n');
    const stream = bytes(
      '* 2 FETCH (UID 9 ENVELOPE (NIL ',
      literal(subject),
      ' NIL NIL NIL NIL NIL NIL NIL "<id@example.com>") BODY[] ',
      literal(message),
      ')\r\n',
    );
    for (let cut = 0; cut <= stream.length; cut++) {
      const [response, ...rest] = readAll(stream.subarray(0, cut), stream.subarray(cut));
      expect(rest).toEqual([]);
      const fetch = untagged(response);
      expect(fetch).toMatchObject({ number: 2, kind: 'FETCH' });
      // The literal marker is not part of the text.
      expect(fetch.text).toBe('(UID 9 ENVELOPE (NIL ');
      const attributes = fetchAttributes(fetch.segments);
      expect(text(attributes.get('UID'))).toBe('9');
      const envelope = attributes.get('ENVELOPE') as Value[];
      expect(envelope).toHaveLength(10);
      expect(envelope[1]).toEqual(subject);
      expect(envelope[9]).toBe('<id@example.com>');
      expect(attributes.get('BODY[]')).toEqual(message);
    }
  });
});

describe('parseValues', () => {
  it('reads nested lists, NIL (any case) as null, and a quoted "NIL" as text', () => {
    expect(parseValues(['(a (b (c NIL)) () nil "NIL") x'])).toEqual([['a', ['b', ['c', null]], [], null, 'NIL'], 'x']);
  });

  it('unescapes \\" and \\\\ in quoted strings and keeps parentheses, brackets and spaces in them', () => {
    const values = parseValues([String.raw`("say \"hi\"" "C:\\dir\\" "a (b) [c" "" "Doe, John")`]);
    expect(values).toEqual([['say "hi"', 'C:\\dir\\', 'a (b) [c', '', 'Doe, John']]);
  });

  it('keeps a bracketed section with spaces and parentheses, and its partial, in one atom', () => {
    const values = parseValues(['(BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO)]<0> {3}', Buffer.from('abc'), ' BODY[] "x")']);
    expect(values).toEqual([['BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO)]<0>', Buffer.from('abc'), 'BODY[]', 'x']]);
  });

  it('reads flags as atoms with their backslash', () => {
    expect(parseValues([String.raw`(FLAGS (\Seen \Answered $Forwarded \*))`])).toEqual([['FLAGS', ['\\Seen', '\\Answered', '$Forwarded', '\\*']]]);
  });

  it('puts literals as Buffers in place, inside nested lists too', () => {
    const first = Buffer.from([0xff, 0x00, 0x28, 0x29]);
    const second = Buffer.alloc(0);
    const values = parseValues(['(A (B {4}', first, ' C {0}', second, ') D)']);
    expect(values).toEqual([['A', ['B', first, 'C', second], 'D']]);
    const inner = (values[0] as Value[])[1] as Value[];
    expect(inner[1]).toBe(first);
  });
});

describe('fetchAttributes and text', () => {
  it('maps a FETCH response to its attributes', () => {
    const [response] = readAll(bytes('* 1 FETCH (UID 7 FLAGS (\\Seen) MODSEQ (12) RFC822.SIZE 5 BODY[]<0> {5}\r\nhello)\r\n'));
    const attributes = fetchAttributes(untagged(response).segments);
    expect([...attributes.keys()]).toEqual(['UID', 'FLAGS', 'MODSEQ', 'RFC822.SIZE', 'BODY[]<0>']);
    expect(attributes.get('UID')).toBe('7');
    expect(attributes.get('FLAGS')).toEqual(['\\Seen']);
    expect(attributes.get('MODSEQ')).toEqual(['12']);
    const body = attributes.get('BODY[]<0>');
    expect(Buffer.isBuffer(body)).toBe(true);
    expect(text(body)).toBe('hello');
  });

  it('upper-cases attribute names', () => {
    const attributes = fetchAttributes(['(uid 3 flags ())']);
    expect(attributes.get('UID')).toBe('3');
    expect(attributes.get('FLAGS')).toEqual([]);
  });

  it('gives an empty map for a response without a list', () => {
    expect(fetchAttributes(['']).size).toBe(0);
  });

  it('text(): strings as they are, literals as UTF-8, NIL and lists as null', () => {
    expect(text('abc')).toBe('abc');
    expect(text(Buffer.from('café', 'utf8'))).toBe('café');
    expect(text(null)).toBeNull();
    expect(text(undefined)).toBeNull();
    expect(text(['a'])).toBeNull();
  });

  it('responseCode(): code atom upper-cased, arguments kept; null without a code', () => {
    expect(responseCode('[uidvalidity 3] x')).toEqual(['UIDVALIDITY', '3']);
    expect(responseCode('[PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.')).toEqual(['PERMANENTFLAGS', '(\\Deleted \\Seen \\*)']);
    expect(responseCode('[CLOSED] Previous mailbox closed.')).toEqual(['CLOSED', '']);
    expect(responseCode('Logged in')).toBeNull();
  });
});

describe('modified UTF-7 folder names', () => {
  it('encodes and decodes non-ASCII as UTF-16BE base64 between & and -', () => {
    expect(encodeMailboxName('Entwürfe')).toBe('Entw&APw-rfe');
    expect(decodeMailboxName('Entw&APw-rfe')).toBe('Entwürfe');
  });

  it('writes & as &-', () => {
    expect(encodeMailboxName('&')).toBe('&-');
    expect(decodeMailboxName('&-')).toBe('&');
    expect(encodeMailboxName('Tom & Jerry')).toBe('Tom &- Jerry');
    expect(decodeMailboxName('Tom &- Jerry')).toBe('Tom & Jerry');
    expect(encodeMailboxName('ü&')).toBe('&APw-&-');
    expect(decodeMailboxName('&APw-&-')).toBe('ü&');
  });

  it('reads and writes the RFC 3501 example, with "," for "/" in the base64', () => {
    expect(decodeMailboxName('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
    expect(encodeMailboxName('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  });

  it('encodes surrogate pairs whole', () => {
    expect(encodeMailboxName('📧')).toBe('&2D3c5w-');
    expect(decodeMailboxName('&2D3c5w-')).toBe('📧');
  });

  it('round-trips Japanese, emoji, control characters and plain ASCII', () => {
    for (const name of ['INBOX', 'Sent Items/2024', '受信トレイ/重要', '📧 Mail 🚀', 'a😀b&c~d', 'Tab\there', 'Ärger & Ölpreis', '-&-']) {
      const encoded = encodeMailboxName(name);
      expect(encoded).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeMailboxName(encoded)).toBe(name);
    }
    expect(encodeMailboxName('Sent Items/2024')).toBe('Sent Items/2024');
  });

  it('quotes a name for a command, escaping " and \\', () => {
    expect(quoteMailbox('INBOX')).toBe('"INBOX"');
    expect(quoteMailbox('say "hi"\\there')).toBe('"say \\"hi\\"\\\\there"');
    expect(quoteMailbox('Entwürfe')).toBe('"Entw&APw-rfe"');
  });
});

describe('BODYSTRUCTURE to attachments', () => {
  /** A BODYSTRUCTURE value as the FETCH parser gives it. */
  const structure = (raw: string): Value => {
    const [value] = parseValues([raw]);
    return value as Value;
  };
  const attached = (raw: string) => hasAttachments(structureNode(structure(raw)));

  const plain = '("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)';
  const html = '("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 40 3 NIL NIL NIL NIL)';
  const pdfAttachment =
    '("application" "pdf" ("name" "report.pdf") NIL NIL "base64" 1234 NIL ("attachment" ("filename" "report.pdf")) NIL NIL)';

  it('a single text/plain part has none', () => {
    expect(structureNode(structure(plain))).toEqual({ type: 'text/plain', disposition: undefined });
    expect(attached(plain)).toBe(false);
  });

  it('multipart/mixed with a PDF marked attachment has one', () => {
    const raw = `(${plain}${pdfAttachment} "mixed" ("boundary" "b1") NIL NIL NIL)`;
    expect(structureNode(structure(raw))).toEqual({
      type: 'multipart/mixed',
      disposition: undefined,
      childNodes: [
        { type: 'text/plain', disposition: undefined },
        { type: 'application/pdf', disposition: 'attachment' },
      ],
    });
    expect(attached(raw)).toBe(true);
  });

  it('multipart/alternative of text and HTML has none', () => {
    expect(attached(`(${plain}${html} "alternative" ("boundary" "b2") NIL NIL NIL)`)).toBe(false);
  });

  it('an inline image in multipart/related is not one', () => {
    const image = '("image" "png" ("name" "logo.png") "<logo@example.com>" NIL "base64" 500 NIL ("inline" ("filename" "logo.png")) NIL NIL)';
    const raw = `((${plain}${html} "alternative" ("boundary" "b3") NIL NIL NIL)${image} "related" ("boundary" "b4" "type" "multipart/alternative") NIL NIL NIL)`;
    const node = structureNode(structure(raw));
    expect(node?.type).toBe('multipart/related');
    expect(node?.childNodes?.[0]?.type).toBe('multipart/alternative');
    expect(node?.childNodes?.[1]).toEqual({ type: 'image/png', disposition: 'inline' });
    expect(attached(raw)).toBe(false);
  });

  it('a forwarded message/rfc822 is one (its own envelope and body are skipped over)', () => {
    const inner =
      '("message" "rfc822" NIL NIL NIL "7bit" 300 ("Mon, 4 Mar 2024 10:00:00 +0000" "inner" (("A" NIL "a" "example.com")) (("A" NIL "a" "example.com")) (("A" NIL "a" "example.com")) (("B" NIL "b" "example.com")) NIL NIL NIL "<inner@example.com>") ' +
      `${plain} 10 NIL NIL NIL NIL)`;
    const raw = `(${plain}${inner} "mixed" ("boundary" "b5") NIL NIL NIL)`;
    expect(structureNode(structure(raw))?.childNodes?.[1]).toEqual({ type: 'message/rfc822', disposition: undefined });
    expect(attached(raw)).toBe(true);
    // Marked inline, it is shown in the message, not attached: the disposition is read after the line count.
    const inline = inner.replace(/ 10 NIL NIL NIL NIL\)$/, ' 10 NIL ("inline" NIL) NIL NIL)');
    expect(structureNode(structure(inline))).toEqual({ type: 'message/rfc822', disposition: 'inline' });
    expect(attached(`(${plain}${inline} "mixed" ("boundary" "b6") NIL NIL NIL)`)).toBe(false);
  });

  it('a PDF with no disposition is one, alone or in a multipart', () => {
    const pdf = '("application" "pdf" ("name" "x.pdf") NIL NIL "base64" 1234 NIL NIL NIL NIL)';
    expect(structureNode(structure(pdf))).toEqual({ type: 'application/pdf', disposition: undefined });
    expect(attached(pdf)).toBe(true);
    expect(attached(`(${plain}${pdf} "mixed" ("boundary" "b7") NIL NIL NIL)`)).toBe(true);
  });

  it('a text part marked attachment is one (its disposition comes after the line count)', () => {
    const notes = '("text" "plain" ("name" "notes.txt") NIL NIL "7bit" 10 1 NIL ("attachment" ("filename" "notes.txt")) NIL NIL)';
    expect(structureNode(structure(notes))).toEqual({ type: 'text/plain', disposition: 'attachment' });
    expect(attached(`(${plain}${notes} "mixed" ("boundary" "b8") NIL NIL NIL)`)).toBe(true);
  });

  it('reads upper-case types and structures without extension data', () => {
    expect(structureNode(structure('("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3 1)'))).toEqual({ type: 'text/plain', disposition: undefined });
    expect(attached('(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1)("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 8) "MIXED")')).toBe(true);
  });

  it('gives no node for NIL or an empty list', () => {
    expect(structureNode(null)).toBeUndefined();
    expect(structureNode([])).toBeUndefined();
    expect(structureNode(undefined)).toBeUndefined();
  });
});

describe('toCachedMessage', () => {
  const message = bytes(
    'From: "Doe, John" <john@example.com>\r\n',
    'To: friends: Ann <ann@example.com>;\r\n',
    'Subject: =?utf-8?q?caf=C3=A9?=\r\n',
    'Message-ID: <m2@example.com>\r\n',
    'In-Reply-To: <m1@example.com>\r\n',
    'References: <m0@example.com>\r\n',
    '\t<m1@example.com>\r\n',
    'X-Other: <not-a-reference@example.com>\r\n',
    'Date: Mon, 4 Mar 2024 10:00:00 +0000\r\n',
    'Content-Type: text/plain; charset=utf-8\r\n',
    '\r\n',
    'Hello café,\r\n',
    'the quarterly numbers are attached.\r\n',
  );
  const envelope =
    '("Mon, 4 Mar 2024 10:00:00 +0000" "=?utf-8?q?caf=C3=A9?=" ' +
    '(("\\"Doe, John\\"" NIL "john" "example.com")) ' + // from, its name left quoted
    '(("\\"Doe, John\\"" NIL "john" "example.com")) ' + // sender
    '(("Replies" NIL "replies" "example.com")) ' + // reply-to
    '((NIL NIL "friends" NIL)("Ann" NIL "ann" "example.com")(NIL NIL NIL NIL)) ' + // to: a group
    '(("=?iso-8859-1?q?J=F6rg?=" NIL "joerg" "example.de")) ' + // cc
    'NIL ' + // bcc
    '"<m1@example.com>" "<m2@example.com>")';
  const structure = '("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 47 2 NIL NIL NIL NIL)';

  /** FETCH attributes as the sync client gets them: the raw response, read and mapped. */
  function fetched(size: number, section: string, content: Buffer, extra = ''): Map<string, Value> {
    const stream = bytes(
      '* 4 FETCH (UID 42 FLAGS (\\Seen \\Recent $Forwarded) INTERNALDATE "04-Mar-2024 10:00:05 +0000" ',
      `RFC822.SIZE ${size} ENVELOPE ${envelope} BODYSTRUCTURE ${structure}${extra} MODSEQ (12345678901234) ${section} `,
      literal(content),
      ')\r\n',
    );
    const [response, ...rest] = readAll(stream);
    expect(rest).toEqual([]);
    return fetchAttributes(untagged(response).segments);
  }

  it('builds the cached message from a whole body', () => {
    const { cached, bytes: fetchedBytes } = toCachedMessage(fetched(message.length, 'BODY[]<0>', message), 'INBOX', '1700000000', options());
    expect(fetchedBytes).toBe(message.length);
    expect(cached.folders).toEqual([{ folder: 'INBOX', uid: 42 }]);
    expect(cached.message).toEqual({
      id: encodeMessageId({ folder: 'INBOX', uidValidity: '1700000000', uid: 42 }),
      messageId: '<m2@example.com>',
      subject: 'café',
      from: { name: 'Doe, John', address: 'john@example.com' },
      to: [{ name: 'Ann', address: 'ann@example.com' }],
      cc: [{ name: 'Jörg', address: 'joerg@example.de' }],
      bcc: [],
      replyTo: [{ name: 'Replies', address: 'replies@example.com' }],
      inReplyTo: '<m1@example.com>',
      references: ['<m0@example.com>', '<m1@example.com>'],
      date: new Date('2024-03-04T10:00:00Z'),
      internalDate: new Date('2024-03-04T10:00:05Z'),
      size: message.length,
      // \Recent belongs to the session, not the message.
      flags: { seen: true, flagged: false, answered: false, draft: false, keywords: ['$Forwarded'] },
      hasAttachments: false,
      raw: message,
      bodyText: 'Hello café, the quarterly numbers are attached.',
    });
  });

  it('keeps no raw bytes for a partial body, but indexes what came', () => {
    const part = message.subarray(0, message.indexOf('the quarterly'));
    const { cached, bytes: fetchedBytes } = toCachedMessage(fetched(message.length, 'BODY[]<0>', part), 'INBOX', '7', options({ bodyLimit: part.length }));
    expect(fetchedBytes).toBe(part.length);
    expect(cached.message.raw).toBeNull();
    expect(cached.message.size).toBe(message.length);
    expect(cached.message.bodyText).toBe('Hello café,');
    expect(cached.message.references).toEqual(['<m0@example.com>', '<m1@example.com>']);
  });

  it('with --headers-only: references from the header section, no raw bytes, no body text', () => {
    const header = bytes('References: <m0@example.com>\r\n <m1@example.com>\r\n\r\n');
    const { cached, bytes: fetchedBytes } = toCachedMessage(
      fetched(message.length, 'BODY[HEADER.FIELDS (REFERENCES)]', header),
      'Archive/2024',
      '7',
      options({ headersOnly: true }),
    );
    expect(fetchedBytes).toBe(header.length);
    expect(cached).toMatchObject({ folders: [{ folder: 'Archive/2024', uid: 42 }], message: { subject: 'café', raw: null, bodyText: null } });
    expect(cached.message.id).toBe(encodeMessageId({ folder: 'Archive/2024', uidValidity: '7', uid: 42 }));
    expect(cached.message.references).toEqual(['<m0@example.com>', '<m1@example.com>']);
  });

  it('tells attachments by BODYSTRUCTURE', () => {
    const mixed =
      '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 12 1 NIL NIL NIL NIL)' +
      '("application" "pdf" ("name" "q.pdf") NIL NIL "base64" 1234 NIL ("attachment" ("filename" "q.pdf")) NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL)';
    const attributes = fetched(message.length, 'BODY[]<0>', message);
    attributes.set('BODYSTRUCTURE', parseValues([mixed])[0] as Value);
    expect(toCachedMessage(attributes, 'INBOX', '7', options()).cached.message.hasAttachments).toBe(true);
  });

  it('reads a subject sent as a literal (8-bit, UTF8=ACCEPT) and falls back to INTERNALDATE without a date', () => {
    const subject = Buffer.from('Grüße aus Köln', 'utf8');
    const body = bytes('Subject: x\r\n\r\nhi\r\n');
    const stream = bytes(
      '* 1 FETCH (UID 3 INTERNALDATE " 7-Feb-2024 21:52:25 -0800" RFC822.SIZE 99 ENVELOPE (NIL ',
      literal(subject),
      ' NIL NIL NIL NIL NIL NIL NIL NIL) BODY[]<0> ',
      literal(body),
      ')\r\n',
    );
    const [response] = readAll(stream);
    const { cached: upsert, uid } = toCachedMessage(fetchAttributes(untagged(response).segments), 'INBOX', '7', options());
    const cached = upsert.message;
    expect(uid).toBe(3);
    expect(upsert.folders).toEqual([{ folder: 'INBOX', uid: 3 }]);
    expect(cached).toMatchObject({
      subject: 'Grüße aus Köln',
      messageId: null,
      inReplyTo: null,
      from: null,
      to: [],
      references: [],
      flags: { seen: false, flagged: false, answered: false, draft: false, keywords: [] },
      hasAttachments: false,
      raw: null,
      bodyText: 'hi',
    });
    expect(cached.internalDate).toEqual(new Date('2024-02-08T05:52:25Z'));
    expect(cached.date).toEqual(cached.internalDate);
  });
});

describe('newMessageItems', () => {
  it('asks for a partial body up to the limit, or only References with --headers-only', () => {
    expect(newMessageItems(options({ bodyLimit: 5000 }), true)).toBe(
      '(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ BODY.PEEK[]<0.5000>)',
    );
    expect(newMessageItems(options({ headersOnly: true }), false)).toBe(
      '(UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (REFERENCES)])',
    );
  });
});

describe('compressUidSet', () => {
  // What the sync feed (new UIDs) and the provider (refs, possibly repeated) hand it.
  it('collapses runs and drops duplicates, whatever the order', () => {
    expect(compressUidSet([5, 1, 2, 3, 9, 10, 12])).toBe('1:3,5,9:10,12');
    expect(compressUidSet([7, 3, 3, 4, 7])).toBe('3:4,7');
    expect(compressUidSet([5, 5])).toBe('5');
    expect(compressUidSet(new Set([2, 1]))).toBe('1:2');
    expect(compressUidSet([])).toBe('');
  });
});

describe('expandUidSet', () => {
  it('expands ranges in either order', () => {
    expect(expandUidSet('1:3,5,9:7')).toEqual([1, 2, 3, 5, 7, 8, 9]);
    expect(expandUidSet('42')).toEqual([42]);
    expect(expandUidSet('10:10')).toEqual([10]);
  });

  it('never expands past the highest UID asked for', () => {
    expect(expandUidSet('2:4294967295,7', 5)).toEqual([2, 3, 4, 5]);
    expect(expandUidSet('8:9', 5)).toEqual([]);
  });
});

describe('response limits (net/imap/limits.ts)', () => {
  const limits = { maxLine: 1024, maxLiteral: 4096, maxResponse: 8192 };

  it('a line past its limit throws as soon as it is held, without its end ever coming', () => {
    const reader = new ResponseReader(null, limits);
    expect(reader.push(Buffer.from('* OK fine\r\n'))).toHaveLength(1);
    reader.push(Buffer.from('* LIST () "/" '));
    expect(() => reader.push(Buffer.alloc(2000, 0x61))).toThrow(ResponseTooLarge);
  });

  it('a literal over the limit is refused when announced: {4294967295} holds nothing', () => {
    const reader = new ResponseReader(null, limits);
    let error: unknown;
    try {
      reader.push(Buffer.from('* 1 FETCH (BODY[] {4294967295}\r\nabc'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ResponseTooLarge);
    expect(error).toMatchObject({ what: 'literal', size: 4294967295, limit: 4096 });
    expect(reader.buffered).toBeLessThan(100);
  });

  it('many literals within their limit still add up to the response limit', () => {
    const reader = new ResponseReader(null, limits);
    const part = `BODY[1] {3000}\r\n${'x'.repeat(3000)} `;
    expect(() => reader.push(Buffer.from(`* 1 FETCH (${part}${part}${part})\r\n`))).toThrow(/response/);
    // Within the limits, the same shape reads as it did.
    const ok = new ResponseReader(null, limits).push(Buffer.from(`* 1 FETCH (${part})\r\n`));
    expect(ok).toHaveLength(1);
  });
});

/**
 * The sync client against a server on 127.0.0.1 that answers ENABLE only once the next command
 * has arrived: a client that waited for ENABLE's answer before sending it would never finish.
 */
describe('WireClient: ENABLE and the folder list in one round trip', () => {
  const CAPS = 'IMAP4rev1 LITERAL+ SASL-IR ENABLE LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC';

  async function withServer(enableAnswer: string, body: (client: WireClient, received: string[]) => Promise<void>): Promise<void> {
    const received: string[] = [];
    const server = createServer((socket) => {
      socket.write(`* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ENABLE AUTH=PLAIN] ready\r\n`);
      let buffered = '';
      let enableTag: string | null = null;
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        let end: number;
        while ((end = buffered.indexOf('\r\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          received.push(line);
          const [tag, command] = line.split(' ');
          if (command === 'LOGIN') socket.write(`${tag} OK [CAPABILITY ${CAPS}] Logged in\r\n`);
          else if (command === 'ENABLE') enableTag = tag!;
          else if (command === 'LIST') {
            // ENABLE's answer first, as a server answers in order.
            if (enableTag) socket.write(enableAnswer.replaceAll('TAG', enableTag));
            socket.write('* LIST () "/" INBOX\r\n* STATUS INBOX (MESSAGES 2 UNSEEN 1 UIDNEXT 3 UIDVALIDITY 7 HIGHESTMODSEQ 9)\r\n');
            socket.write(`${tag} OK List completed\r\n`);
          } else if (command === 'LOGOUT') socket.end(`* BYE\r\n${tag} OK Logout completed\r\n`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new WireClient({
      endpoint: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, tls: 'none' },
      credentials: { kind: 'password', user: 'someone', password: 'secret' },
      insecure: false,
      caFile: null,
      runtime: { timeoutMs: 5000, trace: null, warn: () => {} },
    });
    try {
      await body(client, received);
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('sends the folder list behind ENABLE without waiting, and knows what was enabled by its answer', async () => {
    await withServer('* ENABLED QRESYNC CONDSTORE\r\nTAG OK Enabled\r\n', async (client, received) => {
      await client.open(new AbortController().signal);
      const { listed, statuses } = await listFolders(client);
      expect(received.map((line) => line.split(' ')[1])).toEqual(['LOGIN', 'ENABLE', 'LIST']);
      expect(received[1]).toMatch(/^W\d+ ENABLE QRESYNC CONDSTORE$/);
      // HIGHESTMODSEQ is asked before ENABLE's answer: the capability is enough for STATUS.
      expect(received[2]).toContain('HIGHESTMODSEQ');
      expect(listed.map((folder) => folder.path)).toEqual(['INBOX']);
      expect(statuses.get('INBOX')).toMatchObject({ uidNext: 3, highestModseq: '9' });
      expect([...client.enabled].sort()).toEqual(['CONDSTORE', 'QRESYNC']);
      await client.logout();
    });
  });

  it('a refused ENABLE fails the command behind it with its own error, as a refused login does', async () => {
    await withServer('TAG BAD Unknown command\r\n', async (client) => {
      await client.open(new AbortController().signal);
      await expect(listFolders(client)).rejects.toMatchObject({ responseStatus: 'BAD', message: expect.stringContaining('ENABLE') });
      expect(client.enabled.size).toBe(0);
    });
  });
});

describe('ConnectionAhead', () => {
  it('is taken once; discarded, or left waiting past its time, it is closed and the client connects anew', async () => {
    let opened = 0;
    let closed = 0;
    const server = createServer((socket) => {
      opened++;
      socket.on('close', () => closed++);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const reach = {
      endpoint: { host: '127.0.0.1', port: (server.address() as AddressInfo).port, tls: 'none' as const },
      insecure: false,
      caFile: null,
      runtime: { timeoutMs: 5000, trace: null, warn: () => {} },
    };
    const closes = async (count: number) => {
      for (let i = 0; i < 100 && closed < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(closed).toBe(count);
    };
    try {
      const taken = new ConnectionAhead(reach);
      const socket = await taken.take();
      expect(socket?.remotePort).toBe(reach.endpoint.port);
      expect(taken.take()).toBeNull();
      socket!.destroy();
      await closes(1);

      const discarded = new ConnectionAhead(reach);
      discarded.discard();
      expect(discarded.take()).toBeNull();
      await closes(2);

      vi.useFakeTimers({ toFake: ['Date'] });
      const stale = new ConnectionAhead(reach);
      vi.setSystemTime(Date.now() + 11_000);
      expect(stale.take()).toBeNull();
      vi.useRealTimers();
      await closes(3);
      expect(opened).toBe(3);
    } finally {
      vi.useRealTimers();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
