// Runs a child process under GNU time for its wall time, peak RSS (ru_maxrss of the process and
// the children it waited for, from wait4: nothing to sample, nothing missed between samples) and
// CPU time (user + system), which other load on the machine disturbs less than wall time. With
// them, the whole machine's busy CPU time meanwhile (/proc/stat: the server, the kernel's
// writeback and anything else running too), which says how much of the cores were left idle.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIME = '/usr/bin/time';

/** Clock ticks per second of /proc/stat (USER_HZ). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** The machine's busy CPU seconds since boot, all cores (NaN where there is no /proc/stat). */
function machineBusy() {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).map(Number);
    return (user + nice + system + irq + softirq + steal) / TICKS;
  } catch {
    return NaN;
  }
}

/**
 * Installs a Debian package when `command` is missing, as scripts/test.sh does for the test
 * servers (root, or sudo). The bench's own tools only: isync (mbsync) and time.
 */
export function ensureCommand(command, pkg) {
  if (spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0) return;
  console.error(`bench: installing ${pkg} (for ${command})`);
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', pkg]]) {
    const [cmd, ...rest] = [...asRoot, ...args];
    const result = spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed (exit ${result.status})`);
  }
}

/**
 * Runs `command args` to completion; resolves with wall seconds, CPU seconds, peak RSS in MB,
 * the machine's busy CPU seconds meanwhile (`machineCpu`: every process, this one's included),
 * exit code and output. Wall time is measured here (GNU time prints only centiseconds).
 */
export function measure(command, args, { env = process.env, cwd } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-bench-time-'));
  const report = join(dir, 'time');
  return new Promise((resolve, reject) => {
    const busy = machineBusy();
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', '%M %U %S', '-o', report, command, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const machineCpu = machineBusy() - busy;
      let fields = [NaN, NaN, NaN];
      try {
        // The last line: GNU time puts "Command exited with non-zero status N" before it.
        fields = readFileSync(report, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      } catch {
        // no report: the figures stay NaN
      }
      rmSync(dir, { recursive: true, force: true });
      const [rssKb, user, system] = fields;
      resolve({ wall, cpu: user + system, machineCpu, rssMb: rssKb / 1024, code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** measure(), but a non-zero exit is an error that shows the output. */
export async function measureOk(label, command, args, opts) {
  const result = await measure(command, args, opts);
  if (result.code !== 0) {
    throw new Error(`${label}: ${command} ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout.slice(-2000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
  }
  return result;
}
