// Outlook accounts end to end, offline: `connect --provider outlook` through MSAL against the test
// authorization server's Microsoft flavour, served over https with a CA of the test
// (NODE_EXTRA_CA_CERTS) and declared with MAILOPS_MS_AUTHORITY. Dovecot offers XOAUTH2 only here
// (as Outlook does), so imapflow logs in with XOAUTH2; SMTP checks XOAUTH2 too. Flows: loopback
// with form_post, --no-browser, device code (pending, then allowed or denied), silent refresh
// through MSAL's cache, rotation under concurrency, revocation, disconnect.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, runCli, type CliOptions, type CliResult } from '../support/cli.js';
import { browserPages, personEntersDeviceCode, personFollowsLink, startInteractiveCli, startOAuthBed, type OAuthBed } from '../support/oauth-bed.js';
import type { MailUser } from '../support/users.js';
import { PASSPHRASE, expectNoSecret, filesUnder, jsonError, parseJson } from './helpers.js';

const IMAP_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All';
const SMTP_SCOPE = 'https://outlook.office.com/SMTP.Send';
const CLIENT = { clientId: randomUUID(), flavour: 'microsoft' as const };

let bed: OAuthBed;

beforeAll(async () => {
  bed = await startOAuthBed({ mechanisms: ['xoauth2'] });
  bed.idp.registerClient(CLIENT);
});

afterAll(async () => {
  await bed?.stop();
});

interface Outlook {
  user: MailUser;
  home: string;
  log: string;
  env: Record<string, string>;
  cli(args: string[], opts?: CliOptions): Promise<CliResult>;
}

function outlookHome(label: string, env: Record<string, string> = {}): Outlook {
  const user = bed.newUser(label);
  const home = makeHome();
  const log = bed.browserLog();
  const base = { ...bed.idp.microsoftEnv(), BROWSER: bed.browser, FAKE_BROWSER_LOG: log, MAILOPS_PASSPHRASE: PASSPHRASE, MAILOPS_OAUTH_TIMEOUT: '20', ...env };
  return { user, home, log, env: base, cli: (args, opts = {}) => runCli(args, { home, ...opts, env: { ...base, ...opts.env } }) };
}

function connectArgs(o: Outlook, ...extra: string[]): string[] {
  return ['connect', 'o', '--provider', 'outlook', '--email', o.user.email, ...bed.serverFlags(), '--client-id', CLIENT.clientId, '--tenant', 'organizations', '--secret-store', 'file', '--json', ...extra];
}

async function connected(label: string): Promise<Outlook> {
  const o = outlookHome(label);
  const result = await o.cli(connectArgs(o));
  expect(result.code, result.stderr).toBe(0);
  return o;
}

async function accountsIn(o: Outlook): Promise<Array<{ name: string; state: string }>> {
  return parseJson(await o.cli(['status', '--offline', '--json'])).accounts;
}

function expectNoOAuthSecret(o: Outlook, ...outputs: string[]): void {
  for (const secret of bed.idp.issuedSecrets()) expectNoSecret(secret, o.home, ...outputs);
}

describe('connect --provider outlook', () => {
  it('signs in through the browser (MSAL, form_post to the loopback), then mail works over IMAP and SMTP with XOAUTH2', async () => {
    const o = outlookHome('consent');
    const result = await o.cli(connectArgs(o));
    expect(result.code, result.stderr).toBe(0);
    const { account } = parseJson(result);
    expect(account).toMatchObject({ name: 'o', provider: 'outlook', email: o.user.email, repaired: false });
    expect(account.oauth).toMatchObject({ client_id: CLIENT.clientId, tenant: 'organizations' });
    expect(account.oauth.scopes).toEqual(expect.arrayContaining([IMAP_SCOPE, SMTP_SCOPE]));
    expect(result.stderr).toContain(`${bed.idp.msAuthority}/organizations/oauth2/v2.0/authorize?`);
    expect(result.stderr).toContain('response_mode=form_post');
    const pages = browserPages(o.log);
    expect(pages.map((p) => p.step)).toEqual(['authorize', 'form_post', 'loopback']);
    expect(pages.at(-1)!.text).toMatch(/go back to the terminal/);

    const sent = await o.cli(['send', '--to', o.user.email, '--subject', 'from outlook', '--body', 'hi', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(bed.smtp.messages.filter((m) => m.rcptTo.includes(o.user.email)).map((m) => m.authUser)).toEqual([o.user.email]);
    const ls = await o.cli(['ls', '--json']);
    expect(parseJson(ls).messages.map((m: { subject: string }) => m.subject)).toEqual(['from outlook']);
    const status = await o.cli(['status', '--json']);
    expect(parseJson(status).accounts[0]).toMatchObject({ provider: 'outlook', state: 'active', is_healthy: true });
    // sync logs in with its own client (AUTHENTICATE XOAUTH2), the token masked in --trace.
    const sync = await o.cli(['sync', '--json', '--trace']);
    expect(sync.code, sync.stderr).toBe(0);
    // The message in INBOX and its copy in Sent.
    expect(parseJson(sync).accounts).toMatchObject([{ name: 'o', status: 'ok', new: 2 }]);
    expect(sync.stderr).toMatch(/\[imap\] C: \S+ AUTHENTICATE XOAUTH2 \[REDACTED\]/);
    expectNoOAuthSecret(o, result.stdout, result.stderr, sent.stderr, ls.stdout, status.stdout, sync.stdout, sync.stderr);
  });

  it('keeps MSAL\'s token cache in the OS keychain by default, nothing secret on disk', async () => {
    const o = outlookHome('keychain');
    const args = connectArgs(o).filter((a, i, all) => a !== '--secret-store' && all[i - 1] !== '--secret-store');
    const result = await o.cli(args, { keychain: true });
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).account.secret_store).toBe('keychain');
    const folders = await o.cli(['folders', '--json'], { keychain: true });
    expect(folders.code, folders.stderr).toBe(0);
    expect(filesUnder(o.home).map((f) => f.path).filter((p) => p.endsWith('secrets.enc'))).toEqual([]);
    expectNoOAuthSecret(o, result.stdout, result.stderr, folders.stdout, folders.stderr);
    expect((await o.cli(['disconnect', 'o'], { keychain: true })).code).toBe(0);
  });

  it('--device-code: prints the code, waits while authorization is pending, then succeeds', async () => {
    const o = outlookHome('device');
    const cli = startInteractiveCli(connectArgs(o, '--device-code'), { home: o.home, env: o.env });
    const [, uri, code] = await cli.waitForStderr(/open (\S+) on any device and enter the code (\S+)/);
    // Let MSAL poll and hear authorization_pending at least once before the person acts.
    await waitFor(() => bed.idp.tokenRequests({ grantType: 'device_code', ok: false }).some((r) => r.error === 'authorization_pending'));
    expect(await personEntersDeviceCode(bed, uri!, code!, { FAKE_BROWSER_USER: o.user.email })).toMatch(/signed in/);
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result).account.oauth.scopes).toEqual(expect.arrayContaining([IMAP_SCOPE, SMTP_SCOPE]));
    expect((await o.cli(['folders'])).code).toBe(0);
    expectNoOAuthSecret(o, result.stdout, result.stderr);
  });

  it('--device-code declined: exit 3, CONSENT_DENIED, nothing saved', async () => {
    const o = outlookHome('device-deny');
    const cli = startInteractiveCli(connectArgs(o, '--device-code'), { home: o.home, env: o.env });
    const [, uri, code] = await cli.waitForStderr(/open (\S+) on any device and enter the code (\S+)/);
    await personEntersDeviceCode(bed, uri!, code!, { FAKE_BROWSER_USER: o.user.email, FAKE_BROWSER_ACTION: 'deny' });
    const result = await cli.result;
    expect(result.code).toBe(3);
    expect(jsonError(result).code).toBe('CONSENT_DENIED');
    expect(await accountsIn(o)).toEqual([]);
  });

  it('--no-browser: the code comes back in the pasted address (response_mode=query)', async () => {
    const o = outlookHome('paste');
    const cli = startInteractiveCli(connectArgs(o, '--no-browser'), { home: o.home, env: { ...o.env, BROWSER: 'false' } });
    const [, url] = await cli.waitForStderr(/\n {2}(https\S+)\n/);
    expect(url).toContain('response_mode=query');
    await cli.waitForStderr(/paste it here/);
    const finalUrl = await personFollowsLink(bed, url!);
    expect(finalUrl).toMatch(/^http:\/\/localhost:\d+\/?\?.*code=/);
    cli.type(finalUrl);
    const result = await cli.result;
    expect(result.code, result.stderr).toBe(0);
    expect((await o.cli(['ls'])).code).toBe(0);
  });

  it('an unknown client id or tenant is reported before the browser opens', async () => {
    const o = outlookHome('unknown');
    const args = connectArgs(o);
    args[args.indexOf('--client-id') + 1] = randomUUID();
    const result = await o.cli(args);
    expect(result.code).toBe(3);
    expect(jsonError(result)).toMatchObject({ code: 'OAUTH_CLIENT_INVALID' });
    expect(jsonError(result).message).toMatch(/AADSTS700016/);
    expect(jsonError(result).hint).toMatch(/--client-id and --tenant/);

    const tenant = connectArgs(o);
    tenant[tenant.indexOf('--tenant') + 1] = 'nonexistent.example';
    const wrongTenant = await o.cli(tenant);
    expect(wrongTenant.code).toBe(3);
    expect(jsonError(wrongTenant).message).toMatch(/AADSTS90002/);
    expect(browserPages(o.log)).toEqual([]);
  });

  it('--client-secret does not apply to Outlook (a public client): usage error', async () => {
    const o = outlookHome('secret');
    const result = await o.cli([...connectArgs(o), '--client-secret', 'x']);
    expect(result.code).toBe(2);
    expect(jsonError(result).message).toMatch(/public client/);
  });
});

describe('tokens of an Outlook account', () => {
  it('an expired access token is refreshed silently through the MSAL cache', async () => {
    // Long enough for connect to log in to IMAP and SMTP with it, then it expires.
    bed.idp.setAccessTokenTtl(4);
    try {
      const o = await connected('expiry');
      await new Promise((r) => setTimeout(r, 4500));
      const refreshes = bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length;
      const ls = await o.cli(['ls', '--json']);
      expect(ls.code, ls.stderr).toBe(0);
      expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length).toBe(refreshes + 1);
    } finally {
      bed.idp.setAccessTokenTtl(3600);
    }
  });

  it('two commands at once never lose a rotated refresh token', async () => {
    bed.idp.setAccessTokenTtl(60);
    try {
      const o = await connected('rotation');
      const failedBefore = bed.idp.tokenRequests({ grantType: 'refresh_token', ok: false }).length;
      const refreshes = () => bed.idp.tokenRequests({ grantType: 'refresh_token', ok: true }).length;
      for (let round = 0; round < 3; round++) {
        const before = refreshes();
        const results = await Promise.all([o.cli(['ls', '--json']), o.cli(['folders', '--json'])]);
        for (const r of results) expect(r.code, r.stderr).toBe(0);
        // Tokens really were refreshed (and so rotated) in every round, or there is nothing to lose.
        expect(refreshes()).toBeGreaterThan(before);
      }
      expect(bed.idp.tokenRequests({ grantType: 'refresh_token', ok: false }).length).toBe(failedBefore);
      expect(bed.idp.activeGrants(o.user.email)).toBe(1);
    } finally {
      bed.idp.setAccessTokenTtl(3600);
    }
  });

  it('a revoked grant (AADSTS50173): exit 3, TOKEN_REVOKED, status says revoked', async () => {
    const o = await connected('revoked');
    bed.idp.revokeUser(o.user.email);
    const ls = await o.cli(['ls', '--json']);
    expect(ls.code).toBe(3);
    expect(jsonError(ls)).toMatchObject({ code: 'TOKEN_REVOKED', hint: 'run `mailops connect o` again' });
    expect(jsonError(ls).message).toMatch(/AADSTS50173/);
    expect(await accountsIn(o)).toMatchObject([{ state: 'revoked' }]);
    const status = await o.cli(['status', '--json']);
    expect(status.code).toBe(3);
    expect(parseJson(status).accounts[0]).toMatchObject({ state: 'revoked', is_healthy: false });
  });

  it('disconnect drops the token cache and says Microsoft cannot revoke the grant', async () => {
    const o = await connected('disconnect');
    const result = await o.cli(['disconnect', 'o', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseJson(result)).toEqual({ disconnected: 'o', secrets_removed: true, revoked: null });
    expect(result.stderr).toMatch(/Microsoft offers no way for an app to revoke its grant: the token cache was deleted/);
    expect(await accountsIn(o)).toEqual([]);
    expectNoOAuthSecret(o, result.stdout, result.stderr);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
