import { describe, expect, it } from 'vitest';
import { extractIndexText, parseReferences } from '../../src/mime/index-text.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

describe('extractIndexText', () => {
  it('takes the text/plain part of a multipart message, decoding QP and the charset, skipping attachments', () => {
    const raw = crlf([
      'Subject: x',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      'preamble',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Gr=FC=DFe aus K=F6ln, eine sehr lange Zeile die umgebrochen =',
      'wird',
      '--inner',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>HTML version</p>',
      '--inner--',
      '--outer',
      'Content-Type: text/plain; name="notes.txt"',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'attachment text must not be indexed',
      '--outer--',
      '',
    ]);
    expect(extractIndexText(raw)).toBe('Grüße aus Köln, eine sehr lange Zeile die umgebrochen wird');
  });

  it('reads text labelled ISO-8859-1 or US-ASCII as latin1, as read does, and windows-1252 as itself', () => {
    const bytes = '\x93Quoted\x94 \x96 caf\xe9 \x80 \x81';
    const text = (label: string) => extractIndexText(crlf([`Content-Type: text/plain; charset=${label}`, 'Content-Transfer-Encoding: 8bit', '', bytes]));
    for (const label of ['iso-8859-1', 'ISO_8859-1', 'us-ascii', 'latin1']) {
      expect(text(label), label).toBe('\u0093Quoted\u0094 \u0096 caf\u00e9 \u0080 \u0081');
      expect(text(label), label).toBe(new TextDecoder(label).decode(Buffer.from(bytes, 'latin1')));
    }
    // 0x81 has no character in windows-1252 and stays the control code it is in latin1.
    for (const label of ['windows-1252', 'cp1252', 'x-cp1252']) {
      expect(text(label), label).toBe('\u201cQuoted\u201d \u2013 caf\u00e9 \u20ac \u0081');
    }
  });

  it('falls back to HTML without tags, scripts or styles; decodes base64 and KOI8-R', () => {
    const html = crlf([
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><head><style>p{}</style></head><body><script>x()</script><p>Hello&nbsp;<b>world</b> &amp; more</p></body></html>',
    ]);
    expect(extractIndexText(html)).toBe('Hello world & more');
    const koi8 = Buffer.concat([
      Buffer.from('Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n'),
      Buffer.from(Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]).toString('base64')),
    ]);
    expect(extractIndexText(koi8)).toBe('Привет');
  });

  it('copes with a truncated multipart (partial fetch) and with no body at all', () => {
    const truncated = crlf(['Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'start of a long te']);
    expect(extractIndexText(truncated)).toBe('start of a long te');
    expect(extractIndexText(Buffer.from('Subject: only headers\r\n'))).toBe('');
  });

  it('parses References', () => {
    expect(parseReferences('<a@x> <b@y>\r\n <c@z>')).toEqual(['<a@x>', '<b@y>', '<c@z>']);
    expect(parseReferences(null)).toEqual([]);
  });
});

describe('extractIndexText: a malformed Content-Type is text/plain (RFC 2045 5.2)', () => {
  it('indexes the body of a part typed "text" without a subtype, and of an unreadable type', () => {
    for (const header of ['Content-Type: text; charset=us-ascii', 'Content-Type: ;;;', 'Content-Type: /plain']) {
      const raw = Buffer.from(`Subject: s\r\nMIME-Version: 1.0\r\n${header}\r\n\r\nnightly backup 1234 files\r\n`);
      expect(extractIndexText(raw), header).toContain('nightly backup 1234 files');
    }
  });
});
