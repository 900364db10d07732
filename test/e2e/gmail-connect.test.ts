// `connect --provider gmail --backend api` from the command line, what its grant allows, and what
// is left behind: the test authorization server and the fake browser sign in, the Gmail API fake
// (test/support/gmail-bed().ts) answers. Asserted: exit codes, what the fake saw and still holds,
// and that a read-only account is refused in the core before any change is asked of Google.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, runCli, type CliResult } from '../support/cli.js';
import Database from 'better-sqlite3';
import { SCOPES, startGmailServer, type GmailServer } from '../support/gmail-server.js';
import { startOAuthBed, type OAuthBed } from '../support/oauth-bed.js';
import { PASSPHRASE, expectNoGrantSecret, expectNoSecret, gmailHome, jsonError, parseJson, subjectMessage, useGmailBed, type GmailHome } from './helpers.js';

const bed = useGmailBed();

type Home = GmailHome;
const newHome = (label: string, env: Record<string, string> = {}): Home => gmailHome(bed(), label, env);

const clientArgs = () => ['--client-id', bed().client.clientId, '--client-secret', bed().client.clientSecret, '--secret-store', 'file', '--json'];
const connectArgs = (h: Home, ...extra: string[]) => ['connect', 'g', '--provider', 'gmail', '--email', h.email, '--backend', 'api', ...clientArgs(), ...extra];

/** Changes the fake was asked for, for one user: none may reach it from a read-only account. */
const changeCalls = (email: string) =>
  bed().gmail.requests({ user: email }).filter((r) => /batchModify|modify|trash|batchDelete|send|insert|import/.test(r.api ?? ""));

describe('connect --provider gmail --backend api', () => {
  it('asks for gmail.modify, verifies with getProfile, stores the grant; ls and folders work; no token on disk or in --trace', async () => {
    const h = newHome('modify');
    bed().gmail.addMessage(h.email, subjectMessage('first kiwi'), { labelIds: ['INBOX', 'UNREAD'] });
    const connected = await h.cli(connectArgs(h));
    expect(connected.code, connected.stderr).toBe(0);
    const { account } = parseJson(connected);
    expect(account).toMatchObject({ name: 'g', provider: 'gmail', email: h.email });
    expect(account.oauth.scopes).toEqual([SCOPES.modify]);
    // The scope the authorization server was asked for and granted is the one stored.
    expect(bed().gmail.requests({ api: 'users.getProfile', user: h.email })).toHaveLength(1);

    const status = parseJson(await h.cli(['status', '--offline', '--json'])).accounts[0];
    expect(status).toMatchObject({ backend: 'api', email: h.email });
    const list = parseJson(await h.cli(['ls', '--json']));
    expect(list.messages.map((m: { subject: string }) => m.subject)).toEqual(['first kiwi']);
    const folders = parseJson(await h.cli(['folders', '--json'])).folders as Array<{ path: string; role: string | null }>;
    expect(folders.find((f) => f.path === 'INBOX')).toMatchObject({ role: 'inbox' });

    const traced = await h.cli(['ls', '--trace', '--json']);
    expect(traced.code).toBe(0);
    expect(traced.stderr).toMatch(/authorization: Bearer \[REDACTED\]/);
    expectNoGrantSecret(bed(), h.home, traced.stderr, traced.stdout, connected.stdout, connected.stderr);
  });

  it('--read-only: reading works; mark, move, send and sync --mark-read exit 3 INSUFFICIENT_SCOPE before Google is asked to change anything', async () => {
    const h = newHome('readonly');
    const m = bed().gmail.addMessage(h.email, subjectMessage('read only'), { labelIds: ['INBOX', 'UNREAD'] });
    const connected = await h.cli(connectArgs(h, '--read-only'));
    expect(connected.code, connected.stderr).toBe(0);
    expect(parseJson(connected).account.oauth.scopes).toEqual([SCOPES.readonly]);
    expect(parseJson(await h.cli(['ls', '--json'])).messages).toHaveLength(1);
    const before = bed().gmail.requests({ user: h.email }).length;

    for (const args of [
      ['mark', m.id, '--read', '--json'],
      ['move', m.id, '--trash', '--json'],
      ['move', m.id, '--expunge', '--yes', '--json'],
      ['send', '--to', 'carol@example.net', '--subject', 'no', '--body', 'no', '--json'],
    ]) {
      const refused = await h.cli(args);
      expect(refused.code, args.join(' ')).toBe(3);
      expect(jsonError(refused)).toMatchObject({ code: 'INSUFFICIENT_SCOPE', hint: expect.stringContaining('mailops connect g --backend api') });
    }
    // Refused in the core: the fake was not even asked to look the message up.
    expect(bed().gmail.requests({ user: h.email })).toHaveLength(before);
    expect(changeCalls(h.email)).toEqual([]);
    expect(bed().gmail.sent().filter((s) => s.recipients.includes('carol@example.net'))).toEqual([]);
    expect([...bed().gmail.mailbox(h.email).message(m.id).labelIds].sort()).toEqual(['INBOX', 'UNREAD']);

    // sync --mark-read: refused before the sync and before the command is run.
    const marker = join(h.home, 'handed-over');
    const sync = await h.cli(['sync', '--on-new', `touch ${marker}`, '--mark-read', '--json']);
    expect(sync.code).toBe(3);
    expect(jsonError(sync).code).toBe('INSUFFICIENT_SCOPE');
    expect(existsSync(marker)).toBe(false);
    expect(bed().gmail.requests({ user: h.email })).toHaveLength(before);
    expect([...bed().gmail.mailbox(h.email).message(m.id).labelIds]).toContain('UNREAD');

    // Without --mark-read a read-only account syncs and hands messages over.
    const plain = await h.cli(['sync', '--on-new', `touch ${marker}`, '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(changeCalls(h.email)).toEqual([]);
  });

  it('without --email the address is the one getProfile gives, and names the account unless NAME is given', async () => {
    const h = newHome('profile');
    const bare = ['connect', '--provider', 'gmail', ...clientArgs()];
    const env = { FAKE_BROWSER_USER: h.email };
    const connected = await h.cli(bare, { env });
    expect(connected.code, connected.stderr).toBe(0);
    expect(parseJson(connected).account).toMatchObject({ name: h.email, email: h.email, provider: 'gmail' });
    expect(parseJson(connected).account.oauth.scopes).toEqual([SCOPES.modify]);
    expect(parseJson(await h.cli(['status', '--offline', '--json'])).accounts).toMatchObject([{ name: h.email, backend: 'api', email: h.email }]);

    // Signing in again without a name would replace that account unasked: refused, nothing changed.
    const again = await h.cli(bare, { env });
    expect(again.code).toBe(2);
    expect(jsonError(again).message).toContain(`an account named ${h.email} exists already`);

    const named = await h.cli(['connect', 'work', '--provider', 'gmail', ...clientArgs(), '--read-only'], { env });
    expect(named.code, named.stderr).toBe(0);
    expect(parseJson(named).account).toMatchObject({ name: 'work', email: h.email });
    const names = (parseJson(await h.cli(['status', '--offline', '--json'])).accounts as Array<{ name: string }>).map((a) => a.name).sort();
    expect(names).toEqual([h.email, 'work'].sort());

    // IMAP logs in as the address: without --email (and no terminal to ask on) it is a usage error.
    const imap = await h.cli(['connect', 'i', '--provider', 'gmail', '--backend', 'imap', ...clientArgs()], { env });
    expect(imap.code).toBe(2);
    expect(jsonError(imap).code).toBe('MISSING_INPUT');
  });

  it('a different Google account at the browser: exit 3, nothing saved, no account and no token in the home', async () => {
    const other = bed().newUser('other');
    const h = newHome('mismatch', { FAKE_BROWSER_USER: other });
    const result = await h.cli(connectArgs(h));
    expect(result.code).toBe(3);
    expect(jsonError(result).message).toContain(`signed in to Google as ${other}, not ${h.email}`);
    expect(parseJson(await h.cli(['status', '--offline', '--json'])).accounts).toEqual([]);
    expectNoGrantSecret(bed(), h.home);
  });

  it('status: backend "api", the live check through getProfile; --diagnose times DNS, TCP, TLS, the refresh and the call; --nagios', async () => {
    const h = newHome('status');
    expect((await h.cli(connectArgs(h))).code).toBe(0);
    const profileCalls = bed().gmail.requests({ api: 'users.getProfile', user: h.email }).length;
    const live = await h.cli(['status', '--json']);
    expect(live.code, live.stderr).toBe(0);
    expect(parseJson(live).accounts[0]).toMatchObject({ name: 'g', backend: 'api', state: 'active', is_healthy: true });
    expect(bed().gmail.requests({ api: 'users.getProfile', user: h.email })).toHaveLength(profileCalls + 1);

    const human = await h.cli(['status', '--diagnose']);
    expect(human.code, human.stderr).toBe(0);
    for (const step of ['token.dns', 'token.tcp', 'api.dns', 'api.tcp', 'api.tls', 'token.refresh', 'api.call']) expect(human.stdout + human.stderr).toContain(step);
    const diagnosed = parseJson(await h.cli(['status', '--diagnose', '--json'])).accounts[0];
    const checks = diagnosed.checks as Array<{ step: string; ok: boolean; ms: number }>;
    expect(checks.map((c) => c.step)).toEqual(['token.dns', 'token.tcp', 'api.dns', 'api.tcp', 'api.tls', 'token.refresh', 'api.call']);
    expect(checks.every((c) => c.ok && typeof c.ms === 'number')).toBe(true);

    const nagios = await h.cli(['status', '--nagios']);
    expect(nagios.code, nagios.stdout).toBe(0);
    expect(nagios.stdout).toMatch(/^MAILOPS OK/);
  });

  it('flags: --read-only with --scope-full, --backend for an IMAP account, --scope-full for Outlook are usage errors', async () => {
    const h = newHome('flags');
    const both = await h.cli(connectArgs(h, '--read-only', '--scope-full'));
    expect(both.code).toBe(2);
    const imap = await h.cli(['connect', 'p', '--provider', 'imap', '--email', h.email, '--backend', 'api', '--json']);
    expect(imap.code).toBe(2);
    const outlook = await h.cli(['connect', 'o', '--provider', 'outlook', '--email', 'x@contoso.example', '--backend', 'api', '--scope-full', '--client-id', 'c', '--json']);
    expect(outlook.code).toBe(2);
    expect(jsonError(outlook)).toMatchObject({ code: 'USAGE', message: '--scope-full applies to Gmail accounts', hint: expect.stringMatching(/Mail\.ReadWrite/) });
    expect(parseJson(await h.cli(['status', '--offline', '--json'])).accounts).toEqual([]);
  });
});

/** Rows of one account in the home's SQLite (read-only, beside the CLI's own connection). */
function cachedRows(home: string, account: string): { messages: number; syncState: number } {
  const db = new Database(join(home, 'mailops.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE account = ?`).get(account) as { n: number }).n;
    return { messages: count('messages'), syncState: count('sync_state') };
  } finally {
    db.close();
  }
}

describe('connect NAME --backend api on a Gmail account over IMAP', () => {
  // Dovecot and SMTP checking the test server's tokens, and the Gmail fake under the same CA and server.
  let ob: OAuthBed;
  let gmail: GmailServer;
  const client = { clientId: 'switch-mailops.apps.googleusercontent.com', clientSecret: 'GOCSPX-switch-secret-0123456789', flavour: 'google' as const };

  beforeAll(async () => {
    ob = await startOAuthBed({ mechanisms: ['oauthbearer', 'xoauth2'] });
    ob.idp.registerClient(client);
    gmail = await startGmailServer({ ca: ob.ca, introspectionUrl: ob.idp.introspectionUrl, quota: { unitsPerWindow: Infinity } });
  });

  afterAll(async () => {
    await gmail?.stop();
    await ob?.stop();
  });

  it('switches it under the same name with a new consent; the IMAP cache and sync state are dropped, the API is used from then on', async () => {
    const user = ob.newUser('switch');
    gmail.addUser(user.email);
    gmail.addMessage(user.email, subjectMessage('over the api'), { labelIds: ['INBOX'] });
    const home = makeHome();
    const env = { ...ob.idp.googleEnv(), ...gmail.env(), BROWSER: ob.browser, FAKE_BROWSER_LOG: ob.browserLog(), MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20' };
    const cli = (args: string[]) => runCli(args, { home, env });
    const auth = ['--client-id', client.clientId, '--client-secret', client.clientSecret, '--secret-store', 'file', '--json'];

    const overImap = await cli(['connect', 'g', '--provider', 'gmail', '--email', user.email, '--backend', 'imap', ...ob.serverFlags(), ...auth]);
    expect(overImap.code, overImap.stderr).toBe(0);
    expect(parseJson(overImap).account.oauth.scopes).toEqual([SCOPES.full]);
    expect(parseJson(await cli(['status', '--offline', '--json'])).accounts[0]).toMatchObject({ name: 'g', backend: 'imap' });
    const sent = await cli(['send', '--to', user.email, '--subject', 'over imap', '--body', 'hi', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    let synced: CliResult | null = null;
    for (let i = 0; i < 20; i++) {
      synced = await cli(['sync', '--json']);
      if (cachedRows(home, 'g').messages > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(synced!.code, synced!.stderr).toBe(0);
    const before = cachedRows(home, 'g');
    expect(before.messages).toBeGreaterThan(0);
    expect(before.syncState).toBeGreaterThan(0);
    const imapList = parseJson(await cli(['ls', '--offline', '--json'])).messages as Array<{ subject: string }>;
    expect(imapList.map((m) => m.subject)).toContain('over imap');

    const profileCalls = gmail.requests({ api: 'users.getProfile', user: user.email }).length;
    const switched = await cli(['connect', 'g', '--backend', 'api', ...auth]);
    expect(switched.code, switched.stderr).toBe(0);
    expect(parseJson(switched).account).toMatchObject({ name: 'g', email: user.email });
    expect(parseJson(switched).account.oauth.scopes).toEqual([SCOPES.modify]);
    expect(gmail.requests({ api: 'users.getProfile', user: user.email })).toHaveLength(profileCalls + 1);
    const accounts = parseJson(await cli(['status', '--offline', '--json'])).accounts;
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ name: 'g', backend: 'api' });
    // IMAP ids name nothing over the API: the old rows and cursors are gone.
    expect(cachedRows(home, 'g')).toEqual({ messages: 0, syncState: 0 });

    const live = parseJson(await cli(['ls', '--json'])).messages as Array<{ subject: string }>;
    expect(live.map((m) => m.subject)).toEqual(['over the api']);
    const apiSync = await cli(['sync', '--json']);
    expect(apiSync.code, apiSync.stderr).toBe(0);
    const offline = parseJson(await cli(['ls', '--offline', '--json'])).messages as Array<{ subject: string }>;
    expect(offline.map((m) => m.subject)).toEqual(['over the api']);
    // No token of either grant in the home (the SQLite database included).
    for (const secret of [...ob.idp.issuedSecrets(), client.clientSecret]) expectNoSecret(secret, home);
  });
});
