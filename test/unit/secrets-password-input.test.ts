// The non-interactive password sources of `connect`, and the passphrase of the secret file.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { resolvePassphrase } from '../../src/secrets/passphrase.js';
import { readPasswordFromSource, type PasswordSource } from '../../src/secrets/password-input.js';

const dir = mkdtempSync(join(tmpdir(), 'mailops-pwinput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, content: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

async function read(source: PasswordSource, opts: { stdin?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const warnings: string[] = [];
  const password = await readPasswordFromSource(source, {
    stdin: Readable.from((opts.stdin ?? []).map((s) => Buffer.from(s))),
    env: opts.env ?? {},
    warn: (m) => warnings.push(m),
  });
  return { password, warnings };
}

async function failure(source: PasswordSource, opts: { stdin?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<MailopsError> {
  const error = await read(source, opts).then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailopsError);
  return error as MailopsError;
}

describe('--password-env', () => {
  it('takes the variable as it is', async () => {
    expect(await read({ kind: 'env', name: 'PW' }, { env: { PW: ' spaced pw \n' } })).toEqual({ password: ' spaced pw \n', warnings: [] });
  });

  it('names the variable when it is unset or empty (usage error, exit 2)', async () => {
    const unset = await failure({ kind: 'env', name: 'MY_PW' });
    expect(unset.code).toBe('MISSING_INPUT');
    expect(unset.exitCode).toBe(2);
    expect(unset.message).toBe('the environment variable MY_PW is not set');
    expect((await failure({ kind: 'env', name: 'MY_PW' }, { env: { MY_PW: '' } })).message).toBe('the environment variable MY_PW is empty');
  });
});

describe('--password-file', () => {
  it('takes the first line of a private file, without warning', async () => {
    const path = fileWith('pw-private', 'first line pw \nsecond\n');
    expect(await read({ kind: 'file', path })).toEqual({ password: 'first line pw ', warnings: [] });
    expect((await read({ kind: 'file', path: fileWith('pw-crlf', 'crlf\r\n') })).password).toBe('crlf');
  });

  it('warns when others can read the file, without quoting it', async () => {
    const path = fileWith('pw-open', 'open-secret\n', 0o644);
    const { password, warnings } = await read({ kind: 'file', path });
    expect(password).toBe('open-secret');
    expect(warnings).toEqual([`the password file ${path} can be read by other users (mode 0644); chmod 600 it`]);
  });

  it('names the file it cannot read', async () => {
    const path = join(dir, 'missing');
    const error = await failure({ kind: 'file', path });
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toBe(`cannot read the password file ${path}: no such file`);
  });

  it('refuses a file whose first line is empty', async () => {
    const path = fileWith('pw-empty', '\nsecret-on-line-two\n');
    const error = await failure({ kind: 'file', path });
    expect(error.code).toBe('MISSING_INPUT');
    expect(error.message).not.toContain('secret-on-line-two');
  });
});

describe('--password-stdin', () => {
  it('takes all of stdin minus one trailing newline', async () => {
    expect((await read({ kind: 'stdin' }, { stdin: ['pa', 'ss word\n'] })).password).toBe('pass word');
    expect((await read({ kind: 'stdin' }, { stdin: ['two\n\n'] })).password).toBe('two\n');
    expect((await read({ kind: 'stdin' }, { stdin: ['crlf\r\n'] })).password).toBe('crlf');
    expect((await read({ kind: 'stdin' }, { stdin: ['été 🔑'] })).password).toBe('été 🔑');
  });

  it('refuses empty stdin', async () => {
    expect((await failure({ kind: 'stdin' }, { stdin: ['\n'] })).code).toBe('MISSING_INPUT');
    expect((await failure({ kind: 'stdin' })).message).toBe('no password on stdin');
  });
});

describe('resolvePassphrase', () => {
  it('prefers --passphrase-file, minus one trailing newline, over MAILOPS_PASSPHRASE', () => {
    const file = fileWith('passphrase', 'from file \n');
    expect(resolvePassphrase({ env: { MAILOPS_PASSPHRASE: 'from env' }, file })).toBe('from file ');
    expect(resolvePassphrase({ env: { MAILOPS_PASSPHRASE: 'from env' } })).toBe('from env');
    expect(resolvePassphrase({ env: {}, file: undefined })).toBeNull();
    expect(resolvePassphrase({ env: { MAILOPS_PASSPHRASE: '' } })).toBeNull();
  });

  it('names a passphrase file that is missing or empty', () => {
    const missing = join(dir, 'no-passphrase');
    expect(() => resolvePassphrase({ env: {}, file: missing })).toThrow(`cannot read the passphrase file ${missing}: no such file`);
    const empty = fileWith('passphrase-empty', '\n');
    expect(() => resolvePassphrase({ env: {}, file: empty })).toThrow(`the passphrase file ${empty} is empty`);
  });
});
