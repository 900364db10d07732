/**
 * `--password-cmd`: a shell command, stored with the account and run at each use, whose first
 * line of output is the password (`pass show mail/work`, `op read ...`, `secret-tool lookup ...`).
 *
 * Its stdout is the secret, so it never appears in an error; its stderr is what explains a
 * failure, so its first line does. stdin is /dev/null: the command must not wait for input.
 *
 * It runs in its own process group, so that a timeout kills the whole pipeline: with dash as
 * /bin/sh, `sh -c 'a | b'` leaves `a` and `b` as grandchildren that killing `sh` alone would
 * orphan, still holding stdout open.
 */
import { spawn } from 'node:child_process';
import { MailopsError } from '../domain/errors.js';

export interface PasswordCommandOptions {
  timeoutMs: number;
  /** Aborting (Ctrl-C) kills the command. */
  signal?: AbortSignal | undefined;
}

/** A password is a line; anything this large is a command printing the wrong thing. */
const MAX_OUTPUT_BYTES = 1024 * 1024;
const HINT =
  'run the command yourself: it must exit 0 and print the password on the first line of its output ' +
  '(change it with mailops connect NAME --password-cmd CMD)';

export function runPasswordCommand(command: string, options: PasswordCommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stopped: string | null = null;
    let settled = false;

    const killGroup = (why: string) => {
      if (stopped !== null) return;
      stopped = why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      // Descendants that escaped the group could keep the pipes open: stop waiting for them.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const finish = (error: MailopsError | null, password?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(password!);
    };
    const fail = (what: string) => {
      const explanation = firstLine(Buffer.concat(stderr).toString('utf8'));
      finish(new MailopsError('PASSWORD_COMMAND_FAILED', `the password command ${what}${explanation ? `: ${explanation}` : ''}`, { hint: HINT }));
    };
    const onAbort = () => killGroup('interrupted');

    const timer = setTimeout(() => killGroup(`timed out after ${formatSeconds(options.timeoutMs)}`), options.timeoutMs);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_OUTPUT_BYTES) killGroup('printed more than 1 MiB');
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      finish(new MailopsError('PASSWORD_COMMAND_FAILED', `the password command could not be started: ${error.message}`, { hint: HINT }));
    });
    child.on('close', (code, signal) => {
      if (stopped === 'interrupted') return finish(new MailopsError('INTERRUPTED', 'interrupted while running the password command'));
      if (stopped !== null) return fail(`failed (${stopped})`);
      if (code !== 0) return fail(`failed (${code === null ? `killed by ${signal}` : `exit ${code}`})`);
      const password = (Buffer.concat(stdout).toString('utf8').split('\n')[0] ?? '').replace(/\r$/, '');
      if (password.length === 0) return fail('printed no password (exit 0)');
      finish(null, password);
    });
  });
}

/** The first non-blank line of stderr, bounded: enough to say why, not a log dump. */
function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim().length > 0) ?? '';
  const trimmed = line.trim();
  return trimmed.length > 200 ? `${trimmed.slice(0, 200)}…` : trimmed;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
