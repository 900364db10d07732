// Mailbox users of the test Dovecot: one passwd-file per user in a users folder, which Dovecot
// reads through a per-user path (passwd-file with %Lu in its path) and the SMTP server checks AUTH
// against. Any process - the global setup or a test worker - adds a user by writing a file.
// Why not one shared passwd-file: Dovecot re-checks a passwd-file at most once a second, so a user
// appended just after a lookup stays unknown for up to a second; a new file is read on first use.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MailUser {
  /** Login name; the same as the address, so `connect --email` needs no `--user`. */
  user: string;
  password: string;
  email: string;
}

export const MAIL_DOMAIN = 'mailops.test';

/**
 * Adds a fresh user with a random password and a unique address (`<label>-<random>@mailops.test`),
 * so parallel test files never share a mailbox.
 */
export function addUserFile(usersDir: string, label = 'user'): MailUser {
  const local = `${label.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${randomBytes(4).toString('hex')}`;
  const email = `${local}@${MAIL_DOMAIN}`;
  // base64url never contains ':' (the passwd-file field separator).
  const password = randomBytes(12).toString('base64url');
  const file = join(usersDir, email);
  // Renamed into place so that Dovecot never reads half a line. 0644: the auth process runs as `dovecot`.
  writeFileSync(`${file}.tmp`, `${email}:{PLAIN}${password}::::::\n`, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
  return { user: email, password, email };
}

/** The password of `user`, or undefined when there is no such user. */
export function lookupPassword(usersDir: string, user: string): string | undefined {
  const name = user.toLowerCase();
  if (!/^[a-z0-9.@+_-]+$/.test(name) || name.startsWith('.')) return undefined;
  let line: string;
  try {
    line = readFileSync(join(usersDir, name), 'utf8');
  } catch {
    return undefined;
  }
  const [, password] = line.split(':');
  return password?.startsWith('{PLAIN}') ? password.slice('{PLAIN}'.length) : undefined;
}

/**
 * Changes a user's password as an administrator would, behind mailops' back, and waits until
 * Dovecot must see it: it re-checks a passwd-file at most once a second, so a login within a
 * second of the last lookup would still get the old password. The file is replaced by a rename
 * (a new inode), so the change shows even when the size and the mtime second are the same.
 */
export async function changePassword(usersDir: string, email: string, password: string): Promise<void> {
  const file = join(usersDir, email.toLowerCase());
  writeFileSync(`${file}.tmp`, `${email}:{PLAIN}${password}::::::\n`, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
  await new Promise((resolve) => setTimeout(resolve, 1100));
}
