import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mime/parse.js';
import { formatAddress, formatSize, renderMessage } from '../../src/mime/render.js';

const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

const sample = crlf(
  'Received: from mx.example.com',
  'From: =?utf-8?Q?J=C3=B6rg?= <joerg@example.de>',
  'To: "Doe, Jane" <jane@example.com>, bob@example.com',
  'Cc: Carol <carol@example.com>',
  'Date: Thu, 9 Jan 2025 11:30:00 +0100',
  'Subject: Quarterly numbers',
  'Content-Type: multipart/mixed; boundary=X',
  '',
  '--X',
  'Content-Type: multipart/alternative; boundary=Y',
  '',
  '--Y',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hi all,',
  '',
  'numbers attached.',
  '',
  '--Y',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Hi all,</p><p>numbers <b>attached</b>.</p>',
  '--Y--',
  '--X',
  'Content-Type: application/pdf; name="q3.pdf"',
  'Content-Disposition: attachment; filename="q3.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.alloc(1536, 1).toString('base64'),
  '--X',
  'Content-Type: text/csv; name="data.csv"',
  'Content-Disposition: attachment',
  '',
  'a,b',
  '--X--',
  '',
);

describe('renderMessage', () => {
  it('prints the summary headers, the text body and the attachments', async () => {
    expect(renderMessage(await parseMessage(sample))).toBe(
      [
        'From: Jörg <joerg@example.de>',
        'To: "Doe, Jane" <jane@example.com>, bob@example.com',
        'Cc: Carol <carol@example.com>',
        'Date: 2025-01-09T10:30:00Z',
        'Subject: Quarterly numbers',
        '',
        'Hi all,',
        '',
        'numbers attached.',
        '',
        'Attachments:',
        '  q3.pdf    application/pdf  1.5 KB',
        '  data.csv  text/csv         3 B',
        '',
      ].join('\n'),
    );
  });

  it('prints every header line with --headers and the HTML with --html', async () => {
    const text = renderMessage(await parseMessage(sample), { allHeaders: true, html: true });
    expect(text.split('\n\n')[0]).toBe(
      [
        'Received: from mx.example.com',
        'From: Jörg <joerg@example.de>',
        'To: "Doe, Jane" <jane@example.com>, bob@example.com',
        'Cc: Carol <carol@example.com>',
        'Date: Thu, 9 Jan 2025 11:30:00 +0100',
        'Subject: Quarterly numbers',
        'Content-Type: multipart/mixed; boundary=X',
      ].join('\n'),
    );
    expect(text).toContain('\n\n<p>Hi all,</p><p>numbers <b>attached</b>.</p>\n\nAttachments:\n');
  });

  it('falls back to the text body with --html when there is no HTML part', async () => {
    const text = renderMessage(await parseMessage(crlf('Subject: s', '', 'just text')), { html: true });
    expect(text).toBe('Subject: s\n\njust text\n');
  });

  it('shows what a malformed message claims where nothing could be parsed', async () => {
    const message = await parseMessage(crlf('To: undisclosed-recipients:;', 'Date: last Tuesday', 'Subject: =?utf-8?Q?broken', '', 'body'));
    expect(renderMessage(message)).toBe(
      ['To: undisclosed-recipients:;', 'Date: last Tuesday', 'Subject: =?utf-8?Q?broken', '', 'body', ''].join('\n'),
    );
  });

  it('leaves no run of blank lines when the body is empty', async () => {
    const message = await parseMessage(
      crlf('Subject: s', 'Content-Type: multipart/mixed; boundary=X', '', '--X', 'Content-Type: application/zip; name=a.zip', '', 'PK', '--X--'),
    );
    expect(renderMessage(message)).toBe('Subject: s\n\nAttachments:\n  a.zip  application/zip  2 B\n');
  });

  it('marks inline body images', async () => {
    const message = await parseMessage(
      crlf(
        'Subject: s',
        'Content-Type: multipart/related; boundary=R',
        '',
        '--R',
        'Content-Type: text/html',
        '',
        '<p>logo below</p><img src="cid:l">',
        '--R',
        'Content-Type: image/png; name=logo.png',
        'Content-ID: <l>',
        '',
        'PNG',
        '--R--',
      ),
    );
    expect(renderMessage(message)).toBe('Subject: s\n\nlogo below\n\nAttachments:\n  logo.png  image/png  3 B  (inline)\n');
  });

  it('strips terminal control sequences a sender put in headers and body', async () => {
    const message = await parseMessage(
      crlf('Subject: =?utf-8?B?' + Buffer.from('pay \u001b]0;owned\u0007now\u001b[2J').toString('base64') + '?=', '', 'line one\rOVERWRITE\u001b[31m red\u009b2J'),
    );
    expect(renderMessage(message)).toBe('Subject: pay ]0;ownednow[2J\n\nline one\nOVERWRITE[31m red2J\n');
  });
});

describe('formatting helpers', () => {
  it('formats addresses', () => {
    expect(formatAddress({ name: '', address: 'a@example.com' })).toBe('a@example.com');
    expect(formatAddress({ name: 'Ann', address: 'a@example.com' })).toBe('Ann <a@example.com>');
    expect(formatAddress({ name: 'Lee, "Al"', address: 'al@example.com' })).toBe('"Lee, \\"Al\\"" <al@example.com>');
    expect(formatAddress({ name: 'Only Name', address: '' })).toBe('Only Name');
  });

  it('formats sizes in powers of 1024', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024, 5 * 1024 * 1024 + 300_000, 3 * 1024 ** 3].map(formatSize)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KB',
      '1.5 KB',
      '10 KB',
      '5.3 MB',
      '3.0 GB',
    ]);
  });
});
