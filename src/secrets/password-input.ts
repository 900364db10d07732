/**
 * The non-interactive password sources of `connect`: `--password-env VAR`, `--password-file FILE`
 * and `--password-stdin`. (The interactive prompt belongs to the CLI.) Errors name the flag's
 * argument, never the password.
 */
import { readFile, stat } from 'node:fs/promises';
import { MailopsError } from '../domain/errors.js';

export type PasswordSource = { kind: 'env'; name: string } | { kind: 'file'; path: string } | { kind: 'stdin' };

export interface PasswordInputIo {
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  warn: (message: string) => void;
}

export async function readPasswordFromSource(source: PasswordSource, io: PasswordInputIo): Promise<string> {
  switch (source.kind) {
    case 'env':
      return fromEnv(source.name, io.env);
    case 'file':
      return fromFile(source.path, io.warn);
    case 'stdin':
      return fromStdin(io.stdin);
  }
}

/** Taken as it is: a variable has no trailing newline unless someone put one there on purpose. */
function fromEnv(name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (value === undefined) {
    throw new MailopsError('MISSING_INPUT', `the environment variable ${name} is not set`, { hint: `export ${name}, or use another password source` });
  }
  if (value === '') {
    throw new MailopsError('MISSING_INPUT', `the environment variable ${name} is empty`, { hint: `export ${name}, or use another password source` });
  }
  return value;
}

/** The first line, so a file written by `echo` or an editor works as it is. */
async function fromFile(path: string, warn: (message: string) => void): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new MailopsError('INVALID_VALUE', `cannot read the password file ${path}: ${reason}`, { cause: error });
  }
  const { mode } = await stat(path);
  if ((mode & 0o044) !== 0) {
    warn(`the password file ${path} can be read by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it`);
  }
  const password = (text.split('\n')[0] ?? '').replace(/\r$/, '');
  if (password.length === 0) {
    throw new MailopsError('MISSING_INPUT', `the password file ${path} has no password on its first line`);
  }
  return password;
}

/** All of stdin minus one trailing newline: a password may contain anything but that. */
async function fromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  }
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password.length === 0) {
    throw new MailopsError('MISSING_INPUT', 'no password on stdin', { hint: 'pipe the password into --password-stdin' });
  }
  return password;
}
