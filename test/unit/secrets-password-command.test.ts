// --password-cmd: what comes back, what a failure says, and that the password never leaks.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { runPasswordCommand } from '../../src/secrets/password-command.js';

async function failure(command: string, timeoutMs = 5_000, signal?: AbortSignal): Promise<MailopsError> {
  const error = await runPasswordCommand(command, { timeoutMs, signal }).then(
    () => {
      throw new Error('expected the command to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailopsError);
  return error as MailopsError;
}

/** Processes whose command line contains `marker`. */
function processesWith(marker: string): string[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

describe('runPasswordCommand', () => {
  it('returns the first line of stdout, spaces kept, only the newline stripped', async () => {
    expect(await runPasswordCommand(`printf '  pass word \\nsecond line\\n'`, { timeoutMs: 5_000 })).toBe('  pass word ');
    expect(await runPasswordCommand(`printf 'crlf\\r\\n'`, { timeoutMs: 5_000 })).toBe('crlf');
    expect(await runPasswordCommand(`printf 'no-newline'`, { timeoutMs: 5_000 })).toBe('no-newline');
  });

  it('runs a shell pipeline, with the environment passed on', async () => {
    process.env.MAILOPS_TEST_PW_SOURCE = 'from-env';
    try {
      expect(await runPasswordCommand('echo "$MAILOPS_TEST_PW_SOURCE" | tr a-z A-Z', { timeoutMs: 5_000 })).toBe('FROM-ENV');
    } finally {
      delete process.env.MAILOPS_TEST_PW_SOURCE;
    }
  });

  it('reports a non-zero exit with the first line of stderr, never stdout', async () => {
    const error = await failure(`echo leaked-secret; echo '' >&2; echo 'vault: access denied' >&2; echo more >&2; exit 3`);
    expect(error.code).toBe('PASSWORD_COMMAND_FAILED');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('the password command failed (exit 3): vault: access denied');
    expect(error.hint).toMatch(/--password-cmd/);
    expect(JSON.stringify({ m: error.message, h: error.hint })).not.toContain('leaked-secret');
  });

  it('reports an exit without stderr plainly', async () => {
    expect((await failure('exit 1')).message).toBe('the password command failed (exit 1)');
  });

  it('fails on empty output, and does not wait on stdin', async () => {
    expect((await failure('true')).message).toBe('the password command printed no password (exit 0)');
    // stdin is /dev/null: `cat` ends at once instead of waiting for a terminal.
    expect((await failure('cat')).message).toBe('the password command printed no password (exit 0)');
    expect((await failure(`printf '\\nsecond-line-is-not-the-password\\n'`)).message).toBe('the password command printed no password (exit 0)');
  });

  it('kills a command that hangs, with everything it started, and says it timed out', async () => {
    const marker = `${Date.now() % 1000}.${process.pid}`; // a unique `sleep` duration
    const started = Date.now();
    const error = await failure(`echo partial-secret; sleep ${marker} | cat; echo never`, 300);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error.code).toBe('PASSWORD_COMMAND_FAILED');
    expect(error.message).toBe('the password command failed (timed out after 0.3 s)');
    expect(error.message).not.toContain('partial-secret');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesWith(`sleep\0${marker}`)).toEqual([]);
  });

  it('stops when aborted (Ctrl-C)', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure('sleep 20', 10_000, controller.signal);
    expect(error.code).toBe('INTERRUPTED');
  });
});
