// The conformance harness for the Gmail API backend: the local Gmail fake over HTTPS
// (test/support/gmail-server.ts). Setup and truth go straight to the fake's mailboxes, independent
// of mailops' own code; the CLI talks to the fake through MAILOPS_GMAIL_API_URL.
//
// Accounts are written into their MAILOPS_HOME the way `connect --backend api` leaves them (the
// account row, and the access token in the encrypted file store), without the browser consent:
// that flow is connect's to test. The token is the fake's own, with the full scope, valid for the
// run, so no refresh is needed.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { makeCa } from '../support/certs.js';
import { seedGmailApiAccount } from '../support/gmail-account.js';
import { makeHome, runCli, type CliOptions } from '../support/cli.js';
import { SCOPES, startGmailServer, type GmailServer, type StoredMessage } from '../support/gmail-server.js';
import { PASSPHRASE } from '../e2e/helpers.js';
import type { BackendHarness, ConformanceAccount, NeutralFlags, SeedMessage } from './harness.js';

/** Folder paths as `folders` prints them, and the Gmail label each is. */
const SYSTEM_PATHS: Record<string, string> = { INBOX: 'INBOX', Sent: 'SENT', Trash: 'TRASH', Drafts: 'DRAFT', Spam: 'SPAM', Starred: 'STARRED' };

export function gmailHarness(): BackendHarness {
  let gmail: GmailServer;
  let users = 0;

  return {
    name: 'gmail (Gmail API fake)',
    // Gmail has no archive folder (archiving takes the inbox label off: All Mail); a user label stands in.
    folders: { inbox: 'INBOX', sent: 'Sent', trash: 'Trash', archive: 'Archive' },
    lacks: {
      answered: 'Gmail keeps no answered state',
      archiveRole: 'Gmail has no archive folder; All Mail (role all) is where archived mail is',
    },
    sentCopy: 'provider',

    async setUp() {
      const runDir = inject('mailBed')?.tmpDir;
      const parent = join(runDir ?? '/tmp', 'conformance');
      mkdirSync(parent, { recursive: true });
      const ca = await makeCa(mkdtempSync(join(parent, 'gmail-ca-')));
      // The real quota (6,000 units a minute): the client's pacing is part of what is checked.
      gmail = await startGmailServer({ ca });
    },

    async tearDown() {
      await gmail?.stop();
    },

    async newAccount(label) {
      const email = `${label}-${++users}@gmail.test`;
      gmail.addUser(email);
      // Like the bed's Dovecot, every account has its archive folder, empty.
      gmail.addLabel(email, 'Archive');
      const home = makeHome();
      await seedGmailApiAccount(home, { email, token: gmail.token(email, [SCOPES.full]), scopes: [SCOPES.full], passphrase: PASSPHRASE });
      const cli = (args: string[], opts: CliOptions = {}) =>
        runCli(args, { home, timeoutMs: 60_000, ...opts, env: { MAILOPS_PASSPHRASE: PASSPHRASE, ...gmail.env(), ...opts.env } });
      return gmailAccount(gmail, email, cli);
    },
  };
}

function gmailAccount(gmail: GmailServer, email: string, cli: ConformanceAccount['cli']): ConformanceAccount {
  const box = () => gmail.mailbox(email);
  const labelOf = (path: string): string => {
    const id = SYSTEM_PATHS[path] ?? box().labelIdFor(path);
    if (!id) throw new Error(`no label ${path}`);
    return id;
  };
  /** Lazily: the suite seeds its archive folder without creating it first (IMAP's exists). */
  const folderLabel = (path: string): string => (SYSTEM_PATHS[path] ?? box().labelIdFor(path) ?? gmail.addLabel(email, path));
  const messageIdOf = (m: StoredMessage) => /^Message-ID:[ \t]*(\S+)/im.exec(m.raw.toString('latin1'))?.[1] ?? '';
  const inFolder = (path: string): StoredMessage[] => {
    const label = labelOf(path);
    // As Gmail lists a label: what is in Trash or Spam is only there (a trashed message keeps its other labels).
    const hidden = (m: StoredMessage) => label !== 'TRASH' && label !== 'SPAM' && (m.labelIds.has('TRASH') || m.labelIds.has('SPAM'));
    return [...box().messages.values()].filter((m) => m.labelIds.has(label) && !hidden(m));
  };
  const find = (path: string, messageId: string): StoredMessage | undefined => inFolder(path).find((m) => messageIdOf(m) === messageId);
  const must = (path: string, messageId: string): StoredMessage => {
    const m = find(path, messageId);
    if (!m) throw new Error(`${messageId} is not in ${path}`);
    return m;
  };
  const labelsOf = (flags: Partial<NeutralFlags>) => [...(flags.seen ? [] : ['UNREAD']), ...(flags.flagged ? ['STARRED'] : [])];
  const add = (path: string, m: SeedMessage) => gmail.addMessage(email, m.raw, { labelIds: [folderLabel(path), ...labelsOf(m.flags ?? {})], internalDate: m.date });

  return {
    address: email,
    cli,
    async seed(folder, messages) {
      for (const m of messages) add(folder, m);
    },
    async createFolder(path) {
      gmail.addLabel(email, path);
    },
    async setFlags(folder, messageId, change) {
      const m = must(folder, messageId);
      const addLabels: string[] = [];
      const removeLabels: string[] = [];
      if (change.seen !== undefined) (change.seen ? removeLabels : addLabels).push('UNREAD');
      if (change.flagged !== undefined) (change.flagged ? addLabels : removeLabels).push('STARRED');
      // `answered` has no Gmail label: nothing to set.
      box().modify(m.id, addLabels, removeLabels);
    },
    async expunge(folder, messageId) {
      box().delete(must(folder, messageId).id);
    },
    async move(from, messageId, to) {
      box().modify(must(from, messageId).id, [folderLabel(to)], [labelOf(from)]);
    },
    async deliver(m) {
      add('INBOX', m);
    },
    async flags(folder, messageId) {
      const m = find(folder, messageId);
      return m && { seen: !m.labelIds.has('UNREAD'), flagged: m.labelIds.has('STARRED'), answered: false };
    },
    async messageIds(folder) {
      return inFolder(folder).map(messageIdOf).sort();
    },
  };
}
