// The dependency rule of the source tree (README, "Layout"), checked on every run of the suite:
// imports point down the layers, never up; no import cycles; the heavy libraries stay in the
// folder that owns them, so `mailops --help` and the core never load them by accident.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Layers, top to bottom. A file may import its own folder, and any folder on a lower layer.
 * Folders on one layer may import each other as long as the folders' graph has no cycle
 * (checked below): auth uses the provider's OAuth server table, diagnose none of its peers.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['core'],
  ['providers', 'auth', 'secrets', 'store', 'diagnose'],
  ['net', 'mime'],
  ['domain'],
];

/** Libraries that only their owning folders may import (statically or with import()). */
export const OWNED_LIBRARIES: Readonly<Record<string, readonly string[]>> = {
  imapflow: ['providers'],
  // SMTP is the provider's; core/compose.ts builds the message with its MailComposer (no network).
  nodemailer: ['providers', 'core'],
  googleapis: ['providers'],
  '@googleapis/gmail': ['providers'],
  '@azure/msal-node': ['auth'],
  'google-auth-library': ['auth'],
  'better-sqlite3': ['store'],
  '@napi-rs/keyring': ['secrets'],
  // mailparser: reading a message is mime/'s; compose checks a --raw message with it.
  mailparser: ['mime', 'core'],
  commander: ['cli'],
  '@inquirer/prompts': ['cli'],
  'cli-table3': ['cli'],
  chalk: ['cli'],
};

export interface Import {
  from: string;
  /** A path inside src/ (relative, with .ts), or a package name. */
  to: string;
  dynamic: boolean;
  typeOnly: boolean;
  /** Through require (createRequire), not import. */
  required?: boolean;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
// Not `typeof import('x')`, a type.
const DYNAMIC = /(?<!typeof\s)\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
/** A CommonJS library required (`require('x')`, `createRequire(import.meta.url)('x')`): a use like import(). */
const REQUIRE = /(?:\brequire|createRequire\(import\.meta\.url\))\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every import of a file: static (import/export ... from), side-effect and dynamic import(). */
export function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const target = (spec: string) => (spec.startsWith('.') ? relative(SRC, resolve(dirname(join(SRC, file)), spec)).replace(/\.js$/, '.ts') : packageName(spec));
  for (const match of text.matchAll(IMPORT)) found.push({ from: file, to: target(match[3]!), dynamic: false, typeOnly: Boolean(match[2]) });
  for (const match of text.matchAll(DYNAMIC)) found.push({ from: file, to: target(match[1]!), dynamic: true, typeOnly: false });
  for (const match of text.matchAll(REQUIRE)) found.push({ from: file, to: target(match[1]!), dynamic: true, typeOnly: false, required: true });
  return found;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

const folderOf = (file: string) => file.split('/')[0]!;
const isInternal = (to: string) => to.endsWith('.ts');
const layerOf = (folder: string) => LAYERS.findIndex((layer) => layer.includes(folder));

/** Breaches of the layer order: an import of a folder on a higher layer, or of an unknown folder. */
export function layerViolations(imports: Import[]): string[] {
  return imports
    .filter((i) => isInternal(i.to))
    .filter((i) => {
      const from = layerOf(folderOf(i.from));
      const to = layerOf(folderOf(i.to));
      return from < 0 || to < 0 || to < from;
    })
    .map((i) => `${i.from} imports ${i.to} (${folderOf(i.from)} may not import ${folderOf(i.to)}: imports point down the layers)`);
}

export function libraryViolations(imports: Import[]): string[] {
  return imports
    .filter((i) => !isInternal(i.to) && !i.to.startsWith('node:') && !i.typeOnly)
    .filter((i) => OWNED_LIBRARIES[i.to] !== undefined && !OWNED_LIBRARIES[i.to]!.includes(folderOf(i.from)))
    .map((i) => `${i.from} imports ${i.to}, which only ${OWNED_LIBRARIES[i.to]!.join(', ')} may load`);
}

/** Cycles of static value imports between files (type-only imports vanish at run time). */
export function importCycles(imports: Import[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of imports) {
    if (i.dynamic || i.typeOnly || !isInternal(i.to)) continue;
    edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  }
  return stronglyConnected(edges).filter((component) => component.length > 1 || edges.get(component[0]!)?.includes(component[0]!));
}

/** Cycles between folders of one layer (peers may import each other one way only). */
export function folderCycles(imports: Import[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of imports) {
    if (!isInternal(i.to)) continue;
    const [from, to] = [folderOf(i.from), folderOf(i.to)];
    if (from !== to && layerOf(from) === layerOf(to)) edges.set(from, [...new Set([...(edges.get(from) ?? []), to])]);
  }
  return stronglyConnected(edges).filter((component) => component.length > 1);
}

/** Tarjan's algorithm: the strongly connected components of a directed graph. */
function stronglyConnected(edges: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return components;
}

const all = sourceFiles().flatMap((file) => importsOf(file, readFileSync(join(SRC, file), 'utf8')));

describe('the dependency rule of src/', () => {
  it('finds the imports it checks (a parser that finds none would pass anything)', () => {
    expect(all.length).toBeGreaterThan(300);
    expect(all).toContainEqual({ from: 'cli/commands/ls.ts', to: 'core/messages.ts', dynamic: false, typeOnly: false });
    expect(all.some((i) => i.dynamic && i.to === 'imapflow')).toBe(true);
    // A library required through createRequire counts as a use too.
    expect(all).toContainEqual({ from: 'store/db.ts', to: 'better-sqlite3', dynamic: true, typeOnly: false, required: true });
  });

  it('every folder of src/ is on a layer', () => {
    const folders = [...new Set(sourceFiles().map(folderOf))].filter((f) => !f.endsWith('.ts'));
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('imports point down the layers: cli → core → providers/auth/secrets/store/diagnose → net/mime → domain', () => {
    expect(layerViolations(all)).toEqual([]);
  });

  it('the heavy libraries stay in the folders that own them', () => {
    expect(libraryViolations(all)).toEqual([]);
  });

  it("the CommonJS libraries on a command's way are required, never imported: the ES module loader's wrapper cost each 4-66 ms", () => {
    const COMMONJS = ['commander', 'libmime', 'imapflow', '@napi-rs/keyring', '@azure/msal-node', 'cli-progress', 'better-sqlite3', 'mailparser'];
    for (const library of COMMONJS) {
      const uses = all.filter((i) => i.to === library && !i.typeOnly);
      expect(uses.length, library).toBeGreaterThan(0);
      expect(uses.filter((i) => !i.required).map((i) => i.from), library).toEqual([]);
    }
    // commander and libmime, which many modules use, through one module each.
    for (const [library, module] of [['commander', 'cli/commander.ts'], ['libmime', 'mime/libmime.ts']] as const) {
      expect(all.filter((i) => i.to === library && !i.typeOnly).map((i) => i.from), library).toEqual([module]);
    }
  });

  it('no import cycles between files, nor between the folders of one layer', () => {
    expect(importCycles(all)).toEqual([]);
    expect(folderCycles(all)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    const upward = importsOf('providers/imap/x.ts', "import { run } from '../../cli/main.js';\nconst c = await import('../../core/session.js');");
    expect(layerViolations(upward)).toHaveLength(2);
    expect(layerViolations(importsOf('domain/x.ts', "import type { Database } from '../store/db.js';"))).toHaveLength(1);
    expect(libraryViolations(importsOf('core/x.ts', "import { ImapFlow } from 'imapflow';"))).toHaveLength(1);
    // A type-only import of a library's types loads nothing.
    expect(libraryViolations(importsOf('core/x.ts', "import type { ImapFlow } from 'imapflow';"))).toEqual([]);
    const cycle = [...importsOf('core/a.ts', "import { b } from './b.js';"), ...importsOf('core/b.ts', "export { a } from './a.js';")];
    expect(importCycles(cycle)).toEqual([['core/a.ts', 'core/b.ts']]);
    const peers = [...importsOf('auth/a.ts', "import { p } from '../providers/p.js';"), ...importsOf('providers/p.ts', "import { a } from '../auth/a.js';")];
    expect(folderCycles(peers)).toEqual([['auth', 'providers']]);
  });
});
