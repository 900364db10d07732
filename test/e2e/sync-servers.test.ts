// mailops sync on servers with fewer extensions than the bed's Dovecot: without CONDSTORE,
// QRESYNC and LIST-STATUS (STATUS per folder, a full FLAGS fetch, expunges by comparing UIDs),
// with CONDSTORE but no QRESYNC (CHANGEDSINCE, expunges by UID SEARCH), over plain IMAP; and
// the bed's own server over STARTTLS; and how its client fails (a refused login, a server gone).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailBed, newUser } from '../support/bed.js';
import { makeHome, runCli } from '../support/cli.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { withImap, type ImapServer } from '../support/mailbox.js';
import { changePassword, type MailUser } from '../support/users.js';
import { openDatabase } from '../../src/store/db.js';
import { flagNames } from '../../src/cli/output.js';
import { parseJson, textMessage } from './helpers.js';

const PASSPHRASE = 'sync servers passphrase';
const BASE = 'IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE SPECIAL-USE UIDPLUS';

interface Setup {
  user: MailUser;
  home: string;
  server: ImapServer;
  cli: (args: string[]) => ReturnType<typeof runCli>;
}

/** A user on `dovecot` (plain IMAP) whose SMTP login goes to the bed's server. */
async function account(dovecot: Dovecot | null, label: string): Promise<Setup> {
  const bed = mailBed();
  const user = dovecot ? dovecot.addUser(label) : newUser(label);
  // The bed's SMTP server checks logins against its own user files.
  if (dovecot) copyFileSync(join(dovecot.usersDir, user.user), join(bed.usersDir, user.user));
  const home = makeHome();
  const cli = (args: string[]) => runCli(args, { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE, PW: user.password }, timeoutMs: 60_000 });
  const imap = dovecot
    ? ['--imap-host', dovecot.host, '--imap-port', String(dovecot.imapPort), '--imap-tls', 'none']
    : ['--imap-host', bed.host, '--imap-port', String(bed.imapPort), '--imap-tls', 'starttls'];
  const connected = await cli([
    'connect', 'main', '--email', user.email, ...imap,
    '--smtp-host', bed.host, '--smtp-port', String(bed.smtpPort), '--smtp-tls', 'starttls', '--ca-file', bed.caFile,
    '--secret-store', 'file', '--password-env', 'PW',
  ]);
  expect(connected.code, connected.stderr).toBe(0);
  const server = dovecot ? { host: dovecot.host, imapsPort: dovecot.imapsPort, caFile: dovecot.caFile } : bed;
  return { user, home, server, cli };
}

async function sync(setup: Setup, args: string[] = []) {
  const result = await setup.cli(['sync', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return { ...parseJson<{ accounts: Array<Record<string, unknown>> }>(result).accounts[0]!, trace: result.stderr };
}

/** The client's commands in a --trace, without their tags. */
function commands(trace: string): string[] {
  return trace.split('\n').filter((l) => l.startsWith('[imap] C: ')).map((l) => l.replace(/^\[imap\] C: \S+ /, ''));
}

/** uid → sorted flags: what the cache holds, and what the server holds. */
function cachedFlags(home: string): Map<number, string[]> {
  const db = openDatabase(home);
  try {
    const rows = db
      .prepare(
        `SELECT f.uid, m.seen, m.flagged, m.answered, m.draft, m.keywords_json FROM memberships f JOIN messages m ON m.id = f.message
         WHERE f.folder = 'INBOX' ORDER BY f.uid`,
      )
      .all() as Array<{ uid: number; seen: number; flagged: number; answered: number; draft: number; keywords_json: string }>;
    const flags = (r: (typeof rows)[number]) =>
      flagNames({ seen: r.seen === 1, flagged: r.flagged === 1, answered: r.answered === 1, draft: r.draft === 1, keywords: JSON.parse(r.keywords_json) as string[] });
    return new Map(rows.map((r) => [r.uid, flags(r).sort()]));
  } finally {
    db.close();
  }
}

async function serverFlags(setup: Setup): Promise<Map<number, string[]>> {
  return withImap(setup.user, async (client) => {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const out = new Map<number, string[]>();
    for await (const m of client.fetch('1:*', { uid: true, flags: true })) out.set(m.uid, [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
    return out;
  }, setup.server);
}

/** Runs the scenario; returns the commands of the sync that found the flag change and the expunge. */
async function exercise(setup: Setup): Promise<string[]> {
  const uids = await withImap(setup.user, async (client) => {
    const out: number[] = [];
    for (let i = 0; i < 4; i++) out.push(((await client.append('INBOX', textMessage({ subject: `m${i}` }))) as { uid: number }).uid);
    return out;
  }, setup.server);
  expect(await sync(setup)).toMatchObject({ status: 'ok', new: 4 });
  expect(await sync(setup)).toMatchObject({ status: 'ok', new: 0, updated: 0, deleted: 0 });

  // Only a flag change and an expunge: no new mail, the same UIDNEXT.
  await withImap(setup.user, async (client) => {
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd(String(uids[0]), ['\\Flagged'], { uid: true });
    await client.messageDelete(String(uids[1]), { uid: true });
  }, setup.server);
  const changed = await sync(setup, ['--trace']);
  expect(changed).toMatchObject({ status: 'ok', new: 0, updated: 1, deleted: 1 });
  expect(cachedFlags(setup.home)).toEqual(await serverFlags(setup));

  await withImap(setup.user, (client) => client.append('INBOX', textMessage({ subject: 'late' })), setup.server);
  expect(await sync(setup)).toMatchObject({ status: 'ok', new: 1, deleted: 0 });
  expect(cachedFlags(setup.home)).toEqual(await serverFlags(setup));
  return commands(changed.trace);
}

describe('sync on servers with fewer extensions', () => {
  let bare: Dovecot;
  let condstoreOnly: Dovecot;
  beforeAll(async () => {
    [bare, condstoreOnly] = await Promise.all([
      startDovecot({ imapCapability: BASE }),
      startDovecot({ imapCapability: `${BASE} CONDSTORE LIST-EXTENDED` }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([bare?.stop(), condstoreOnly?.stop()]);
  });

  it('without CONDSTORE, QRESYNC or LIST-STATUS: flag changes and expunges are found by comparing', async () => {
    const setup = await account(bare, 'bare');
    const sent = await exercise(setup);
    expect(sent).toContain('STATUS "INBOX" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)');
    expect(sent).toContain('UID FETCH 1:4 (UID FLAGS)');
    expect(sent.filter((c) => /^ENABLE|CHANGEDSINCE|RETURN/.test(c))).toEqual([]);
  });

  it('with CONDSTORE but not QRESYNC: changes by CHANGEDSINCE, expunges by UID SEARCH', async () => {
    const setup = await account(condstoreOnly, 'condstore');
    const sent = await exercise(setup);
    expect(sent).toContain('ENABLE CONDSTORE');
    expect(sent.some((c) => /^UID FETCH 1:4 \(UID FLAGS MODSEQ\) \(CHANGEDSINCE \d+\)$/.test(c))).toBe(true);
    expect(sent).toContain('UID SEARCH UID 1:4');
    // Nothing of QRESYNC is asked of a server that does not offer it.
    expect(sent.filter((c) => /QRESYNC|VANISHED/.test(c))).toEqual([]);
  });

  it('over STARTTLS on the bed\'s server (QRESYNC)', async () => {
    const setup = await account(null, 'starttls');
    const sent = await exercise(setup);
    expect(sent[0]).toBe('STARTTLS');
    expect(sent.some((c) => /^UID FETCH 1:4 \(UID FLAGS MODSEQ\) \(CHANGEDSINCE \d+ VANISHED\)$/.test(c))).toBe(true);
  });

  it('a refused login: exit 3, AUTH_FAILED in the summary, the account marked needs_reauth, no password shown', async () => {
    const setup = await account(bare, 'refused');
    await changePassword(bare.usersDir, setup.user.user, 'another-password-1');
    const result = await setup.cli(['sync', '--json', '--trace']);
    expect(result.code).toBe(3);
    expect(parseJson<{ accounts: Array<Record<string, unknown>> }>(result).accounts[0]).toMatchObject({
      status: 'failed',
      error_code: 'AUTH_FAILED',
      error: expect.stringContaining(`rejected the login for ${setup.user.user}`),
    });
    expect(result.stdout + result.stderr).not.toContain(setup.user.password);
    // The refused login is in the trace, its credentials masked.
    const logins = commands(result.stderr).filter((c) => /^(LOGIN|AUTHENTICATE) /.test(c));
    expect(logins.length).toBeGreaterThan(0);
    for (const login of logins) expect(login).toMatch(/^(LOGIN \S+|AUTHENTICATE \S+) \[REDACTED\]$/);
    const status = await setup.cli(['status', '--offline', '--json']);
    expect(parseJson<{ accounts: Array<Record<string, unknown>> }>(status).accounts[0]).toMatchObject({ state: 'needs_reauth' });
  });

  it('a server that is gone: retried, then exit 4 with CONNECTION_REFUSED', async () => {
    const gone = await startDovecot({ imapCapability: BASE });
    const setup = await account(gone, 'gone');
    await gone.stop();
    const result = await setup.cli(['sync', '--json']);
    expect(result.code).toBe(4);
    expect(parseJson<{ accounts: Array<Record<string, unknown>> }>(result).accounts[0]).toMatchObject({ status: 'failed', error_code: 'CONNECTION_REFUSED' });
    expect(result.stderr).toMatch(/retrying in 500 ms/);
  }, 60_000);
});
