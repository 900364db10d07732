/**
 * mailparser, loaded with two of its dependencies deferred to their first use. mailparser requires
 * html-to-text (with its HTML parser) and encoding-japanese as it loads: about 40 of the ~95 ms it
 * takes to load, which `read --offline` pays on every run. Most messages need neither: html-to-text
 * converts an HTML part only where no text part stands beside it, and encoding-japanese decodes only
 * the Japanese charsets. So their entries in the CommonJS module cache are filled, before mailparser
 * loads, with stand-ins whose functions load the real module when first called; every later
 * `require` of it gets the real module. Nothing changes in what mailparser returns
 * (test/unit/mime-deferred.test.ts parses HTML and ISO-2022-JP mail through them). linkify-it,
 * which mailparser builds as it loads, is deferred the same way (deferLinkify), and he, whose
 * escaping of printable ASCII the stand-in does itself (deferHe), and libmime's table of media
 * types.
 */
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Puts a stand-in for `filename` in the CommonJS module cache, made by `make` from a function that
 * loads the real module (the stand-in leaves the cache then, so every later `require` gets the
 * real one). Nothing is done when the module is loaded already.
 */
function standIn(filename: string, make: (load: () => unknown) => unknown): void {
  if (require.cache[filename]) return;
  let real: unknown = null;
  let loaded = false;
  const load = (): unknown => {
    if (!loaded) {
      if (require.cache[filename] === entry) delete require.cache[filename];
      real = require(filename);
      loaded = true;
    }
    return real;
  };
  const entry = new Module(filename);
  entry.filename = filename;
  entry.loaded = true;
  entry.exports = make(load);
  require.cache[filename] = entry;
}

/**
 * Defers `request`, as `from` resolves it. `functions` are the exports callers take before calling
 * them (`const { htmlToText } = require(...)`): those are wrapped; reading any other export loads
 * the module.
 */
function defer(request: string, from: string, functions: readonly string[]): void {
  standIn(require.resolve(request, { paths: [dirname(from)] }), (load) => {
    const real = () => load() as Record<string, unknown>;
    return new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => {
        if (typeof key === 'string' && functions.includes(key)) {
          return (...args: unknown[]) => (real()[key] as (...a: unknown[]) => unknown)(...args);
        }
        return real()[key as string];
      },
      has: (_target, key) => key in real(),
      ownKeys: () => Reflect.ownKeys(real()),
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
    });
  });
}

/**
 * linkify-it, which mailparser builds as it loads (`require('linkify-it')()`, then its whole list
 * of top-level domains compiled into patterns: about 20 ms) to turn the URLs of a text part into
 * links in its HTML rendering. parse.ts asks for no links (skipTextLinks), so nothing calls it;
 * the stand-in's instance records the setup calls mailparser makes as it loads (tlds, add, set)
 * and, should anything else be asked of it, builds the real instance with them replayed.
 */
function deferLinkify(from: string): void {
  type Linkify = Record<string, (...args: unknown[]) => unknown>;
  const SETUP = ['tlds', 'add', 'set'];
  // A function, not an arrow: LinkifyIt may be called with `new` as well as without.
  standIn(require.resolve('linkify-it', { paths: [dirname(from)] }), (load) => function linkifyStandIn(...created: unknown[]) {
    const calls: Array<[string, unknown[]]> = [];
    let real: Linkify | null = null;
    const instance = (): Linkify => {
      if (real === null) {
        real = (load() as (...args: unknown[]) => Linkify)(...created);
        for (const [method, args] of calls) real[method]!(...args);
      }
      return real;
    };
    const recorder: Linkify = new Proxy({} as Linkify, {
      get: (_target, key) => {
        if (real === null && typeof key === 'string' && SETUP.includes(key)) {
          return (...args: unknown[]) => {
            calls.push([key, args]);
            return recorder;
          };
        }
        const value = instance()[key as string];
        return typeof value === 'function' ? value.bind(real) : value;
      },
    });
    return recorder;
  });
}

/**
 * he, with which mailparser escapes text for its HTML renderings (`he.encode(text)` for every
 * address, `he.encode(text, { useNamedReferences: true })` for every text part), builds its tables
 * of some 2,000 named references as it loads: about 9 ms. Printable ASCII (with CR and LF) holds
 * no character those tables name beyond the six escaped below (every sequence in its pattern for
 * the others has a character outside ASCII; the test checks it), so for such text, with those
 * options, the stand-in gives he's answer itself. Any other text, option or function loads he.
 */
function deferHe(from: string): void {
  const NAMED: Record<string, string> = { '"': '&quot;', '&': '&amp;', "'": '&apos;', '<': '&lt;', '>': '&gt;', '`': '&grave;' };
  const HEX: Record<string, string> = { '"': '&#x22;', '&': '&#x26;', "'": '&#x27;', '<': '&#x3C;', '>': '&#x3E;', '`': '&#x60;' };
  const PRINTABLE_ASCII = /^[\n\r\x20-\x7E]*$/;
  /** The escapes he would use with these options, or null where the stand-in does not answer. */
  const escapesFor = (options: unknown): Record<string, string> | null => {
    if (options === undefined) return HEX;
    if (typeof options !== 'object' || options === null) return null;
    const keys = Object.keys(options);
    if (keys.length === 0) return HEX;
    if (keys.length !== 1 || keys[0] !== 'useNamedReferences') return null;
    const named = (options as { useNamedReferences: unknown }).useNamedReferences;
    return named === true ? NAMED : named === false ? HEX : null;
  };
  standIn(require.resolve('he', { paths: [dirname(from)] }), (load) => {
    const real = () => load() as Record<string, (...args: unknown[]) => unknown>;
    const encode = (...args: unknown[]): unknown => {
      const [text, options] = args;
      const escapes = args.length <= 2 ? escapesFor(options) : null;
      if (escapes !== null && typeof text === 'string' && PRINTABLE_ASCII.test(text)) {
        return text.replace(/["&'<>`]/g, (c) => escapes[c]!);
      }
      return real().encode!(...args);
    };
    return new Proxy({} as Record<string, unknown>, {
      get: (_target, key) => (key === 'encode' ? encode : real()[key as string]),
    });
  });
}

const mailparserPath = require.resolve('mailparser');
defer('html-to-text', mailparserPath, ['htmlToText', 'compile', 'convert']);
// libmime (mailparser's charset decoding) requires it as well; the overrides in package.json make
// it the same copy.
defer('encoding-japanese', mailparserPath, ['convert', 'detect']);
defer('encoding-japanese', require.resolve('libmime'), ['convert', 'detect']);
// libmime's table of media types and extensions (about 6 ms to load), read only to name the
// type of an attachment from its file name or an extension for a nameless one.
defer('./mimetypes', require.resolve('libmime'), []);
deferLinkify(mailparserPath);
deferHe(mailparserPath);

export const { simpleParser } = require('mailparser') as typeof import('mailparser');
