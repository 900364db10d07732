/**
 * mailparser, loaded with two of its dependencies deferred to their first use. mailparser requires
 * html-to-text (with its HTML parser) and encoding-japanese as it loads: about 40 of the ~95 ms it
 * takes to load, which `read --offline` pays on every run. Most messages need neither: html-to-text
 * converts an HTML part only where no text part stands beside it, and encoding-japanese decodes only
 * the Japanese charsets. So their entries in the CommonJS module cache are filled, before mailparser
 * loads, with stand-ins whose functions load the real module when first called; every later
 * `require` of it gets the real module. Nothing changes in what mailparser returns
 * (test/unit/mime-deferred.test.ts parses HTML and ISO-2022-JP mail through them).
 */
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Fills the module cache entry for `request`, as `from` resolves it, with a stand-in. `functions`
 * are the exports callers take before calling them (`const { htmlToText } = require(...)`): those
 * are wrapped; reading any other export loads the module. Nothing is done when it is loaded already.
 */
function defer(request: string, from: string, functions: readonly string[]): void {
  const filename = require.resolve(request, { paths: [dirname(from)] });
  if (require.cache[filename]) return;
  let real: Record<string, unknown> | null = null;
  const load = (): Record<string, unknown> => {
    if (real === null) {
      if (require.cache[filename] === standIn) delete require.cache[filename];
      real = require(filename) as Record<string, unknown>;
    }
    return real;
  };
  const exports = new Proxy({} as Record<string, unknown>, {
    get: (_target, key) => {
      if (typeof key === 'string' && functions.includes(key)) {
        return (...args: unknown[]) => (load()[key] as (...a: unknown[]) => unknown)(...args);
      }
      return load()[key as string];
    },
    has: (_target, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
  const standIn = new Module(filename);
  standIn.filename = filename;
  standIn.loaded = true;
  standIn.exports = exports;
  require.cache[filename] = standIn;
}

const mailparserPath = require.resolve('mailparser');
defer('html-to-text', mailparserPath, ['htmlToText', 'compile', 'convert']);
// libmime (mailparser's charset decoding) requires it as well; the overrides in package.json make
// it the same copy.
defer('encoding-japanese', mailparserPath, ['convert', 'detect']);
defer('encoding-japanese', require.resolve('libmime'), ['convert', 'detect']);

export const { simpleParser } = require('mailparser') as typeof import('mailparser');
