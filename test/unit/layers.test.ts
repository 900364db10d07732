// The dependency rule of src/ (README, "Layout"), checked on every run so that CI catches a wrong
// import the day it is written rather than when it has grown a cycle. The rule and its exceptions
// live in this one file; scanning is textual (import/export ... from, import(), require()) because
// that is all the layering needs and it keeps the test fast.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(__dirname, '../../src');

/**
 * Layer of each top-level folder of src/, highest first. A module may import its own folder and any
 * folder on a lower level. Folders on the same level are peers and may NOT import each other, except
 * the edges in PEER_EDGES: the middle level is where the backends and their helpers live, and a peer
 * import there is how one backend's code ends up depending on another's (the evidence today: the
 * only peer imports are the ones listed below). src/net/ is the shared network layer under the
 * middle level, whether or not it exists yet on this branch.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['core'],
  ['providers', 'auth', 'secrets', 'store', 'diagnose'],
  ['net'],
  ['domain'],
];

/** Peer edges on the middle level that are part of the design, with the reason. */
const PEER_EDGES: readonly { from: string; to: string; why: string }[] = [
  { from: 'auth', to: 'secrets', why: 'tokens are secrets: the token source keeps refresh tokens in the secret store and locks it while refreshing' },
  { from: 'auth', to: 'providers/oauth-servers.ts', why: 'the table of OAuth servers per provider is data both the backends and the sign-in flows read' },
];

/**
 * Single imports that break the rule today and the part of issue 9 that removes them. Exact
 * file-to-file pairs, so that they never hide a new violation; a pair that no longer occurs fails the
 * test too, so the list shrinks as the code is fixed.
 */
const EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  { from: 'providers/imap/errors.ts', to: 'diagnose/failures.ts', why: 'issue 9 point 6: failure knowledge moves where providers and diagnose both import it' },
  { from: 'diagnose/imap.ts', to: 'providers/imap/wire/utf7.ts', why: 'issue 9 point 6: modified UTF-7 moves into the shared IMAP protocol kit' },
  { from: 'diagnose/imap.ts', to: 'core/message/date.ts', why: 'issue 9 point 6: IMAP date parsing moves into the shared IMAP protocol kit' },
  { from: 'providers/imap/wire/message.ts', to: 'core/message/encoded-words.ts', why: 'issue 9 point 6: the wire client\'s header decoding moves under the IMAP protocol kit' },
  { from: 'providers/imap/wire/message.ts', to: 'core/message/index-text.ts', why: 'issue 9 point 6: the wire client\'s index text moves under the IMAP protocol kit' },
  { from: 'providers/imap/wire/message.ts', to: 'core/message/raw-header.ts', why: 'issue 9 point 6: the wire client\'s header reading moves under the IMAP protocol kit' },
];

/** Heavy backend libraries: only the folders that own a backend or a sign-in flow load them. */
const BACKEND_LIBRARIES: readonly { pattern: RegExp; allowedIn: readonly string[] }[] = [
  { pattern: /^imapflow(\/|$)/, allowedIn: ['providers'] },
  { pattern: /^nodemailer(\/|$)/, allowedIn: ['providers'] },
  { pattern: /^googleapis(\/|$)/, allowedIn: ['providers'] },
  { pattern: /^@googleapis\//, allowedIn: ['providers'] },
  { pattern: /^@azure\/msal-node(\/|$)/, allowedIn: ['providers', 'auth'] },
];

/** Backend-library imports outside their folders, with the reason (exact file and specifier). */
const LIBRARY_EXCEPTIONS: readonly { from: string; to: string; why: string }[] = [
  { from: 'core/compose.ts', to: 'nodemailer/lib/mail-composer', why: 'used as a MIME builder, not a transport: every backend sends the same raw message (Gmail and Graph take raw MIME too)' },
  { from: 'core/compose.ts', to: 'nodemailer/lib/addressparser', why: 'address list parsing for the composed message, no transport code' },
];

type Kind = 'static' | 'type' | 'dynamic';
interface Edge { from: string; spec: string; to: string | null; kind: Kind; line: number }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const rel = (path: string): string => relative(SRC, path).split(sep).join('/');

/** Every import of a file: `import/export ... from`, side-effect imports, `import()` and `require()`. */
export function importsOf(file: string, text: string): Edge[] {
  const pattern = /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?(?:[^'";]*?[ \t\n]from[ \t]*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm;
  const edges: Edge[] = [];
  for (const match of text.matchAll(pattern)) {
    const spec = (match[2] ?? match[3] ?? match[4])!;
    const kind: Kind = match[3] !== undefined || match[4] !== undefined ? 'dynamic' : match[1] ? 'type' : 'static';
    const to = spec.startsWith('.') ? rel(resolve(dirname(file), spec.replace(/\.js$/, '.ts'))) : null;
    const line = text.slice(0, match.index).split('\n').length;
    edges.push({ from: rel(file), spec, to, kind, line });
  }
  return edges;
}

const topFolder = (path: string): string => path.split('/')[0]!;
const levelOf = (folder: string): number => LAYERS.findIndex((level) => level.includes(folder));
const matches = (target: string, rule: string): boolean => target === rule || target.startsWith(`${rule}/`);

/** The layer violations among edges, each as a readable line. Exceptions are reported as used. */
export function layerViolations(edges: readonly Edge[], used = new Set<string>()): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    if (edge.to === null) continue;
    const from = topFolder(edge.from);
    const to = topFolder(edge.to);
    if (from === to) continue;
    const where = `src/${edge.from}:${edge.line} imports ${edge.spec} (src/${edge.to})`;
    if (levelOf(from) < 0 || levelOf(to) < 0) {
      problems.push(`${where}: src/${levelOf(from) < 0 ? from : to}/ is in no layer; add it to LAYERS in test/unit/layers.test.ts and the README`);
      continue;
    }
    if (from === 'domain') {
      problems.push(`${where}: src/domain imports nothing but src/domain`);
      continue;
    }
    const exception = EXCEPTIONS.find((e) => e.from === edge.from && e.to === edge.to);
    if (exception) { used.add(`${exception.from} -> ${exception.to}`); continue; }
    if (levelOf(to) > levelOf(from)) continue;
    if (levelOf(to) === levelOf(from)) {
      if (PEER_EDGES.some((p) => p.from === from && matches(edge.to!, p.to))) continue;
      problems.push(`${where}: ${from} and ${to} are peers on one level and may not import each other`);
      continue;
    }
    problems.push(`${where}: ${from} may not import ${to}, which is above it (order: ${LAYERS.map((l) => l.join('|')).join(' → ')})`);
  }
  return problems;
}

/** Backend libraries imported outside the folders that own them. */
export function libraryViolations(edges: readonly Edge[], used = new Set<string>()): string[] {
  const problems: string[] = [];
  for (const edge of edges) {
    if (edge.to !== null) continue;
    const library = BACKEND_LIBRARIES.find((l) => l.pattern.test(edge.spec));
    if (!library || library.allowedIn.includes(topFolder(edge.from))) continue;
    const exception = LIBRARY_EXCEPTIONS.find((e) => e.from === edge.from && e.to === edge.spec);
    if (exception) { used.add(`${exception.from} -> ${exception.to}`); continue; }
    problems.push(`src/${edge.from}:${edge.line} imports ${edge.spec}: only src/${library.allowedIn.join('/, src/')}/ may load it`);
  }
  return problems;
}

/** Cycles among static value imports (type-only imports vanish at run time; import() is lazy). */
export function importCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, string[]>();
  for (const edge of edges) {
    if (edge.kind !== 'static' || edge.to === null) continue;
    graph.set(edge.from, [...(graph.get(edge.from) ?? []), edge.to]);
  }
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => `src/${f}`).join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const edges = sourceFiles(SRC).sort().flatMap((file) => importsOf(file, readFileSync(file, 'utf8')));

describe('the dependency rule of src/', () => {
  it('finds the imports it checks (the scanner is not blind)', () => {
    expect(edges.some((e) => e.from === 'cli/main.ts' && e.kind === 'dynamic')).toBe(true);
    expect(edges.some((e) => e.kind === 'type')).toBe(true);
    expect(edges.some((e) => e.kind === 'static' && e.to?.startsWith('domain/'))).toBe(true);
  });

  it('has no cycle among static imports', () => {
    expect(importCycles(edges), 'import cycles (break one edge, or make it `import type` / lazy `import()`)').toEqual([]);
  });

  it('imports only down the layer order cli → core → {providers, auth, secrets, store, diagnose} → net → domain', () => {
    const used = new Set<string>();
    expect(layerViolations(edges, used), 'layer violations').toEqual([]);
    const stale = EXCEPTIONS.map((e) => `${e.from} -> ${e.to}`).filter((key) => !used.has(key));
    expect(stale, 'exceptions in test/unit/layers.test.ts that no longer occur: remove them').toEqual([]);
  });

  it('loads imapflow, nodemailer, googleapis and MSAL only in src/providers (and MSAL in src/auth)', () => {
    const used = new Set<string>();
    expect(libraryViolations(edges, used), 'backend libraries outside their folders').toEqual([]);
    const stale = LIBRARY_EXCEPTIONS.map((e) => `${e.from} -> ${e.to}`).filter((key) => !used.has(key));
    expect(stale, 'library exceptions in test/unit/layers.test.ts that no longer occur: remove them').toEqual([]);
  });

  it('reports a violation readably (the check can fail)', () => {
    const bad = importsOf(join(SRC, 'domain/x.ts'), "import { a } from '../store/db.js';\n");
    expect(layerViolations(bad)).toEqual(['src/domain/x.ts:1 imports ../store/db.js (src/store/db.ts): src/domain imports nothing but src/domain']);
    const up = importsOf(join(SRC, 'store/x.ts'), "import type { A } from '../cli/output.js';\n");
    expect(layerViolations(up)[0]).toMatch(/store may not import cli, which is above it/);
    const peer = importsOf(join(SRC, 'secrets/x.ts'), "const m = await import('../store/db.js');\n");
    expect(layerViolations(peer)[0]).toMatch(/secrets and store are peers/);
    const lib = importsOf(join(SRC, 'core/x.ts'), "const { ImapFlow } = await import('imapflow');\n");
    expect(libraryViolations(lib)).toEqual(['src/core/x.ts:1 imports imapflow: only src/providers/ may load it']);
    const cyc = [...importsOf(join(SRC, 'core/a.ts'), "import { b } from './b.js';\n"), ...importsOf(join(SRC, 'core/b.ts'), "import { a } from './a.js';\n")];
    expect(importCycles(cyc)).toEqual(['src/core/a.ts → src/core/b.ts → src/core/a.ts']);
  });
});
