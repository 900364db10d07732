/**
 * The passphrase of the encrypted secret file: `--passphrase-file FILE` when given (an explicit
 * flag wins over the environment), else MAILOPS_PASSPHRASE, else none (null).
 */
import { readFileSync } from 'node:fs';
import { MailopsError } from '../domain/errors.js';

export interface PassphraseSources {
  env: NodeJS.ProcessEnv;
  /** --passphrase-file */
  file?: string | null | undefined;
}

export function resolvePassphrase(sources: PassphraseSources): string | null {
  if (sources.file) return readPassphraseFile(sources.file);
  return sources.env.MAILOPS_PASSPHRASE || null;
}

/** The whole file minus one trailing newline: the one `echo` and editors add. */
function readPassphraseFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new MailopsError('INVALID_VALUE', `cannot read the passphrase file ${path}: ${reason}`, { cause: error });
  }
  const passphrase = text.replace(/\r?\n$/, '');
  if (passphrase.length === 0) {
    throw new MailopsError('INVALID_VALUE', `the passphrase file ${path} is empty`, { hint: 'write the passphrase into it, or use MAILOPS_PASSPHRASE' });
  }
  return passphrase;
}
