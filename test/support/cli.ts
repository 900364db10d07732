// Runs the real mailops executable (bin/mailops, which loads dist/) the way a script would:
// a child process with pipes (never a TTY), a clean environment and its own MAILOPS_HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const MAILOPS_BIN = fileURLToPath(new URL('../../bin/mailops', import.meta.url));

export interface CliOptions {
  /** MAILOPS_HOME (and HOME); default a fresh makeHome(). */
  home?: string;
  /**
   * Pass the D-Bus session (gnome-keyring) through. Off by default, so a test that does not ask
   * for the keychain sees a host without one, like a server or cron.
   */
  keychain?: boolean;
  /** Applied last; `undefined` removes a variable (e.g. `{ MAILOPS_HOME: undefined }`). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; without it stdin is closed at once (like </dev/null). */
  input?: string | Buffer;
  /** Default: the home folder. */
  cwd?: string;
  /** Default 30 s; after it the process is killed and the promise rejects with the output so far. */
  timeoutMs?: number;
}

export interface CliResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).result;
}

/** Like runCli, but hands over the child process too: to signal it, or to run two at once. */
export function startCli(args: string[], opts: CliOptions = {}): RunningCli {
  const home = opts.home ?? makeHome();
  const child = spawn(process.execPath, [MAILOPS_BIN, ...args], {
    cwd: opts.cwd ?? home,
    env: cliEnv(home, opts),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailops ${args.join(' ')} did not exit within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  // A CLI that exits without reading its input must not fail the test with EPIPE.
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.input);
  return { child, result };
}

/** A fresh, empty folder (0700) to use as MAILOPS_HOME; inside the run's scratch folder when there is one. */
export function makeHome(): string {
  const runDir = inject('mailBed')?.tmpDir;
  const parent = runDir ? join(runDir, 'homes') : tmpdir();
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, 'mailops-home-'));
}

/** Only what a program needs from the parent; nothing of the developer's or CI's own settings. */
export function cliEnv(home: string, opts: CliOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    MAILOPS_HOME: home,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
  };
  if (opts.keychain) {
    env.DBUS_SESSION_BUS_ADDRESS = process.env.DBUS_SESSION_BUS_ADDRESS;
    env.XDG_RUNTIME_DIR = process.env.XDG_RUNTIME_DIR;
  }
  Object.assign(env, opts.env);
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
