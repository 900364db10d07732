// src/mime/mailparser.ts defers html-to-text and encoding-japanese to their first use. This file
// runs in a process of its own (vitest isolates test files), so the module cache starts empty.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { types } from 'node:util';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const mailparserDir = dirname(require.resolve('mailparser'));
const cached = (request: string) => require.cache[require.resolve(request, { paths: [mailparserDir] })];
const deferred = (request: string) => {
  const entry = cached(request);
  return entry !== undefined && types.isProxy(entry.exports);
};

/** "日本語のメール" in ISO-2022-JP: ESC $ B ... ESC ( B. */
const JIS = Buffer.from('1b2442467c4b5c386c244e2561213c256b1b2842', 'hex');
const lines = (...parts: Array<string | Buffer>) =>
  Buffer.concat(parts.flatMap((p, i) => [...(i ? [Buffer.from('\r\n')] : []), typeof p === 'string' ? Buffer.from(p, 'latin1') : p]));

describe('mailparser with deferred dependencies', () => {
  it('loads without html-to-text and encoding-japanese, parses plain mail without them, and loads each on first use', async () => {
    expect(cached('html-to-text')).toBeUndefined();
    const { parseMessage } = await import('../../src/mime/parse.js');
    expect(deferred('html-to-text')).toBe(true);
    expect(deferred('encoding-japanese')).toBe(true);

    const plain = await parseMessage(lines('From: a@example.org', 'Subject: hi', 'Content-Type: text/plain; charset=utf-8', '', 'Hello there.'));
    expect(plain.bodyText).toBe('Hello there.');
    expect(deferred('html-to-text')).toBe(true);
    expect(deferred('encoding-japanese')).toBe(true);

    // Mixed, not alternative: mailparser converts the HTML part into its text itself (through the stand-in).
    const mixed = await parseMessage(
      lines(
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'First part.',
        '--b',
        'Content-Type: text/html',
        '',
        '<p>Second <b>part</b>.</p>',
        '--b--',
      ),
    );
    expect(mixed.bodyText).toContain('First part.');
    expect(mixed.bodyText).toContain('Second part.');
    expect(mixed.bodyHtml).toContain('<b>part</b>');
    expect(deferred('html-to-text')).toBe(false);

    const japanese = await parseMessage(lines('From: a@example.org', 'Content-Type: text/plain; charset=ISO-2022-JP', 'Content-Transfer-Encoding: 7bit', '', JIS));
    expect(japanese.bodyText.trim()).toBe('日本語のメール');
    expect(deferred('encoding-japanese')).toBe(false);
  });
});
