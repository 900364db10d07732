#!/usr/bin/env node
// Benchmarks. Figures are printed as ratios against a reference measured in the
// same run, so they mean the same on a fast or a slow machine.
//
//   npm run bench             all sections
//   npm run bench -- startup  one section
//
// startup: `mailops --help` and `--version` against `node -e 0` (target: <= 1.5x),
//          and the list of heavy modules they load (target: none).
// sync:    `mailops sync` against mbsync and a raw IMAP floor on a generated 10,000-message
//          mailbox in a private Dovecot: first sync, no change (file secret store and
//          --password-cmd), 100 new + 100 flag changes; and peak RSS at 50,000 messages
//          (BENCH_SKIP_50K=1 skips it). Targets: (a) <= 1.5x the floor, (b) <= 1.5x mbsync (<= 1.2x
//          with --password-cmd), (c) <= 1.2x mbsync, peak RSS <= 100 MB. See scripts/bench/sync.mjs.
// gmail:   `mailops sync` of a Gmail API account against the Gmail fake under Google's quota:
//          first sync against the quota floor, no-change requests, changes' units, peak RSS.
//          See scripts/bench/gmail.mjs.
// graph:   `mailops sync` of a Graph account against the Graph fake under Outlook's limits (4 in
//          flight, 10,000 requests per 10 minutes): first sync against the throttling floor,
//          no-change requests, the requests of changes, peak RSS. See scripts/bench/graph.mjs.
// rtt:     `mailops sync` against mbsync and the raw IMAP floor with Dovecot 20 ms and 80 ms round
//          trip away (a user-space delay proxy: this kernel has no netem), at 10,000 and 50,000
//          messages: first sync, no change, 100 new + 100 flag changes, with the round trips each
//          tool takes (targets: (b), (c) <= mbsync at 20 ms; (a) <= 1.5x the floor).
//          BENCH_RTT_MS, BENCH_RTT_MESSAGES change the settings. See scripts/bench/rtt.mjs.
// offline: `ls --offline`, `search --offline WORD`, `search --offline 'from:X is:unread since:30d'` and
//          `read --offline ID` on a 100,000-message cache written by the sync code, whole process
//          beside `node -e 0` (target: each <= 250 ms). See scripts/bench/offline.mjs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'mailops');
const node = process.execPath;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * The environment the start-up figures are measured in: NODE_OPTIONS and NODE_EXTRA_CA_CERTS
 * slow every Node start (the latter by about 40 ms here) and would flatter the ratio.
 */
function startupEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function timeOnce(args, env) {
  const start = process.hrtime.bigint();
  const result = spawnSync(node, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

/** Medians of `runs` spawns of each command, taken in turn so that drift hits them alike. */
function timeInTurn(commands, runs) {
  const times = commands.map(() => []);
  for (let i = 0; i < runs; i++) commands.forEach(({ args, env }, k) => times[k].push(timeOnce(args, env)));
  return times.map(median);
}

const HEAVY = ['imapflow', 'nodemailer', 'mailparser', 'googleapis', '@googleapis', 'google-auth-library', '@azure/msal-node', 'better-sqlite3', '@inquirer', 'cli-table3', '@napi-rs/keyring'];

function loadedHeavyModules(args, env = startupEnv()) {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-bench-'));
  const log = join(dir, 'modules.log');
  try {
    spawnSync(node, ['--import', join(root, 'scripts/bench/module-log.mjs'), bin, ...args], {
      stdio: 'ignore',
      env: { ...env, MAILOPS_MODULE_LOG: log },
    });
    const modules = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const heavy = new Set();
    for (const m of modules) for (const h of HEAVY) if (m.includes(`/node_modules/${h}`)) heavy.add(h);
    return { total: new Set(modules).size, heavy: [...heavy] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function startup() {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  const env = startupEnv();
  // FORCE_COLOR=0 changes nothing visible but takes the program's own way (commander), as a
  // terminal does; a pipe gets the texts rendered at build time (src/cli/help-texts.ts).
  const viaProgram = startupEnv({ FORCE_COLOR: '0' });
  const forms = [['--help'], ['--version'], ['ls', '--help']];
  const commands = [{ args: ['-e', '0'], env }, ...forms.flatMap((args) => [{ args: [bin, ...args], env }, { args: [bin, ...args], env: viaProgram }])];
  // Warm the file cache once.
  timeInTurn(commands, 2);
  const [reference, ...figures] = timeInTurn(commands, runs);
  console.log(`startup (median of ${runs} runs taken in turn, without NODE_OPTIONS and NODE_EXTRA_CA_CERTS; reference: node -e 0 = ${reference.toFixed(1)} ms)`);
  let ok = true;
  forms.forEach((args, i) => {
    const ms = figures[2 * i];
    const program = figures[2 * i + 1];
    const ratio = ms / reference;
    const modules = loadedHeavyModules(args);
    const pass = ratio <= 1.5 && modules.heavy.length === 0;
    ok &&= pass;
    console.log(
      `  mailops ${args.join(' ').padEnd(10)} ${ms.toFixed(1).padStart(6)} ms  ${ratio.toFixed(2)}x node -e 0  ` +
        `(target <= 1.50x)  modules loaded: ${modules.total}, heavy: ${modules.heavy.length ? modules.heavy.join(', ') : 'none'}  ${pass ? 'ok' : 'OVER TARGET'}`,
    );
    console.log(`    through the program (a terminal): ${program.toFixed(1)} ms  ${(program / reference).toFixed(2)}x, heavy: ${loadedHeavyModules(args, viaProgram).heavy.join(', ') || 'none'}`);
  });
  return ok;
}

async function sync() {
  const { syncBench } = await import('./bench/sync.mjs');
  return syncBench(root);
}

async function gmail() {
  const { gmailBench } = await import('./bench/gmail.mjs');
  return gmailBench(root);
}

async function graph() {
  const { graphBench } = await import('./bench/graph.mjs');
  return graphBench(root);
}

async function offline() {
  const { offlineBench } = await import('./bench/offline.mjs');
  return offlineBench(root);
}

async function rtt() {
  const { rttBench } = await import('./bench/rtt.mjs');
  return rttBench(root);
}

const sections = { startup, sync, gmail, graph, offline, rtt };
const wanted = process.argv.slice(2);
let allOk = true;
for (const [name, section] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  allOk = (await section()) && allOk;
}
process.exitCode = allOk ? 0 : 1;
