/**
 * MAILOPS_HOME: where the database and the encrypted secret file live.
 * Default $XDG_DATA_HOME/mailops, i.e. ~/.local/share/mailops. Always 0700.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function resolveHome(env: NodeJS.ProcessEnv): string {
  if (env.MAILOPS_HOME) return resolve(env.MAILOPS_HOME);
  const dataHome = env.XDG_DATA_HOME ? resolve(env.XDG_DATA_HOME) : join(homedir(), '.local', 'share');
  return join(dataHome, 'mailops');
}

/** Creates the folder when missing and tightens it to 0700: it holds caches of private mail. */
export function ensureHome(home: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if ((statSync(home).mode & 0o077) !== 0) chmodSync(home, 0o700);
  return home;
}
