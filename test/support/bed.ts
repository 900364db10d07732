// The test bed as seen from an e2e test file: the coordinates of the servers that the global setup
// started for this run (handed over with vitest's provide/inject), and helpers that work from any
// worker process. Each test makes its own users with newUser(), so parallel files never collide.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { ReceivedMessage } from './smtp.js';
import { addUserFile, type MailUser } from './users.js';

export interface MailBed {
  host: '127.0.0.1';
  /** PEM of the suite's CA: trust it with `--ca-file` or `tls.ca`. */
  caFile: string;
  /** IMAP, implicit TLS. */
  imapsPort: number;
  /** IMAP, plain (STARTTLS offered, LOGIN in the clear allowed). */
  imapPort: number;
  lmtpPort: number;
  /** SMTP submission with STARTTLS (AUTH only after STARTTLS). */
  smtpPort: number;
  /** SMTP with implicit TLS. */
  smtpsPort: number;
  /** SMTP without TLS, AUTH in the clear allowed. */
  smtpPlainPort: number;
  /** One passwd-file per user; write new ones with newUser(). */
  usersDir: string;
  /** Domain of every mailbox user. */
  mailDomain: string;
  /** Where the SMTP server records each accepted message. */
  spoolDir: string;
  dovecotLog: string;
  /** Scratch folder of this run, removed at teardown (homes from makeHome() live here). */
  tmpDir: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    mailBed: MailBed;
  }
}

export function mailBed(): MailBed {
  const bed = inject('mailBed');
  if (!bed) throw new Error('no mail bed: this helper only works in the e2e project (test/e2e)');
  return bed;
}

/** A fresh mailbox user (unique address, random password) with its special-use folders. */
export function newUser(label?: string): MailUser {
  return addUserFile(mailBed().usersDir, label);
}

/** Messages accepted by the SMTP server so far, oldest first, optionally filtered. */
export function receivedMessages(filter: (m: ReceivedMessage) => boolean = () => true): ReceivedMessage[] {
  const { spoolDir } = mailBed();
  return readdirSync(spoolDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => {
      const stored = JSON.parse(readFileSync(join(spoolDir, name), 'utf8')) as Omit<ReceivedMessage, 'raw'> & { raw: string };
      return { ...stored, raw: Buffer.from(stored.raw, 'base64') };
    })
    .filter(filter)
    .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
}

/** Messages the SMTP server accepted for `address` (as an envelope recipient). */
export function receivedFor(address: string): ReceivedMessage[] {
  const wanted = address.toLowerCase();
  return receivedMessages((m) => m.rcptTo.includes(wanted));
}
