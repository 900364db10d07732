import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mime/parse.js';

/** A raw message from lines (strings are taken as latin1, i.e. one byte per code unit) and byte buffers, joined by CRLF. */
function mime(...parts: Array<string | Buffer>): Buffer {
  const chunks: Buffer[] = [];
  parts.forEach((part, i) => {
    if (i > 0) chunks.push(Buffer.from('\r\n'));
    chunks.push(typeof part === 'string' ? Buffer.from(part, 'latin1') : part);
  });
  return Buffer.concat(chunks);
}

/** "日本語のメール" in ISO-2022-JP: ESC $ B ... ESC ( B. */
const JIS_JAPANESE_MAIL = Buffer.from('1b2442467c4b5c386c244e2561213c256b1b2842', 'hex');

describe('parseMessage: headers', () => {
  it('decodes B and Q encoded-words split across folded lines and mixing charsets', async () => {
    const message = await parseMessage(
      mime(
        'From: =?ISO-8859-1?Q?Andr=E9_Pirard?= <pirard@example.be>',
        'Subject: =?ISO-8859-1?Q?Caf=E9?= =?KOI8-R?B?8NLJ18XU?=',
        ' =?UTF-8?B?IOKCrA==?=  =?windows-1251?Q?_=CC=E8=F0?=',
        'Date: Thu, 09 Jan 2025 10:30:00 +0000',
        '',
        'body',
      ),
    );
    expect(message.subject).toBe('CaféПривет € Мир');
    expect(message.from).toEqual({ name: 'André Pirard', address: 'pirard@example.be' });
  });

  it('joins a multi-byte character split between two encoded-words', async () => {
    // € is E2 82 AC: the first word carries E2 82, the second AC.
    const message = await parseMessage(mime('Subject: price =?UTF-8?B?4oI=?= =?UTF-8?B?rA==?= 5', '', ''));
    expect(message.subject).toBe('price € 5');
  });

  it('decodes an ISO-2022-JP subject and body', async () => {
    const message = await parseMessage(
      mime(
        `Subject: =?ISO-2022-JP?B?${JIS_JAPANESE_MAIL.toString('base64')}?=`,
        'Content-Type: text/plain; charset=ISO-2022-JP',
        'Content-Transfer-Encoding: 7bit',
        '',
        JIS_JAPANESE_MAIL,
      ),
    );
    expect(message.subject).toBe('日本語のメール');
    expect(message.bodyText.trim()).toBe('日本語のメール');
  });

  it('flattens address lists and groups, and drops empty groups', async () => {
    const message = await parseMessage(
      mime(
        'From: "Doe, Jane" <jane@example.com>',
        'To: Team: a@example.com, "Bob" <bob@example.com>;, carol@example.com',
        'Cc: undisclosed-recipients:;',
        'Bcc: x@example.com',
        'Bcc: =?utf-8?B?SsO2cmc=?= <joerg@example.de>',
        'Reply-To: Support <support@example.com>',
        '',
        'hi',
      ),
    );
    expect(message.from).toEqual({ name: 'Doe, Jane', address: 'jane@example.com' });
    expect(message.to).toEqual([
      { name: '', address: 'a@example.com' },
      { name: 'Bob', address: 'bob@example.com' },
      { name: '', address: 'carol@example.com' },
    ]);
    expect(message.cc).toEqual([]);
    expect(message.bcc).toEqual([
      { name: '', address: 'x@example.com' },
      { name: 'Jörg', address: 'joerg@example.de' },
    ]);
    expect(message.replyTo).toEqual([{ name: 'Support', address: 'support@example.com' }]);
  });

  it('reads ids, references and the date', async () => {
    const message = await parseMessage(
      mime(
        'Message-ID: <abc.123@mail.example.com>',
        'In-Reply-To: <parent@example.com> (Jane\'s message)',
        'References: <root@example.com>,',
        '  <parent@example.com>',
        'Date: Thu, 9 Jan 2025 11:30:00 +0100 (CET)',
        '',
        'x',
      ),
    );
    expect(message.messageId).toBe('<abc.123@mail.example.com>');
    expect(message.inReplyTo).toBe('<parent@example.com>');
    expect(message.references).toEqual(['<root@example.com>', '<parent@example.com>']);
    expect(message.date?.toISOString()).toBe('2025-01-09T10:30:00.000Z');
  });

  it('keeps every header line in order, duplicates included, decoded and unfolded', async () => {
    const message = await parseMessage(
      mime(
        'Received: from a.example.com',
        '\tby b.example.com; Thu, 9 Jan 2025 10:30:00 +0000',
        'Received: from c.example.com',
        'X-Note: =?utf-8?Q?gr=C3=BC=C3=9Fe?=',
        'Subject: hi',
        '',
        'body',
      ),
    );
    expect(message.headers).toEqual([
      { name: 'Received', value: 'from a.example.com\tby b.example.com; Thu, 9 Jan 2025 10:30:00 +0000' },
      { name: 'Received', value: 'from c.example.com' },
      { name: 'X-Note', value: 'grüße' },
      { name: 'Subject', value: 'hi' },
    ]);
  });
});

describe('parseMessage: malformed headers are shown, never fatal', () => {
  it('has no date when Date is missing, and none (not "now") when it is garbage', async () => {
    const missing = await parseMessage(mime('Subject: a', '', 'x'));
    const garbage = await parseMessage(mime('Subject: b', 'Date: sometime last week', '', 'x'));
    expect(missing.date).toBeNull();
    expect(garbage.date).toBeNull();
    expect(garbage.headers).toContainEqual({ name: 'Date', value: 'sometime last week' });
  });

  it('shows an unterminated encoded-word as written', async () => {
    const message = await parseMessage(mime('Subject: =?utf-8?B?SGVsbG8', '', 'x'));
    expect(message.subject).toBe('=?utf-8?B?SGVsbG8');
  });

  it('decodes raw 8-bit header bytes: UTF-8 when valid, else windows-1252', async () => {
    const utf8 = await parseMessage(mime(Buffer.from('Subject: Grüße aus Köln'), '', 'x'));
    const legacy = await parseMessage(mime(Buffer.from([...Buffer.from('Subject: caf'), 0xe9, 0x20, 0x93, 0x6f, 0x6b, 0x94]), '', 'x'));
    expect(utf8.subject).toBe('Grüße aus Köln');
    expect(legacy.subject).toBe('café “ok”');
  });

  it('handles a missing From and a line without a colon, and still reads the fields after it', async () => {
    const message = await parseMessage(mime('To: a@example.com', 'this line has no colon', 'Subject: still here', '', 'body text'));
    expect(message.from).toBeNull();
    expect(message.subject).toBe('still here');
    expect(message.headers).toEqual([
      { name: 'To', value: 'a@example.com' },
      { name: '', value: 'this line has no colon' },
      { name: 'Subject', value: 'still here' },
    ]);
    expect(message.bodyText.trim()).toBe('body text');
  });

  it('falls back to the raw text when mailparser gives up (header block over 1 MB)', async () => {
    const message = await parseMessage(mime('Subject: big', `X-Padding: ${'a'.repeat(1_100_000)}`, 'From: a@example.com', '', 'the body'));
    expect(message.subject).toBe('big');
    expect(message.bodyText).toBe('the body');
    expect(message.from).toBeNull();
    expect(message.headers.map((h) => h.name)).toEqual(['Subject', 'X-Padding', 'From']);
  });

  it('parses an empty message and one that is only garbage bytes', async () => {
    const empty = await parseMessage(Buffer.alloc(0));
    const garbage = await parseMessage(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0xc3]));
    expect(empty).toMatchObject({ subject: '', from: null, bodyText: '', attachments: [] });
    expect(garbage.subject).toBe('');
    expect(garbage.attachments).toEqual([]);
  });

  it('shows a body in an unknown charset instead of failing', async () => {
    const message = await parseMessage(mime('Content-Type: text/plain; charset=x-no-such-charset', '', 'plain ascii'));
    expect(message.bodyText.trim()).toBe('plain ascii');
  });
});

describe('parseMessage: body charsets and transfer encodings', () => {
  const samples: Array<[string, string]> = [
    ['UTF-8', 'Grüße, Привет, 日本, €'],
    ['ISO-8859-1', 'Café crème, naïve façade'],
    ['ISO-8859-2', 'Zażółć gęślą jaźń'],
    ['ISO-8859-15', 'Œuvre à 10 €'],
    ['windows-1251', 'Привет, мир! Ёлка'],
    ['windows-1252', '“Quotes” – dash… €'],
    ['KOI8-R', 'Съешь же ещё этих мягких булок'],
  ];

  for (const [charset, text] of samples) {
    const bytes = iconv.encode(text, charset);

    it(`decodes ${charset} sent as 8bit`, async () => {
      const message = await parseMessage(mime(`Content-Type: text/plain; charset="${charset}"`, 'Content-Transfer-Encoding: 8bit', '', bytes));
      expect(message.bodyText).toBe(text);
    });

    it(`decodes ${charset} sent as base64`, async () => {
      const message = await parseMessage(
        mime(`Content-Type: text/plain; charset=${charset}`, 'Content-Transfer-Encoding: base64', '', bytes.toString('base64')),
      );
      expect(message.bodyText).toBe(text);
    });

    it(`decodes ${charset} sent as quoted-printable`, async () => {
      const qp = [...bytes].map((b) => (b >= 0x21 && b <= 0x7e && b !== 0x3d ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
      const message = await parseMessage(mime(`Content-Type: text/plain; charset=${charset}`, 'Content-Transfer-Encoding: quoted-printable', '', qp));
      expect(message.bodyText).toBe(text);
    });
  }

  it('joins quoted-printable soft line breaks', async () => {
    const message = await parseMessage(
      mime('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', 'A long line that was wr=', 'apped, caf=C3=A9 =3D ok'),
    );
    expect(message.bodyText).toBe('A long line that was wrapped, café = ok');
  });
});

describe('parseMessage: structure', () => {
  const nested = mime(
    'From: a@example.com',
    'Subject: nested',
    'Content-Type: multipart/mixed; boundary="outer"',
    '',
    '--outer',
    'Content-Type: multipart/alternative; boundary="alt"',
    '',
    '--alt',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Plain caf=C3=A9',
    '--alt',
    'Content-Type: multipart/related; boundary="rel"',
    '',
    '--rel',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>HTML caf\u00c3\u00a9 <img src="cid:logo@x"></p>',
    '--rel',
    'Content-Type: image/png',
    'Content-ID: <logo@x>',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('PNGDATA').toString('base64'),
    '--rel--',
    '--alt--',
    '--outer',
    'Content-Type: application/pdf; name="report.pdf"',
    'Content-Disposition: attachment; filename="report.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from('%PDF-1.4 fake').toString('base64'),
    '--outer--',
    '',
  );

  it('takes the text part of mixed > alternative > related, keeps the HTML, lists both attachments', async () => {
    const message = await parseMessage(nested);
    expect(message.bodyText).toBe('Plain café');
    expect(message.bodyHtml).toBe('<p>HTML café <img src="cid:logo@x"></p>');
    expect(message.attachments.map(({ filename, contentType, size, inline }) => ({ filename, contentType, size, inline }))).toEqual([
      { filename: 'attachment-1.png', contentType: 'image/png', size: 7, inline: true },
      { filename: 'report.pdf', contentType: 'application/pdf', size: 13, inline: false },
    ]);
    expect(message.attachments[1]?.content.toString()).toBe('%PDF-1.4 fake');
    expect(message.hasAttachments).toBe(true);
  });

  it('does not count an inline body image as an attachment', async () => {
    const message = await parseMessage(
      mime(
        'Content-Type: multipart/related; boundary=r',
        '',
        '--r',
        'Content-Type: text/html',
        '',
        '<img src="cid:a">',
        '--r',
        'Content-Type: image/gif',
        'Content-ID: <a>',
        '',
        'GIF89a',
        '--r--',
      ),
    );
    expect(message.attachments).toHaveLength(1);
    expect(message.hasAttachments).toBe(false);
  });

  it('renders an HTML-only message as readable text, links kept', async () => {
    const message = await parseMessage(
      mime(
        'Content-Type: text/html; charset=utf-8',
        '',
        '<html><head><style>p { color: red }</style></head><body>',
        '<h1>Weekly report</h1><p>See <a href="https://example.com/r">the report</a> and <a href="https://example.com">https://example.com</a>.</p>',
        '<img src="cid:x" alt="logo"><ul><li>one</li><li>two</li></ul>',
        '<table><tr><td>Widget</td><td>$5.00</td></tr><tr><th>Total</th><td>$5.00</td></tr></table>',
        '<p>Bye&nbsp;&amp; thanks</p></body></html>',
      ),
    );
    expect(message.bodyText).toBe(
      'Weekly report\n\nSee the report [https://example.com/r] and https://example.com.\n\n * one\n * two\n\nWidget $5.00\nTotal $5.00\n\nBye\u00a0& thanks',
    );
    expect(message.bodyHtml).toContain('<h1>Weekly report</h1>');
  });

  it('renders the HTML as text when it is the only body part of a multipart message', async () => {
    const message = await parseMessage(
      mime(
        'Content-Type: multipart/mixed; boundary=X',
        '',
        '--X',
        'Content-Type: multipart/alternative; boundary=Y',
        '',
        '--Y',
        'Content-Type: text/html; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<p>Gr=FC=DFe <a href=3D"mailto:a@example.com">write to us</a></p>',
        '--Y--',
        '--X',
        'Content-Type: text/csv; name=data.csv',
        'Content-Disposition: attachment',
        '',
        'a,b',
        '--X--',
      ),
    );
    expect(message.bodyText).toBe('Grüße write to us [a@example.com]');
    expect(message.attachments.map((a) => a.filename)).toEqual(['data.csv']);
  });

  it('lists an attached message/rfc822 under its subject and keeps its body out of the text', async () => {
    const inner = ['From: inner@example.com', 'Subject: =?utf-8?Q?Original_r=C3=A9port?=', '', 'INNER BODY'].join('\r\n');
    for (const disposition of ['inline', 'attachment', null]) {
      const message = await parseMessage(
        mime(
          'Subject: Fwd',
          'Content-Type: multipart/mixed; boundary=X',
          '',
          '--X',
          'Content-Type: text/plain',
          '',
          'see attached',
          '--X',
          'Content-Type: message/rfc822',
          ...(disposition ? [`Content-Disposition: ${disposition}`] : []),
          '',
          inner,
          '--X--',
        ),
      );
      expect(message.bodyText).toBe('see attached');
      expect(message.subject).toBe('Fwd');
      expect(message.attachments.map((a) => [a.filename, a.contentType])).toEqual([['Original réport.eml', 'message/rfc822']]);
      expect(message.attachments[0]?.content.toString()).toBe(inner);
    }
  });

  it('names an attached message without a subject message.eml, also when base64-encoded', async () => {
    const message = await parseMessage(
      mime(
        'Content-Type: multipart/mixed; boundary=X',
        '',
        '--X',
        'Content-Type: text/plain',
        '',
        'outer',
        '--X',
        'Content-Type: message/rfc822',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('From: a@example.com\r\n\r\nhidden').toString('base64'),
        '--X--',
      ),
    );
    expect(message.bodyText).toBe('outer');
    expect(message.attachments.map((a) => a.filename)).toEqual(['message.eml']);
  });
});

describe('parseMessage: attachment names', () => {
  function withAttachment(...headerLines: string[]): Buffer {
    return mime('Content-Type: multipart/mixed; boundary=X', '', '--X', 'Content-Type: text/plain', '', 'b', '--X', ...headerLines, '', 'data', '--X--');
  }

  it('decodes an RFC 2231 filename*', async () => {
    const message = await parseMessage(withAttachment('Content-Type: application/pdf', "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%20rates%202025.pdf"));
    expect(message.attachments[0]?.filename).toBe('€ rates 2025.pdf');
  });

  it('joins RFC 2231 continuations in another charset', async () => {
    const message = await parseMessage(
      withAttachment(
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment;',
        " filename*0*=iso-8859-1'fr'r%E9sum%E9%20du%20;",
        ' filename*1*=%E9t%E9;',
        ' filename*2=".txt"',
      ),
    );
    expect(message.attachments[0]?.filename).toBe('résumé du été.txt');
  });

  it('decodes an RFC 2047 name= parameter (what Outlook sends)', async () => {
    const message = await parseMessage(withAttachment('Content-Type: application/pdf; name="=?UTF-8?B?0J7RgtGH0ZHRgi5wZGY=?="'));
    expect(message.attachments[0]?.filename).toBe('Отчёт.pdf');
  });

  it('keeps a hostile name as sent: sanitising happens when saving', async () => {
    const message = await parseMessage(withAttachment('Content-Type: text/plain', 'Content-Disposition: attachment; filename="../../etc/passwd"'));
    expect(message.attachments[0]?.filename).toBe('../../etc/passwd');
  });
});

// RFC 2045 section 5.2: a Content-Type that cannot be read is text/plain. These are the shapes
// old mailers and broken scripts really send.
describe('parseMessage: malformed Content-Type means text/plain', () => {
  it('a type without a subtype (Content-Type: text; charset=us-ascii) is the body, not attachment-1.bin', async () => {
    const message = await parseMessage(
      mime('From: old@example.org', 'Subject: from a 1990s mailer', 'MIME-Version: 1.0', 'Content-Type: text; charset=us-ascii', '', 'The body text.'),
    );
    expect(message.bodyText).toBe('The body text.');
    expect(message.attachments).toEqual([]);
    expect(message.hasAttachments).toBe(false);
  });

  it('keeps the charset given with the broken type', async () => {
    const message = await parseMessage(
      mime('MIME-Version: 1.0', 'Content-Type: text; charset=iso-8859-1', 'Content-Transfer-Encoding: 8bit', '', Buffer.from('Gr\xfc\xdfe aus K\xf6ln', 'latin1')),
    );
    expect(message.bodyText).toBe('Grüße aus Köln');
  });

  it('an unparsable Content-Type and one that is empty are text/plain too', async () => {
    for (const header of ['Content-Type: ;;;', 'Content-Type:', 'Content-Type: /plain', 'Content-Type: text/']) {
      const message = await parseMessage(mime('MIME-Version: 1.0', header, '', 'still readable'));
      expect(message.bodyText, header).toBe('still readable');
      expect(message.attachments, header).toEqual([]);
    }
  });

  it('a multipart child without a Content-Type, or with a broken one, is text; real attachments stay', async () => {
    const message = await parseMessage(
      mime(
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=XX',
        '',
        '--XX',
        '',
        'first part, no header at all',
        '--XX',
        'Content-Type: text; charset=utf-8',
        '',
        'second part, no subtype',
        '--XX',
        'Content-Type: application/pdf; name=report.pdf',
        'Content-Disposition: attachment; filename=report.pdf',
        '',
        '%PDF-1.4',
        '--XX--',
      ),
    );
    expect(message.bodyText).toContain('first part, no header at all');
    expect(message.bodyText).toContain('second part, no subtype');
    expect(message.attachments.map((a) => [a.filename, a.contentType])).toEqual([['report.pdf', 'application/pdf']]);
  });

  it('a broken type marked as an attached file stays a file, as text/plain', async () => {
    const message = await parseMessage(
      mime(
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=XX',
        '',
        '--XX',
        'Content-Type: text/plain',
        '',
        'see the log',
        '--XX',
        'Content-Type: text; charset=us-ascii',
        'Content-Disposition: attachment; filename=server.log',
        '',
        'line 1',
        '--XX--',
      ),
    );
    expect(message.bodyText).toBe('see the log');
    expect(message.attachments.map((a) => [a.filename, a.contentType, a.content.toString()])).toEqual([['server.log', 'text/plain', 'line 1']]);
  });
});
