// A private DNS server for discovery and name-resolution tests: dnsmasq on a free port of
// 127.0.0.1, answering only the records a test gives it (A, AAAA, SRV, MX) and NXDOMAIN for any
// other name under its zones. Point mailops at it with `MAILOPS_DNS_SERVERS` (see `env`).
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST, freePort } from './net.js';

export interface DnsRecords {
  /** Zones answered with NXDOMAIN for names without a record (default: `test`). */
  zones?: string[];
  a?: Array<[name: string, address: string]>;
  aaaa?: Array<[name: string, address: string]>;
  /** A target of null publishes "service not available" (target "."). */
  srv?: Array<{ name: string; target: string | null; port?: number; priority?: number; weight?: number }>;
  mx?: Array<{ domain: string; host: string; preference: number }>;
}

export interface DnsServer {
  port: number;
  /** `127.0.0.1:PORT`, the form MAILOPS_DNS_SERVERS takes. */
  address: string;
  env: { MAILOPS_DNS_SERVERS: string };
  /** Queries dnsmasq logged, for assertions on what was asked. */
  log(): string;
  stop(): Promise<void>;
}

export async function startDns(records: DnsRecords): Promise<DnsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-dns-'));
  const logFile = join(dir, 'dnsmasq.log');
  const args = [
    '--keep-in-foreground', '--no-resolv', '--no-hosts', '--no-poll', '--conf-file=/dev/null', '--pid-file=',
    `--listen-address=${HOST}`, '--bind-interfaces', '--log-queries', `--log-facility=${logFile}`,
    ...(records.zones ?? ['test']).map((zone) => `--local=/${zone}/`),
    ...(records.a ?? []).map(([name, address]) => `--host-record=${name},${address}`),
    ...(records.aaaa ?? []).map(([name, address]) => `--host-record=${name},${address}`),
    ...(records.srv ?? []).map((r) => (r.target === null ? `--srv-host=${r.name}` : `--srv-host=${r.name},${r.target},${r.port ?? 0},${r.priority ?? 0},${r.weight ?? 0}`)),
    ...(records.mx ?? []).map((r) => `--mx-host=${r.domain},${r.host},${r.preference}`),
  ];
  // As root dnsmasq drops to an unprivileged user; keep the one running the tests otherwise.
  if (process.getuid?.() === 0) args.push('--user=nobody', '--group=nogroup');
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const child = spawn('dnsmasq', [...args, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitForAnswers(port, child);
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      return {
        port,
        address: `${HOST}:${port}`,
        env: { MAILOPS_DNS_SERVERS: `${HOST}:${port}` },
        log: () => {
          try {
            return readFileSync(logFile, 'utf8');
          } catch {
            return '';
          }
        },
        async stop() {
          process.removeListener('exit', killOnExit);
          await stop(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await stop(child);
      lastError = new Error(`${(err as Error).message}\n${stderr}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** dnsmasq is ready when it answers; a name under no zone gets REFUSED, which is an answer too. */
async function waitForAnswers(port: number, child: ChildProcess): Promise<void> {
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`${HOST}:${port}`]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}) during start-up`);
    try {
      await resolver.resolve4('ready.probe.invalid');
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code && code !== 'ETIMEOUT' && code !== 'ECONNREFUSED') return;
    }
    if (Date.now() > deadline) throw new Error(`dnsmasq did not answer on ${HOST}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
