// What the API benchmarks (gmail.mjs, graph.mjs) share: the fakes and the account seeding compiled
// into .bench/ as the tests run them, and the generated messages.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Compiles the test bed (scripts/bench/tsconfig.json) and returns a loader of its modules. */
export function compileBed(root, node) {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(node, [tsc, '-p', 'scripts/bench/tsconfig.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`could not compile the test bed (tsc exited ${result.status})`);
  return (path) => import(pathToFileURL(join(root, '.bench', path)).href);
}

/** A plain message of about 2 KB to `to`, one in fifty with an attachment-sized body. */
export function benchMessage(i, to) {
  const body = `Message ${i} of the benchmark.\r\n`.repeat(i % 50 === 0 ? 2000 : 40);
  return `From: Sender ${i % 37} <sender${i % 37}@example.org>\r\nTo: ${to}\r\nSubject: Bench message ${i}\r\nDate: Wed, 1 Jan 2025 00:00:00 +0000\r\nMessage-ID: <bench-${i}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
}
