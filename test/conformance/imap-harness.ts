// The conformance harness for IMAP: the bed's full Dovecot, or one started with a reduced
// capability list (and an SMTP server delivering into it, so that sending to oneself arrives).
// Setup and truth go straight over IMAP with imapflow (test/support/mailbox.ts), independent of
// mailops' own code.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { mailBed, newUser } from '../support/bed.js';
import { makeCa } from '../support/certs.js';
import { makeHome, runCli, type CliOptions } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { withImap, type ImapServer } from '../support/mailbox.js';
import { startSmtp, type SmtpServerHandle } from '../support/smtp.js';
import type { MailUser } from '../support/users.js';
import { PASSPHRASE } from '../e2e/helpers.js';
import type { BackendHarness, ConformanceAccount, Feature, NeutralFlags, SeedMessage } from './harness.js';

/** What the bed's Dovecot offers besides the extensions the variants leave out (as in sync-servers.test.ts). */
export const BASE_CAPABILITIES = 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE';

/** `imapCapability`: Dovecot's post-login capability list, replaced verbatim; none: the bed's full server. */
export function imapHarness(imapCapability?: string): BackendHarness {
  const capabilities = new Set((imapCapability ?? '').split(/\s+/));
  const lacks: Partial<Record<Feature, string>> = {};
  if (imapCapability !== undefined) {
    // What mailops' IMAP provider refuses rather than risk a plain EXPUNGE (src/providers/imap/provider.ts).
    if (!capabilities.has('UIDPLUS')) lacks.expunge = 'server lacks UIDPLUS, move --expunge is exit 6 there';
    if (!capabilities.has('UIDPLUS') && !capabilities.has('MOVE')) lacks.move = 'server lacks MOVE and UIDPLUS, move is exit 6 there';
    if (!capabilities.has('SORT')) lacks.arrivalOrder = 'server lacks SORT, so ls lists by UID, the order messages were added';
  }
  let servers: { dovecot: Dovecot; smtp: SmtpServerHandle } | null = null;
  let endpoints: { imap: ImapServer; smtpPort: number; addUser(label: string): MailUser };

  return {
    name: imapCapability ? `imap (${imapCapability})` : 'imap (full Dovecot: CONDSTORE QRESYNC MOVE UIDPLUS SPECIAL-USE LIST-STATUS)',
    folders: { inbox: 'INBOX', sent: 'Sent', trash: 'Trash', archive: 'Archive' },
    lacks,
    sentCopy: 'client',

    async setUp() {
      const bed = mailBed();
      if (imapCapability === undefined) {
        endpoints = { imap: bed, smtpPort: bed.smtpPort, addUser: newUser };
        return;
      }
      // Inside the run's folder (readable by Dovecot's users, removed at teardown).
      const parent = join(bed.tmpDir, 'conformance');
      mkdirSync(parent, { recursive: true });
      const ca = await makeCa(mkdtempSync(join(parent, 'ca-')));
      const dovecot = await startDovecot({ imapCapability, ca });
      const smtp = await startSmtp({ dovecot, ca });
      servers = { dovecot, smtp };
      endpoints = {
        imap: { host: dovecot.host, imapsPort: dovecot.imapsPort, caFile: ca.certPath },
        smtpPort: smtp.port,
        addUser: (label) => dovecot.addUser(label),
      };
    },

    async tearDown() {
      await servers?.smtp.stop();
      await servers?.dovecot.stop();
    },

    async newAccount(label) {
      const user = endpoints.addUser(label);
      const { imap, smtpPort } = endpoints;
      const home = makeHome();
      const cli = (args: string[], opts: CliOptions = {}) =>
        runCli(args, { home, timeoutMs: 60_000, ...opts, env: { MAILOPS_PASSPHRASE: PASSPHRASE, ...opts.env } });
      const connected = await cli(
        [
          'connect', 'main', '--email', user.email,
          '--imap-host', imap.host, '--imap-port', String(imap.imapsPort), '--imap-tls', 'implicit',
          '--smtp-host', imap.host, '--smtp-port', String(smtpPort), '--smtp-tls', 'starttls',
          '--ca-file', imap.caFile, '--secret-store', 'file', '--password-env', 'PW',
        ],
        { env: { PW: user.password } },
      );
      if (connected.code !== 0) throw new Error(`connect failed (exit ${connected.code}): ${connected.stderr}`);
      return imapAccount(user, imap, cli);
    },
  };
}

function imapAccount(user: MailUser, server: ImapServer, cli: ConformanceAccount['cli']): ConformanceAccount {
  const imap = <T>(fn: (client: ImapFlow) => Promise<T>) => withImap(user, fn, server);
  /** Opens `folder` and runs `fn` with the message's UIDs; `absent()` when the folder does not hold it. */
  const withMessage = <T>(
    folder: string,
    messageId: string,
    readOnly: boolean,
    fn: (client: ImapFlow, uids: string) => Promise<T>,
    absent: () => T = () => {
      throw new Error(`${messageId} is not in ${folder}`);
    },
  ) =>
    imap(async (client) => {
      const lock = await client.getMailboxLock(folder, { readOnly });
      try {
        const uids = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
        return uids.length === 0 ? absent() : await fn(client, uids.join(','));
      } finally {
        lock.release();
      }
    });
  const append = (client: ImapFlow, folder: string, m: SeedMessage) => client.append(folder, m.raw, imapFlags(m.flags ?? {}), m.date);

  return {
    address: user.email,
    cli,
    async seed(folder, messages) {
      await imap(async (client) => {
        for (const m of messages) await append(client, folder, m);
      });
    },
    async createFolder(path) {
      await imap((client) => client.mailboxCreate(path));
    },
    async setFlags(folder, messageId, change) {
      await withMessage(folder, messageId, false, async (client, uids) => {
        const add = imapFlags(change);
        const remove = imapFlags({ seen: change.seen === false, flagged: change.flagged === false, answered: change.answered === false });
        if (add.length) await client.messageFlagsAdd(uids, add, { uid: true });
        if (remove.length) await client.messageFlagsRemove(uids, remove, { uid: true });
      });
    },
    async expunge(folder, messageId) {
      await withMessage(folder, messageId, false, (client, uids) => client.messageDelete(uids, { uid: true }));
    },
    async move(from, messageId, to) {
      // imapflow falls back to COPY + EXPUNGE where the server has no MOVE.
      await withMessage(from, messageId, false, (client, uids) => client.messageMove(uids, to, { uid: true }));
    },
    async deliver(m) {
      await imap((client) => append(client, 'INBOX', m));
    },
    async flags(folder, messageId) {
      return withMessage<NeutralFlags | undefined>(
        folder,
        messageId,
        true,
        async (client, uids) => {
          const fetched = await client.fetchOne(uids, { flags: true }, { uid: true });
          const flags = fetched && fetched.flags ? fetched.flags : new Set<string>();
          return { seen: flags.has('\\Seen'), flagged: flags.has('\\Flagged'), answered: flags.has('\\Answered') };
        },
        () => undefined,
      );
    },
    async messageIds(folder) {
      return imap(async (client) => {
        const lock = await client.getMailboxLock(folder, { readOnly: true });
        try {
          if (!client.mailbox || client.mailbox.exists === 0) return [];
          const all = await client.fetchAll('1:*', { envelope: true });
          return all.map((m) => m.envelope?.messageId ?? '').sort();
        } finally {
          lock.release();
        }
      });
    },
  };
}

function imapFlags(flags: Partial<NeutralFlags>): string[] {
  return [...(flags.seen ? ['\\Seen'] : []), ...(flags.flagged ? ['\\Flagged'] : []), ...(flags.answered ? ['\\Answered'] : [])];
}
