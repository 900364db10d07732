// Shared steps of the CLI end-to-end tests: connecting a bed user the way a script would.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { mailBed, newUser } from '../support/bed.js';
import { makeHome, runCli, type CliOptions, type CliResult } from '../support/cli.js';
import { startGmailBed, type GmailBed } from '../support/gmail-bed.js';
import type { MailUser } from '../support/users.js';

export const PASSPHRASE = 'correct horse battery staple';

/** Flags that point an account at the bed's Dovecot (implicit TLS) and SMTP (STARTTLS). */
export function serverFlags(user: MailUser): string[] {
  const bed = mailBed();
  return [
    '--email', user.email,
    '--imap-host', bed.host, '--imap-port', String(bed.imapsPort), '--imap-tls', 'implicit',
    '--smtp-host', bed.host, '--smtp-port', String(bed.smtpPort), '--smtp-tls', 'starttls',
    '--ca-file', bed.caFile,
  ];
}

export interface Account {
  user: MailUser;
  home: string;
  /** Runs mailops against this account's home with the file store unlocked. */
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

/** A fresh bed user connected in a fresh home, secrets in the encrypted file (no keychain needed). */
export async function connectedAccount(label = 'user'): Promise<Account> {
  const user = newUser(label);
  const home = makeHome();
  const cli = (args: string[], opts: CliOptions = {}) =>
    runCli(args, { home, ...opts, env: { MAILOPS_PASSPHRASE: PASSPHRASE, ...opts.env } });
  const result = await cli(['connect', 'main', ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW'], {
    env: { PW: user.password },
  });
  expect(result.stderr).toContain('Connected main');
  expect(result.code).toBe(0);
  return { user, home, cli };
}

/** Names of the accounts saved in a home (the file store unlocked), straight from `status --offline`. */
export async function accountsIn(home: string, env: Record<string, string> = { MAILOPS_PASSPHRASE: PASSPHRASE }): Promise<string[]> {
  const result = await runCli(['status', '--offline', '--json'], { home, env });
  expect(result.code).toBe(0);
  return parseJson<{ accounts: Array<{ name: string }> }>(result).accounts.map((a) => a.name);
}

export function parseJson<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
}

export function jsonError(result: CliResult): { code: string; message: string; hint?: string } {
  const line = result.stderr.trim().split('\n').pop() ?? '';
  return (JSON.parse(line) as { error: { code: string; message: string; hint?: string } }).error;
}

/** Every file under a folder, read as bytes (for "no secret on disk" checks). */
export function filesUnder(dir: string): Array<{ path: string; content: Buffer; mode: number }> {
  const out: Array<{ path: string; content: Buffer; mode: number }> = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, content: readFileSync(path), mode: st.mode & 0o777 });
  }
  return out;
}

/** Asserts the secret appears nowhere: not in any file of the home, not in the output. */
export function expectNoSecret(secret: string, home: string, ...outputs: string[]): void {
  const forms = [secret, Buffer.from(secret).toString('base64')];
  for (const file of filesUnder(home)) {
    for (const form of forms) expect(file.content.includes(form), `${form} found in ${file.path}`).toBe(false);
  }
  for (const output of outputs) for (const form of forms) expect(output).not.toContain(form);
}

/** A small text message for seeding mailboxes. */
export function textMessage(opts: { subject: string; from?: string; to?: string; body?: string; date?: string; messageId?: string }): string {
  return [
    `From: ${opts.from ?? 'Alice Example <alice@example.org>'}`,
    `To: ${opts.to ?? 'bob@example.org'}`,
    `Subject: ${opts.subject}`,
    `Date: ${opts.date ?? 'Thu, 09 Jan 2025 10:30:00 +0000'}`,
    `Message-ID: ${opts.messageId ?? `<${Math.random().toString(36).slice(2)}@example.org>`}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.body ?? 'Hello.',
    '',
  ].join('\r\n');
}

/** A home of the Gmail bed: a new mailbox in the fake, a fresh MAILOPS_HOME, and a CLI that sees the bed. */
export interface GmailHome {
  email: string;
  home: string;
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

export function gmailHome(bed: GmailBed, label: string, env: Record<string, string> = {}): GmailHome {
  const email = bed.newUser(label);
  const home = makeHome();
  const base = { ...bed.env(), FAKE_BROWSER_LOG: bed.browserLog(), MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20', ...env };
  return { email, home, cli: (args, opts = {}) => runCli(args, { home, ...opts, env: { ...base, ...opts.env } }) };
}

/**
 * The Gmail bed of one test file: started before its tests and stopped after them, with no quota
 * unless one is given (the quota has tests of its own). Returns the running bed.
 */
export function useGmailBed(options: Parameters<typeof startGmailBed>[0] = { quota: { unitsPerWindow: Infinity } }): () => GmailBed {
  let bed: GmailBed | undefined;
  beforeAll(async () => {
    bed = await startGmailBed(options);
  });
  afterAll(async () => {
    await bed?.stop();
  });
  return () => {
    if (!bed) throw new Error('the Gmail bed is not running (useGmailBed runs in beforeAll)');
    return bed;
  };
}

/** A message whose Message-ID follows from its subject, dated 2 June 2026, as the Gmail tests seed them. */
export function subjectMessage(subject: string, from = 'Bob <bob@example.org>'): string {
  return `From: ${from}\r\nTo: ann@example.com\r\nSubject: ${subject}\r\nDate: Tue, 2 Jun 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\nBody of ${subject}.\r\n`;
}

/** No token or code the bed's authorization server issued, nor its client secret, is in the home or the outputs. */
export function expectNoGrantSecret(bed: GmailBed, home: string, ...outputs: string[]): void {
  const issued = bed.idp.issuedSecrets();
  expect(issued.length, 'the authorization server issued nothing: the check would prove nothing').toBeGreaterThan(0);
  for (const secret of [...issued, bed.client.clientSecret]) expectNoSecret(secret, home, ...outputs);
}

/** Messages in the home's cache (0 while it does not exist yet, or is locked by a run for a moment). */
export function cachedRows(home: string): number {
  // Opening would make the database: a run starting at that moment must be the one that does.
  if (!existsSync(join(home, 'mailops.db'))) return 0;
  try {
    const db = openDatabase(home);
    try {
      return db.prepare('SELECT count(*) FROM messages').pluck().get() as number;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}
