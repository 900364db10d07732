// src/cli/main.ts without a server: usage errors (exit 2, JSON with --json), help, and the
// failures that need no network, with fake streams (a pipe, or a terminal with --no-input).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { fakeIo, type FakeIoOptions } from '../support/fake-io.js';

async function run(argv: string[], options: FakeIoOptions & { env?: NodeJS.ProcessEnv } = {}) {
  const fake = fakeIo(options);
  const home = mkdtempSync(join(tmpdir(), 'mailops-main-'));
  const code = await main(argv, fake.io, { MAILOPS_HOME: home, ...options.env });
  return { code, stdout: fake.stdout(), stderr: fake.stderr(), error: () => JSON.parse(fake.stderr().trim().split('\n').pop()!).error };
}

describe('usage errors exit 2', () => {
  it('an unknown flag, in JSON with --json', async () => {
    const plain = await run(['ls', '--frobnicate']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("unknown option '--frobnicate'");
    expect(plain.stdout).toBe('');

    const json = await run(['ls', '--json', '--frobnicate']);
    expect(json.code).toBe(2);
    expect(json.error()).toEqual({ code: 'USAGE', message: expect.stringContaining("unknown option '--frobnicate'"), hint: expect.any(String) });
  });

  it('an unknown command, a bad number, a bad choice, a bad timeout', async () => {
    for (const argv of [['frobnicate'], ['ls', '--limit', '0'], ['ls', '--page', 'x'], ['connect', '--imap-tls', 'ssl'], ['ls', '--timeout', '0'], ['read']]) {
      const result = await run([...argv, '--json']);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.error().code, argv.join(' ')).toBe('USAGE');
    }
  });

  it('a missing value without a terminal names the flag', async () => {
    const result = await run(['connect', '--json']);
    expect(result.code).toBe(2);
    expect(result.error()).toMatchObject({ code: 'MISSING_INPUT', hint: expect.stringContaining('--email') });
  });

  it('a terminal with --no-input or CI is not asked either', async () => {
    const tty = { tty: { stdin: true, stdout: true, stderr: true } };
    const noInput = await run(['connect', '--no-input'], tty);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toContain('--email');
    const ci = await run(['connect'], { ...tty, env: { CI: '1' } });
    expect(ci.code).toBe(2);
    expect(ci.stderr).toContain('--email');
  });

  it('a bad date and a malformed query, before any connection is made', async () => {
    const date = await run(['ls', '--since', 'last tuesday', '--json']);
    expect(date.code).toBe(2);
    expect(date.error()).toMatchObject({ code: 'INVALID_VALUE', message: expect.stringContaining('--since') });
    const query = await run(['search', 'from:alice (is:unread', '--json']);
    expect(query.code).toBe(2);
    expect(query.error().code).toBe('QUERY_SYNTAX');
  });
});

describe('other outcomes', () => {
  it('--help and --version exit 0 with the text on stdout', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: mailops');
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('no account: exit 5, ACCOUNT_NOT_FOUND with a hint', async () => {
    const result = await run(['ls', '--json']);
    expect(result.code).toBe(5);
    expect(result.error()).toEqual({ code: 'ACCOUNT_NOT_FOUND', message: 'no account is connected', hint: 'add one with mailops connect' });
    expect(result.stdout).toBe('');
  });

  it('status with no accounts is an empty list, exit 0', async () => {
    const result = await run(['status', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ accounts: [] });
  });

  it('a stdout whose reader has gone: exit 141 (128 + SIGPIPE), nothing said', async () => {
    const result = await run(['status', '--json'], { stdoutFails: 'EPIPE' });
    expect(result.code).toBe(141);
    expect(result.stderr).toBe('');
  });

  it('any other failure to write stdout: exit 1, said on stderr', async () => {
    const result = await run(['status', '--json'], { stdoutFails: 'ENOSPC' });
    expect(result.code).toBe(1);
    expect(result.error()).toEqual({ code: 'FAILED', message: 'could not write the output: write ENOSPC', hint: null });
  });
});
