// Runs the real mailops executable in a pseudo-terminal, the way a person at a terminal runs it:
// stdin and stdout (and stderr, unless `stderrPipe`) are a TTY, keys are typed into it, and what
// the terminal shows is recorded. The pty itself comes from Python's standard library
// (pty-run.py), so nothing needs a compiler.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { MAILOPS_BIN, cliEnv, makeHome, type CliOptions } from './cli.js';

const PTY_RUN = fileURLToPath(new URL('./pty-run.py', import.meta.url));

/** Keys as a terminal sends them. */
export const KEYS = { enter: '\r', down: '\u001b[B', up: '\u001b[A', ctrlC: '\u0003' } as const;

export interface PtyOptions extends Omit<CliOptions, 'input'> {
  /** Terminal width (default 120) and height (default 40). */
  cols?: number;
  rows?: number;
  /** stderr goes to a pipe (not a TTY), recorded apart from the terminal. */
  stderrPipe?: boolean;
}

export interface PtyResult {
  /** Exit code (128 + N when signal N killed it). */
  code: number | null;
  /** Everything the terminal showed, escape sequences included, line ends as `\n`. */
  screen: string;
  /** The same without escape sequences: what a person reads. */
  text: string;
  /** Only with `stderrPipe`. */
  stderr: string;
}

export interface PtyRun {
  child: ChildProcess;
  /** The terminal so far, escape sequences included. */
  readonly screen: string;
  /**
   * Waits until the terminal shows `pattern` after the previous match (so the same prompt text
   * asked twice is two waits), then returns the text it matched.
   */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Types into the terminal. */
  type(keys: string): void;
  result: Promise<PtyResult>;
}

export function startPty(args: string[], opts: PtyOptions = {}): PtyRun {
  const home = opts.home ?? makeHome();
  // A terminal has a TERM; the variables of the caller's own environment win.
  const env = cliEnv(home, { ...opts, env: { TERM: 'xterm-256color', ...opts.env } });
  const ptyArgs = [PTY_RUN, '--cols', String(opts.cols ?? 120), '--rows', String(opts.rows ?? 40)];
  if (opts.stderrPipe) ptyArgs.push('--stderr-pipe');
  const child = spawn('python3', [...ptyArgs, '--', process.execPath, MAILOPS_BIN, ...args], {
    cwd: opts.cwd ?? home,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  let screen = '';
  let stderr = '';
  let consumed = 0;
  let closed = false;
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk.replace(/\r\n/g, '\n');
    for (const listener of listeners) listener();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => {});

  const timeoutMs = opts.timeoutMs ?? 30_000;
  const result = new Promise<PtyResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`mailops ${args.join(' ')} (in a pty) did not exit within ${timeoutMs} ms\n--- terminal\n${stripVTControlCharacters(screen)}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      closed = true;
      for (const listener of listeners) listener();
      resolve({ code, screen, text: stripVTControlCharacters(screen), stderr });
    });
  });

  const waitFor = (pattern: string | RegExp, waitMs = 15_000): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const check = (): boolean => {
        const text = stripVTControlCharacters(screen).slice(consumed);
        const match = typeof pattern === 'string' ? (text.includes(pattern) ? { index: text.indexOf(pattern), 0: pattern } : null) : pattern.exec(text);
        if (!match) return false;
        consumed += match.index + match[0].length;
        resolve(match[0]);
        return true;
      };
      if (check()) return;
      const fail = (why: string) => {
        listeners.delete(listener);
        clearTimeout(timer);
        reject(new Error(`${why} waiting for ${String(pattern)}\n--- terminal\n${stripVTControlCharacters(screen)}\n--- stderr\n${stderr}`));
      };
      const listener = () => {
        if (check()) {
          listeners.delete(listener);
          clearTimeout(timer);
        } else if (closed) {
          fail(`mailops exited (${child.exitCode ?? child.signalCode})`);
        }
      };
      const timer = setTimeout(() => fail(`timed out after ${waitMs} ms`), waitMs);
      listeners.add(listener);
      if (closed) listener();
    });

  return {
    child,
    get screen() {
      return screen;
    },
    waitFor,
    type: (keys: string) => {
      child.stdin!.write(keys);
    },
    result,
  };
}

/** Runs to the end without typing anything. */
export function runPty(args: string[], opts: PtyOptions = {}): Promise<PtyResult> {
  return startPty(args, opts).result;
}
