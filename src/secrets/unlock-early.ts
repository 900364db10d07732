/**
 * Starts unlocking the encrypted secret file before anyone asks for it. scrypt runs on
 * libuv's threads for about 50 ms; begun as soon as a sync is recognised, it overlaps
 * the loading of the command's modules and the opening of the database instead of
 * following them. The derived key is kept by encrypted-file.ts for the process, so the
 * command's own unlock finds it ready. Nothing is reported here: a wrong passphrase or a
 * damaged file is reported by the command when it opens the store itself.
 *
 * Only when an account keeps its secret in the file: a secret file can outlive its use (an
 * account moved to --password-cmd or the keychain), and a derivation nobody needs takes one of
 * the machine's cores (about 70 ms of CPU and 16 MiB) from the command's own start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AccountConfig } from '../domain/types.js';
import { readAccountsBackup } from '../store/account-backup.js';
import { SECRET_FILE_NAME } from './encrypted-file.js';
import { resolvePassphrase } from './passphrase.js';
// The session imports the store when it first needs a secret: loaded here, it is there already.
import { openSecretStore } from './store.js';

export function unlockEarly(home: string, env: NodeJS.ProcessEnv, passphraseFile: string | undefined): void {
  try {
    if (!existsSync(join(home, SECRET_FILE_NAME))) return;
    // accounts.json is the database's copy of the accounts, read without opening SQLite. When it
    // cannot be read the key is derived anyway: early is only a head start.
    const accounts = readAccountsBackup(home);
    if (accounts !== null && !accounts.some(keepsSecretInFile)) return;
    const passphrase = resolvePassphrase({ env, file: passphraseFile });
    if (passphrase === null) return;
    openSecretStore('file', { home, passphrase, env }).catch(() => undefined);
  } catch {
    // Reported by the command's own use of the store.
  }
}

/** Whether using the account reads the secret file: its password or its OAuth tokens are there. */
function keepsSecretInFile(account: AccountConfig): boolean {
  if (account.secretStore !== 'file') return false;
  // An IMAP account with a password command reads nothing from the store (session.credentials).
  return account.provider !== 'imap' || !account.passwordCommand;
}
