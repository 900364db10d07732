// src/mime/mailparser.ts defers html-to-text and encoding-japanese to their first use. This file
// runs in a process of its own (vitest isolates test files), so the module cache starts empty.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { types } from 'node:util';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

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

type Encode = (text: string, options?: Record<string, unknown>) => string;
/** Whether html-to-text was loaded before parse.js was. */
let htmlToTextBefore: boolean;
/** he's stand-in, taken before any test can have loaded the real he in its place. */
let heStandIn: { encode: Encode };
beforeAll(async () => {
  htmlToTextBefore = cached('html-to-text') !== undefined;
  await import('../../src/mime/parse.js');
  heStandIn = cached('he')!.exports as { encode: Encode };
});

describe('mailparser with deferred dependencies', () => {
  it('loads without html-to-text and encoding-japanese, parses plain mail without them, and loads each on first use', async () => {
    expect(htmlToTextBefore).toBe(false);
    const { parseMessage } = await import('../../src/mime/parse.js');
    expect(deferred('html-to-text')).toBe(true);
    expect(deferred('encoding-japanese')).toBe(true);

    const plain = await parseMessage(lines('From: a@example.org', 'Subject: hi', 'Content-Type: text/plain; charset=utf-8', '', 'Hello there.'));
    expect(plain.bodyText).toBe('Hello there.');
    expect(deferred('html-to-text')).toBe(true);
    expect(deferred('encoding-japanese')).toBe(true);
    // Its HTML rendering escaped printable ASCII without he.
    expect(deferred('he')).toBe(true);

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
    // Text beyond ASCII is escaped by he itself.
    expect(deferred('he')).toBe(false);
  });

  it("loads libmime's table of media types only to name an attachment's type or extension", async () => {
    const { parseMessage } = await import('../../src/mime/parse.js');
    const mimetypes = require.resolve('./mimetypes', { paths: [dirname(require.resolve('libmime', { paths: [mailparserDir] }))] });
    const isStandIn = () => types.isProxy(require.cache[mimetypes]?.exports);
    await parseMessage(lines('From: a@example.org', 'Content-Type: text/plain', '', 'No attachment.'));
    expect(isStandIn()).toBe(true);
    // A nameless PDF is named by its type's extension, and an octet-stream by its file name.
    const withFiles = await parseMessage(
      lines(
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'Two files.',
        '--b',
        'Content-Type: application/pdf',
        'Content-Disposition: attachment',
        'Content-Transfer-Encoding: base64',
        '',
        'JVBERi0xLjQK',
        '--b',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="photo.png"',
        'Content-Transfer-Encoding: base64',
        '',
        'iVBORw0KGgo=',
        '--b--',
      ),
    );
    expect(withFiles.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['attachment-1.pdf', 'application/pdf'],
      ['photo.png', 'image/png'],
    ]);
    expect(isStandIn()).toBe(false);
  });
});

describe('the he stand-in', () => {
  const NAMED = { useNamedReferences: true };

  it("answers as he does: printable ASCII by itself, anything else through he", async () => {
    // The real he, evaluated apart from the module cache (where the stand-in may still be).
    const module = { exports: {} as { encode: Encode } };
    new Function('module', 'exports', readFileSync(require.resolve('he', { paths: [mailparserDir] }), 'utf8'))(module, module.exports);
    const he = module.exports;
    expect(types.isProxy(heStandIn)).toBe(true);
    expect(types.isProxy(he)).toBe(false);
    expect(heStandIn.encode(`a <b> & "c" 'd' \`e\`\r\n`, NAMED)).toBe('a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &grave;e&grave;\r\n');
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 80 });
    const special = fc.constantFrom('<', '>', '&', '"', "'", '`', '\t', '\u20D2', '\xA0', 'f', 'j', '=', '\u2242\u0338', '\u00e9', '\u{1F600}');
    const mixed = fc.array(fc.oneof(special, fc.string({ unit: 'grapheme', maxLength: 3 }), fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 30 }).map((parts) => parts.join(''));
    const options = fc.constantFrom(undefined, {}, NAMED, { useNamedReferences: false }, { ...NAMED, decimal: true }, { allowUnsafeSymbols: true }, { encodeEverything: true });
    fc.assert(
      fc.property(fc.oneof(ascii, mixed), options, (text, option) => {
        expect(heStandIn.encode(text, option)).toBe(he.encode(text, option));
      }),
      { numRuns: 3000 },
    );
  });

  it('no named reference of he is made of ASCII alone, which is what lets ASCII skip its tables', () => {
    // he's pattern for the named references beyond the six it escapes: a sequence of ASCII
    // would be replaced by the real he and not by the stand-in.
    const source = readFileSync(require.resolve('he', { paths: [mailparserDir] }), 'utf8');
    const pattern = new RegExp(/var regexEncodeNonAscii = \/(.*)\/g;/.exec(source)![1]!);
    for (let a = 0; a < 128; a++) {
      expect(pattern.test(String.fromCharCode(a))).toBe(false);
      for (let b = 0; b < 128; b++) expect(pattern.test(String.fromCharCode(a, b)), `${a} ${b}`).toBe(false);
    }
    // Every alternative of the pattern needs a character beyond ASCII (escaped as \x80-\xFF or \uXXXX).
    const alternatives = pattern.source.split('|');
    expect(alternatives.length).toBeGreaterThan(50);
    for (const alternative of alternatives) expect(alternative, alternative).toMatch(/\\u[0-9A-F]{4}|\\x[89A-F][0-9A-F]/i);
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
