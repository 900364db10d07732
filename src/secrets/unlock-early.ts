/**
 * Starts unlocking the encrypted secret file before anyone asks for it. scrypt runs on
 * libuv's threads for about 50 ms; begun as soon as a sync is recognised, it overlaps
 * the loading of the command's modules and the opening of the database instead of
 * following them. The derived key is kept by encrypted-file.ts for the process, so the
 * command's own unlock finds it ready. Nothing is reported here: a wrong passphrase or a
 * damaged file is reported by the command when it opens the store itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET_FILE_NAME } from './encrypted-file.js';
import { resolvePassphrase } from './passphrase.js';
// The session imports the store when it first needs a secret: loaded here, it is there already.
import { openSecretStore } from './store.js';

export function unlockEarly(home: string, env: NodeJS.ProcessEnv, passphraseFile: string | undefined): void {
  try {
    if (!existsSync(join(home, SECRET_FILE_NAME))) return;
    const passphrase = resolvePassphrase({ env, file: passphraseFile });
    if (passphrase === null) return;
    openSecretStore('file', { home, passphrase, env }).catch(() => undefined);
  } catch {
    // Reported by the command's own use of the store.
  }
}
