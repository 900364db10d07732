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

/** multipart/mixed: a text part, then an HTML part. */
const mixedMessage = (text: string, html: string) =>
  lines('From: a@example.org', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', text, '--b', 'Content-Type: text/html', '', html, '--b--');

/** linkify-it's cache entry still holds the stand-in (a factory that is not the real LinkifyIt). */
const linkifyDeferred = () => {
  const entry = cached('linkify-it');
  return entry !== undefined && (entry.exports as { name?: string }).name !== 'LinkifyIt';
};

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
    const mixed = await parseMessage(mixedMessage('First part.', '<p>Second <b>part</b>.</p>'));
    expect(mixed.bodyText).toContain('First part.');
    expect(mixed.bodyText).toContain('Second part.');
    expect(mixed.bodyHtml).toContain('<b>part</b>');
    expect(deferred('html-to-text')).toBe(false);

    // A URL in a text part beside an HTML part: rendered into the HTML as text, not linked, so
    // linkify-it is never loaded.
    const linked = await parseMessage(mixedMessage('See https://example.com/report now.', '<p>Second.</p>'));
    expect(linked.bodyText).toContain('See https://example.com/report now.');
    expect(linked.bodyHtml).toContain('See https://example.com/report now.');
    expect(linked.bodyHtml).not.toContain('<a ');
    expect(linkifyDeferred()).toBe(true);

    const japanese = await parseMessage(lines('From: a@example.org', 'Content-Type: text/plain; charset=ISO-2022-JP', 'Content-Transfer-Encoding: 7bit', '', JIS));
    expect(japanese.bodyText.trim()).toBe('日本語のメール');
    expect(deferred('encoding-japanese')).toBe(false);
  });
});

describe('the linkify-it stand-in', () => {
  it('replays the setup mailparser made on a real instance when asked to link', async () => {
    await import('../../src/mime/parse.js');
    interface Linkify {
      tlds(list: string | string[], keepOld?: boolean): Linkify;
      set(options: object): Linkify;
      pretest(text: string): boolean;
      match(text: string): Array<{ url: string }> | null;
    }
    const standIn = cached('linkify-it')!.exports as () => Linkify;
    expect(linkifyDeferred()).toBe(true);
    // Set up as mailparser does as it loads (its full TLD list here two), then asked to link.
    const instance = standIn()
      .tlds(['com', 'org'])
      .tlds('onion', true)
      .set({ fuzzyLink: true });
    expect(instance.pretest('mail me at example.onion')).toBe(true);
    expect(instance.match('see example.onion or example.org')?.map((m) => m.url)).toEqual(['http://example.onion', 'http://example.org']);
    // Only .com and .org (and .onion) were set: a fuzzy link in another domain is not one.
    expect(instance.match('see example.net')).toBeNull();
    expect(linkifyDeferred()).toBe(false);
    // Made with `new`, as LinkifyIt allows: a working instance too.
    const made = new (standIn as unknown as new () => Linkify)();
    expect(made.match('see example.net')?.map((m) => m.url)).toEqual(['http://example.net']);
  });
});
