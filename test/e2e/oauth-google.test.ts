// Gmail accounts end to end, offline: `connect --provider gmail` against the test authorization
// server's Google flavour, the person played by the fake browser through $BROWSER, then every
// command over IMAP (OAUTHBEARER) and SMTP (XOAUTH2) with tokens Dovecot and the SMTP server
// check against the server's introspection endpoint. Asserted: what the user sees, the exit
// code, and the state left behind (accounts, grants at the server, nothing secret on disk).
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, runCli, type CliOptions, type CliResult } from '../support/cli.js';
import { browserPages, personFollowsLink, startInteractiveCli, startOAuthBed, type OAuthBed } from '../support/oauth-bed.js';
import { freePort } from '../support/net.js';
import type { MailUser } from '../support/users.js';
import { PASSPHRASE, expectNoSecret, jsonError, parseJson } from './helpers.js';

const MAIL_SCOPE = 'https://mail.google.com/';
const CLIENT = { clientId: `${randomBytes(6).toString('hex')}-mailops.apps.googleusercontent.com`, clientSecret: `GOCSPX-${randomBytes(18).toString('base64url')}`, flavour: 'google' as const };
const OTHER_CLIENT = { clientId: `${randomBytes(6).toString('hex')}-other.apps.googleusercontent.com`, clientSecret: `GOCSPX-${randomBytes(18).toString('base64url')}`, flavour: 'google' as const };

let bed: OAuthBed;

beforeAll(async () => {
  bed = await startOAuthBed({ mechanisms: ['oauthbearer', 'xoauth2'] });
  bed.idp.registerClient(CLIENT);
  bed.idp.registerClient(OTHER_CLIENT);
});

afterAll(async () => {
  await bed?.stop();
});

interface Gmail {
  user: MailUser;
  home: string;
  log: string;
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

/** A home whose CLI runs see the Google endpoints of the test server and the fake browser. */
function gmailHome(label: string, env: Record<string, string> = {}): Gmail {
  const user = bed.newUser(label);
  const home = makeHome();
  const log = bed.browserLog();
  const base = { ...bed.idp.googleEnv(), BROWSER: bed.browser, FAKE_BROWSER_LOG: log, MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20', ...env };
  return { user, home, log, cli: (args, opts = {}) => runCli(args, { home, ...opts, env: { ...base, ...opts.env } }) };
}

function connectArgs(g: Gmail, ...extra: string[]): string[] {
  return ['connect', 'g', '--provider', 'gmail', '--email', g.user.email, ...bed.serverFlags(), '--client-id', CLIENT.clientId, '--client-secret', CLIENT.clientSecret, '--secret-store', 'file', '--json', ...extra];
}

async function connected(label: string, env: Record<string, string> = {}): Promise<Gmail> {
  const g = gmailHome(label, env);
  const result = await g.cli(connectArgs(g));
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.code).toBe(0);
  return g;
}

async function accountsIn(g: Gmail): Promise<Array<{ name: string; state: string }>> {
  const status = await g.cli(['status', '--offline', '--json']);
  return parseJson(status).accounts;
}

/** Every token, code and client secret the server ever issued: none may be on disk or in output. */
function expectNoOAuthSecret(g: Gmail, ...outputs: string[]): void {
  for (const secret of [CLIENT.clientSecret, ...bed.idp.issuedSecrets()]) expectNoSecret(secret, g.home, ...outputs);
}

describe('connect --provider gmail (loopback, browser)', () => {
  it('signs in through the browser, tests IMAP and SMTP with the token, and saves the account', async () => {
    const g = gmailHome('consent');
    const result = await g.cli(connectArgs(g));
    expect(result.code).toBe(0);
    const { account } = parseJson(result);
    expect(account).toMatchObject({ name: 'g', provider: 'gmail', email: g.user.email, secret_store: 'file', is_default: true, repaired: false });
    expect(account.oauth).toMatchObject({ client_id: CLIENT.clientId, scopes: [MAIL_SCOPE] });
    expect(Date.parse(account.oauth.token_expires_at)).toBeGreaterThan(Date.now());
    // What the person saw: the sign-in URL on the terminal, and a page sending them back to it.
    expect(result.stderr).toContain(`${bed.idp.googleUrl}/o/oauth2/v2/auth?`);
    expect(result.stderr).toMatch(/Logged in to IMAP with the OAuth token: 127\.0\.0\.1:\d+/);
    expect(result.stderr).toMatch(/Logged in to SMTP with the OAuth token: 127\.0\.0\.1:\d+/);
    const pages = browserPages(g.log);
    expect(pages.at(-1)).toMatchObject({ step: 'loopback', status: 200 });
    expect(pages.at(-1)!.text).toMatch(/go back to the terminal/);
    expect(bed.idp.pkceMethods()).not.toContain('plain');
    expect(bed.idp.introspections().active).toBeGreaterThan(0);

    const status = await g.cli(['status', '--json']);
    expect(status.code).toBe(0);
    const [row] = parseJson(status).accounts;
    expect(row).toMatchObject({ name: 'g', provider: 'gmail', state: 'active', is_healthy: true, scopes: [MAIL_SCOPE] });
    expect(Date.parse(row.token_expires_at)).toBeGreaterThan(Date.now());
    expectNoOAuthSecret(g, result.stdout, result.stderr, status.stdout, status.stderr);
  });
});

describe('a connected Gmail account', () => {
  it('runs every command over IMAP and SMTP with its token: folders, send, ls, search, read, mark, move, sync', async () => {
    const g = await connected('commands');
    const folders = await g.cli(['folders', '--json']);
    expect(folders.code).toBe(0);
    expect(parseJson(folders).folders.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['INBOX', 'Sent', 'Trash']));

    const subject = `oauth ${randomBytes(4).toString('hex')}`;
    const sent = await g.cli(['send', '--to', g.user.email, '--subject', subject, '--body', 'sent with a token', '--json']);
    expect(sent.code).toBe(0);
    expect(parseJson(sent)).toMatchObject({ sent: true, accepted: [g.user.email], saved_to: 'Sent' });
    const received = bed.smtp.messages.filter((m) => m.rcptTo.includes(g.user.email));
    expect(received.map((m) => m.authUser)).toEqual([g.user.email]);

    const ls = await g.cli(['ls', '--json']);
    expect(ls.code).toBe(0);
    const [message] = parseJson(ls).messages;
    expect(message.subject).toBe(subject);
    const search = await g.cli(['search', `subject:"${subject}"`, '--json']);
    expect(parseJson(search).messages.map((m: { id: string }) => m.id)).toEqual([message.id]);
    const read = await g.cli(['read', message.id, '--json']);
    expect(read.code).toBe(0);
    expect(parseJson(read).body_text).toContain('sent with a token');
    const mark = await g.cli(['mark', message.id, '--flagged', '--json']);
    expect(parseJson(mark)).toMatchObject({ processed: 1 });
    const move = await g.cli(['move', message.id, '--to', 'Archive', '--json']);
    expect(parseJson(move)).toMatchObject({ processed: 1, to: 'Archive' });
    const archive = await g.cli(['ls', 'Archive', '--json']);
    expect(parseJson(archive).messages.map((m: { subject: string; is_flagged: boolean }) => [m.subject, m.is_flagged])).toEqual([[subject, true]]);

    const sync = await g.cli(['sync', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(parseJson(sync).accounts).toMatchObject([{ name: 'g', status: 'ok' }]);
    const offline = await g.cli(['ls', 'Archive', '--offline', '--json']);
    expect(parseJson(offline).messages.map((m: { subject: string }) => m.subject)).toEqual([subject]);
    expectNoOAuthSecret(g, folders.stderr, sent.stderr, ls.stdout, read.stdout, archive.stdout, sync.stdout, sync.stderr);
  });

  it('reuses a valid access token: no refresh while it has more than five minutes left', async () => {
    const g = await connected('reuse');
    const before = bed.idp.tokenRequests({ grantType: 'refresh_token' }).length;
    for (const args of [['ls'], ['folders']]) expect((await g.cli(args)).code).toBe(0);
    expect(bed.idp.tokenRequests({ grantType: 'refresh_token' }).length).toBe(before);
  });
});

describe('connect --provider gmail: failures save nothing', () => {
  it('consent denied in the browser: exit 3, CONSENT_DENIED, no account', async () => {
    const g = gmailHome('deny', { FAKE_BROWSER_ACTION: 'deny' });
    const result = await g.cli(connectArgs(g));
    expect(result.code).toBe(3);
    expect(jsonError(result)).toMatchObject({ code: 'CONSENT_DENIED' });
    expect(jsonError(result).message).toMatch(/consent was declined/);
    expect(result.stdout).toBe('');
    expect(browserPages(g.log).at(-1)!.text).toMatch(/access_denied/);
    expect(await accountsIn(g)).toEqual([]);
  });

  it('a redirect carrying another state: exit 3, OAUTH_STATE_MISMATCH, the code is not redeemed', async () => {
    const g = gmailHome('state', { FAKE_BROWSER_ACTION: 'tamper-state' });
    const exchanges = bed.idp.tokenRequests({ grantType: 'authorization_code', ok: true }).length;
    const result = await g.cli(connectArgs(g));
    expect(result.code).toBe(3);
    expect(jsonError(result).code).toBe('OAUTH_STATE_MISMATCH');
    expect(browserPages(g.log).at(-1)).toMatchObject({ step: 'loopback', status: 400 });
    expect(bed.idp.tokenRequests({ grantType: 'authorization_code', ok: true }).length).toBe(exchanges);
    expect(await accountsIn(g)).toEqual([]);
  });

  it('the Gmail scope unticked on the consent screen: exit 3, SCOPE_NOT_GRANTED', async () => {
    const g = gmailHome('scope', { FAKE_BROWSER_ACTION: `untick:${MAIL_SCOPE}` });
    const result = await g.cli(connectArgs(g));
    expect(result.code).toBe(3);
    expect(jsonError(result)).toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
    expect(jsonError(result).hint).toMatch(/tick the box/);
    expect(await accountsIn(g)).toEqual([]);
  });

  it('a wrong client secret or client id is reported before the browser opens', async () => {
    for (const [flag, value] of [['--client-secret', 'GOCSPX-wrong'], ['--client-id', 'nobody.apps.googleusercontent.com']] as const) {
      const g = gmailHome('client');
      const args = connectArgs(g);
      args[args.indexOf(flag) + 1] = value;
      const result = await g.cli(args);
      expect(result.code, result.stderr).toBe(3);
      expect(jsonError(result).code).toBe('OAUTH_CLIENT_INVALID');
      expect(jsonError(result).hint).toMatch(/--client-id and --client-secret/);
      expect(browserPages(g.log)).toEqual([]);
      expectNoSecret('GOCSPX-wrong', g.home, result.stdout, result.stderr);
    }
  });

  it('no sign-in within MAILOPS_OAUTH_TIMEOUT: exit 3, OAUTH_TIMEOUT, and the listener is gone', async () => {
    const g = gmailHome('timeout', { BROWSER: 'true', MAILOPS_OAUTH_TIMEOUT: '1.5' });
    const result = await g.cli(connectArgs(g));
    expect(result.code).toBe(3);
    expect(jsonError(result)).toMatchObject({ code: 'OAUTH_TIMEOUT' });
    expect(jsonError(result).hint).toMatch(/--no-browser/);
    const port = /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/.exec(result.stderr)![1];
    await expect(fetch(`http://127.0.0.1:${port}/?code=x&state=y`)).rejects.toThrow();
    expect(await accountsIn(g)).toEqual([]);
  });

  it('a grant whose IMAP login fails is revoked again, not left behind (exit 4 for a closed port)', async () => {
    const g = gmailHome('imap-down');
    const args = connectArgs(g);
    args[args.indexOf('--imap-port') + 1] = String(await freePort());
    const result = await g.cli(args);
    expect(result.code).toBe(4);
    expect(jsonError(result).code).toBe('CONNECTION_REFUSED');
    expect(bed.idp.activeGrants(g.user.email)).toBe(0);
    expect(await accountsIn(g)).toEqual([]);
  });

  it('without a client, explains how to register one (exit 2) and status has nothing to show', async () => {
    const g = gmailHome('noclient');
    const result = await g.cli(['connect', '--provider', 'gmail', '--email', g.user.email, '--secret-store', 'file', '--json']);
    expect(result.code).toBe(2);
    expect(jsonError(result)).toMatchObject({ code: 'MISSING_INPUT' });
    expect(jsonError(result).hint).toMatch(/Desktop app.*--client-secrets FILE.*MAILOPS_GOOGLE_CLIENT_ID/);
  });
});

describe('connect --provider gmail: other ways to sign in', () => {
  it('--no-browser prints the URL and takes the redirect address pasted back', async () => {
    const g = gmailHome('paste');
    const cli = startInteractiveCli(connectArgs(g, '--no-browser'), { home: g.home, env: { ...bed.idp.googleEnv(), MAILOPS_PASSPHRASE: PASSPHRASE, BROWSER: 'false' } });
    const [, url] = await cli.waitForStderr(/\n {2}(http\S+)\n/);
    await cli.waitForStderr(/paste it here/);
    // The person opens it elsewhere; the browser ends on a loopback address that does not load.
    const finalUrl = await personFollowsLink(bed, url!);
    expect(finalUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?.*code=/);
    cli.type(finalUrl);
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).account.oauth.scopes).toEqual([MAIL_SCOPE]);
    expect((await g.cli(['ls'])).code).toBe(0);
    expectNoOAuthSecret(g, result.stdout, result.stderr);
  });

  it('--port N: the loopback listens on that port (for ssh -L), and the redirect URI says so', async () => {
    const g = gmailHome('port');
    const port = await freePort();
    const result = await g.cli(connectArgs(g, '--port', String(port)));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`redirect_uri=http%3A%2F%2F127.0.0.1%3A${port}%2F`);
  });

  it('--client-secrets FILE: an "installed" client works; a "web" client without a loopback URI is refused up front', async () => {
    const g = gmailHome('secrets-file');
    const installed = join(g.home, '..', `client-${randomBytes(3).toString('hex')}.json`);
    writeFileSync(installed, JSON.stringify({ installed: { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, redirect_uris: ['http://localhost'] } }));
    const args = ['connect', 'g', '--provider', 'gmail', '--email', g.user.email, ...bed.serverFlags(), '--client-secrets', installed, '--secret-store', 'file', '--json'];
    const ok = await g.cli(args);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseJson(ok).account.oauth.client_id).toBe(CLIENT.clientId);

    const web = join(g.home, '..', `web-${randomBytes(3).toString('hex')}.json`);
    writeFileSync(web, JSON.stringify({ web: { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, redirect_uris: ['https://app.example.org/callback'] } }));
    const h = gmailHome('web-client');
    const refused = await h.cli(['connect', 'w', '--provider', 'gmail', '--email', h.user.email, ...bed.serverFlags(), '--client-secrets', web, '--secret-store', 'file', '--json']);
    expect(refused.code).toBe(3);
    expect(jsonError(refused)).toMatchObject({ code: 'REDIRECT_URI_MISMATCH' });
    expect(browserPages(h.log)).toEqual([]);
  });
});

describe('tokens of a Gmail account', () => {
  it('an expired access token is refreshed silently before the command runs', async () => {
    // Long enough for connect to log in to IMAP and SMTP with it, then it expires.
    bed.idp.setAccessTokenTtl(4);
    try {
      const g = await connected('expiry');
      await new Promise((r) => setTimeout(r, 4500)); // the token is dead now: Dovecot would refuse it
      const refreshes = bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length;
      const ls = await g.cli(['ls', '--json', '--trace']);
      expect(ls.code, ls.stderr).toBe(0);
      expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length).toBe(refreshes + 1);
      // --trace shows the HTTP exchange with every credential masked.
      expect(ls.stderr).toMatch(/\[http\] C: POST http:\/\/127\.0\.0\.1:\d+\/token/);
      expect(ls.stderr).toMatch(/refresh_token=\[REDACTED\]/);
      expectNoOAuthSecret(g, ls.stdout, ls.stderr);
    } finally {
      bed.idp.setAccessTokenTtl(3600);
    }
  });

  it('a token the server refuses before its expiry is replaced by a refresh, once', async () => {
    const g = await connected('early');
    // How Dovecot saw this user's IMAP sessions end (connect's own test included).
    const sessionEnds = () => readFileSync(bed.dovecot.logFile, 'utf8').split('\n').filter((l) => l.includes(`imap(${g.user.email})`) && l.includes('Disconnected:'));
    await expect.poll(() => sessionEnds().length, { timeout: 5000 }).toBe(1);
    bed.idp.expireAccessTokens(g.user.email);
    const refreshes = bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length;
    const folders = await g.cli(['folders', '--json']);
    expect(folders.code, folders.stderr).toBe(0);
    // The connection of the retried login is the one the command used and logged out of, not one
    // left open until the exit timer (Dovecot then logs "Connection closed" instead of "Logged out").
    await expect.poll(() => sessionEnds().length, { timeout: 5000 }).toBe(2);
    expect(sessionEnds()[1]).toContain('Disconnected: Logged out');
    const send = await g.cli(['send', '--to', g.user.email, '--subject', 'early', '--body', 'x', '--no-save']);
    expect(send.code, send.stderr).toBe(0);
    // One refresh for IMAP; SMTP (a new process) finds the new token in the store.
    expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length).toBe(refreshes + 1);

    // sync's own client does the same: one refused login, one refresh, then the sync.
    bed.idp.expireAccessTokens(g.user.email);
    const sync = await g.cli(['sync', '--json', '--trace']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(parseJson(sync).accounts).toMatchObject([{ name: 'g', status: 'ok' }]);
    expect(sync.stderr.match(/\[imap\] C: \S+ AUTHENTICATE OAUTHBEARER \[REDACTED\]/g)).toHaveLength(2);
    expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length).toBe(refreshes + 2);
    expectNoOAuthSecret(g, sync.stdout, sync.stderr);
  });

  it('two commands at once never lose a rotated refresh token', async () => {
    // Shorter than the five-minute margin: every command refreshes, and every refresh rotates.
    bed.idp.setAccessTokenTtl(60);
    try {
      const g = await connected('rotation');
      const failedBefore = bed.idp.tokenRequests({ grantType: 'refresh_token', ok: false }).length;
      const refreshes = () => bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length;
      for (let round = 0; round < 3; round++) {
        const before = refreshes();
        const results = await Promise.all([g.cli(['ls', '--json']), g.cli(['folders', '--json']), g.cli(['status', '--json'])]);
        for (const r of results) expect(r.code, r.stderr).toBe(0);
        // Tokens really were refreshed (and so rotated) in every round, or there is nothing to lose.
        expect(refreshes()).toBeGreaterThan(before);
      }
      // A voided refresh token presented once would have killed the grant (reuse detection).
      expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: false }).length).toBe(failedBefore);
      expect(bed.idp.activeGrants(g.user.email)).toBe(1);
      expect((await g.cli(['ls'])).code).toBe(0);
    } finally {
      bed.idp.setAccessTokenTtl(3600);
    }
  });

  it('a revoked grant: exit 3 with NEEDS_REAUTH and the command to run; status says needs_reauth', async () => {
    const g = await connected('revoked');
    bed.idp.revokeUser(g.user.email);
    const ls = await g.cli(['ls', '--json']);
    expect(ls.code).toBe(3);
    expect(jsonError(ls)).toMatchObject({ code: 'NEEDS_REAUTH' });
    expect(jsonError(ls).hint).toBe('run `mailops connect g` again');
    expect(await accountsIn(g)).toMatchObject([{ name: 'g', state: 'needs_reauth' }]);
    const status = await g.cli(['status', '--json']);
    expect(status.code).toBe(3);
    expect(parseJson(status).accounts[0]).toMatchObject({ state: 'needs_reauth', is_healthy: false });
    const plain = await g.cli(['folders']);
    expect(plain.stderr).toMatch(/no longer accepts the grant of g/);
    expect(plain.stderr).toContain('hint: run `mailops connect g` again');

    // Connecting again repairs it.
    const again = await g.cli(connectArgs(g));
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson(again).account.repaired).toBe(true);
    expect(await accountsIn(g)).toMatchObject([{ name: 'g', state: 'active' }]);
  });

  it('disconnect revokes the grant at Google and deletes the tokens', async () => {
    const g = await connected('disconnect');
    expect(bed.idp.activeGrants(g.user.email)).toBe(1);
    const result = await g.cli(['disconnect', 'g', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result)).toEqual({ disconnected: 'g', secrets_removed: true, revoked: true });
    expect(result.stderr).toMatch(/Google revoked the grant/);
    expect(bed.idp.activeGrants(g.user.email)).toBe(0);
    expect(await accountsIn(g)).toEqual([]);
    expectNoOAuthSecret(g, result.stdout, result.stderr);
  });
});
