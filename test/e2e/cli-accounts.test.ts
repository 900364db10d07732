// connect, status and disconnect, run as a user would run them: the built binary in a child
// process, asserting stdout, stderr, exit code and the state left behind.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changePassword } from '../support/users.js';
import { mailBed, newUser } from '../support/bed.js';
import { makeHome, runCli } from '../support/cli.js';
import { PASSPHRASE, accountsIn, connectedAccount, expectNoSecret, filesUnder, jsonError, parseJson, serverFlags } from './helpers.js';

const fileStore = { MAILOPS_PASSPHRASE: PASSPHRASE };

describe('connect', () => {
  it('tests the login, saves the account with its password in the encrypted file, and status sees it live', async () => {
    const account = await connectedAccount('connect-ok');
    const status = await account.cli(['status', '--json']);
    expect(status.code).toBe(0);
    const [row] = parseJson(status).accounts;
    expect(row).toMatchObject({ name: 'main', provider: 'imap', email: account.user.email, state: 'active', is_healthy: true, last_error: null });
    expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    expect(row.checks.map((c: { step: string }) => c.step)).toContain('login');

    // The database and the secret file are private, and neither holds the password in clear.
    const files = filesUnder(account.home);
    expect(files.map((f) => f.path)).toContain(join(account.home, 'mailops.db'));
    expect(files.map((f) => f.path)).toContain(join(account.home, 'secrets.enc'));
    for (const f of files) expect(f.mode & 0o077, f.path).toBe(0);
    expectNoSecret(account.user.password, account.home, status.stdout, status.stderr);
  });

  it('uses the OS keychain by default (gnome-keyring over D-Bus) and keeps nothing secret on disk', async () => {
    const user = newUser('keychain');
    const home = makeHome();
    const result = await runCli(['connect', 'kc', ...serverFlags(user), '--password-stdin', '--json'], { home, keychain: true, input: user.password + '\n' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(parseJson(result).account).toMatchObject({ name: 'kc', secret_store: 'keychain', is_default: true });
    const ls = await runCli(['ls', '--json'], { home, keychain: true });
    expect(ls.code).toBe(0);
    expectNoSecret(user.password, home, result.stdout, ls.stdout, ls.stderr);
    expect(filesUnder(home).some((f) => f.path.endsWith('secrets.enc'))).toBe(false);
  });

  it('without a keychain and without a passphrase, explains and saves nothing (never plaintext)', async () => {
    const user = newUser('nokeychain');
    const home = makeHome();
    const result = await runCli(['connect', 'x', ...serverFlags(user), '--password-env', 'PW'], { home, env: { PW: user.password } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/keychain/i);
    expect(result.stderr).toMatch(/--secret-store file/);
    expect(await accountsIn(home)).toEqual([]);
    expectNoSecret(user.password, home, result.stdout, result.stderr);
  });

  it('a wrong password exits 3 and saves nothing', async () => {
    const user = newUser('wrongpw');
    const home = makeHome();
    const result = await runCli(['connect', 'x', ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW', '--json'], {
      home,
      env: { ...fileStore, PW: 'not-the-password' },
    });
    expect(result.code).toBe(3);
    expect(jsonError(result).code).toBe('AUTH_FAILED');
    expect(result.stdout).toBe('');
    expect(await accountsIn(home)).toEqual([]);
    expectNoSecret('not-the-password', home, result.stdout, result.stderr);
  });

  it('a closed port exits 4 (connection refused)', async () => {
    const user = newUser('closed');
    const flags = serverFlags(user);
    flags[flags.indexOf('--imap-port') + 1] = '1';
    const result = await runCli(['connect', 'x', ...flags, '--secret-store', 'file', '--password-env', 'PW', '--json'], {
      home: makeHome(),
      env: { ...fileStore, PW: user.password },
    });
    expect(result.code).toBe(4);
    expect(jsonError(result).code).toBe('CONNECTION_REFUSED');
  });

  it('implicit TLS to a plaintext port exits 4 and says which TLS mode to try', async () => {
    const user = newUser('tlsmode');
    const flags = serverFlags(user);
    flags[flags.indexOf('--imap-port') + 1] = String(mailBed().imapPort);
    const result = await runCli(['connect', 'x', ...flags, '--secret-store', 'file', '--password-env', 'PW', '--timeout', '5'], {
      home: makeHome(),
      env: { ...fileStore, PW: user.password },
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/--imap-tls (starttls|none)/);
  });

  it('an untrusted certificate exits 4 with a hint; --insecure connects and warns at each use', async () => {
    const user = newUser('untrusted');
    const flags = serverFlags(user);
    flags.splice(flags.indexOf('--ca-file'), 2);
    const home = makeHome();
    const env = { ...fileStore, PW: user.password };
    const refused = await runCli(['connect', 'x', ...flags, '--secret-store', 'file', '--password-env', 'PW'], { home, env });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/certificate/i);
    expect(refused.stderr).toMatch(/--ca-file/);
    expect(await accountsIn(home)).toEqual([]);

    const insecure = await runCli(['connect', 'x', ...flags, '--insecure', '--secret-store', 'file', '--password-env', 'PW'], { home, env });
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/verification is off/);
    const ls = await runCli(['ls'], { home, env });
    expect(ls.code).toBe(0);
    expect(ls.stderr).toMatch(/verification is off/);
  });

  it('without a TTY, a missing value is a usage error naming the flag', async () => {
    const result = await runCli(['connect'], { home: makeHome(), env: fileStore });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--email');

    const user = newUser('nopw');
    const noPassword = await runCli(['connect', 'x', ...serverFlags(user), '--secret-store', 'file'], { home: makeHome(), env: fileStore });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('--password-env');
  });

  it('an unknown flag is a usage error (exit 2), in JSON too', async () => {
    const plain = await runCli(['connect', '--frobnicate'], { home: makeHome() });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("unknown option '--frobnicate'");
    const json = await runCli(['ls', '--json', '--frobnicate'], { home: makeHome() });
    expect(json.code).toBe(2);
    expect(jsonError(json).code).toBe('USAGE');
  });

  it('--password-cmd stores the command only and runs it at each use', async () => {
    const user = newUser('pwcmd');
    const home = makeHome();
    const secretFile = join(home, 'pw.txt');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(secretFile, user.password + '\n', { mode: 0o600 });
    const result = await runCli(['connect', 'cmd', ...serverFlags(user), '--password-cmd', `cat ${secretFile}`], { home });
    expect(result.code).toBe(0);
    expect(filesUnder(home).some((f) => f.path.endsWith('secrets.enc'))).toBe(false);
    const db = readFileSync(join(home, 'mailops.db'));
    expect(db.includes(`cat ${secretFile}`)).toBe(true);
    expect(db.includes(user.password)).toBe(false);
    expect((await runCli(['status', '--json'], { home })).code).toBe(0);

    // The command failing is an auth failure with its own message, not a crash.
    writeFileSync(secretFile, '');
    const broken = await runCli(['status', '--json'], { home });
    expect(broken.code).toBe(3);
    expect(parseJson(broken).accounts[0].state).toBe('needs_reauth');
  });

  it('connecting the same name again repairs it: a changed password is tested and replaces the old one', async () => {
    const account = await connectedAccount('repair');
    const wrong = await account.cli(['connect', 'main', '--password-env', 'PW'], { env: { PW: 'wrong' } });
    expect(wrong.code).toBe(3);
    // The old, working configuration is untouched.
    expect((await account.cli(['status'])).code).toBe(0);
    const right = await account.cli(['connect', 'main', '--password-env', 'PW', '--priority', '5'], { env: { PW: account.user.password } });
    expect(right.code).toBe(0);
    expect(right.stderr).toContain('Repaired main');
  });

  it('--trace writes the IMAP conversation to stderr with the password redacted', async () => {
    const account = await connectedAccount('trace');
    const result = await account.cli(['folders', '--trace']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/\[imap\] C: .*LOGIN|AUTHENTICATE/);
    expect(result.stderr).toMatch(/\[imap\] S: /);
    expect(result.stderr).toContain('[REDACTED]');
    expectNoSecret(account.user.password, account.home, result.stdout, result.stderr);
  });
});

describe('status and disconnect', () => {
  it('status exits 3 when the password stopped working and records the error', async () => {
    const account = await connectedAccount('status-fail');
    // Someone changed the password on the server.
    await changePassword(mailBed().usersDir, account.user.email, 'changed-elsewhere');
    const live = await account.cli(['status', '--json']);
    expect(live.code).toBe(3);
    const [row] = parseJson(live).accounts;
    expect(row).toMatchObject({ state: 'needs_reauth', is_healthy: false });
    expect(row.last_error).toBeTruthy();
    const offline = await account.cli(['status', '--offline', '--json']);
    expect(offline.code).toBe(3);
    expect(parseJson(offline).accounts[0]).toMatchObject({ state: 'needs_reauth', last_error: row.last_error });
  });

  it('an unknown account name exits 5', async () => {
    const account = await connectedAccount('unknown');
    const result = await account.cli(['ls', '-a', 'nope', '--json']);
    expect(result.code).toBe(5);
    expect(jsonError(result)).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
  });

  it('disconnect removes the account, its secret and its cache', async () => {
    const account = await connectedAccount('disconnect');
    expect((await account.cli(['folders'])).code).toBe(0);
    const before = readFileSync(join(account.home, 'secrets.enc'), 'utf8');
    const result = await account.cli(['disconnect', 'main']);
    expect(result.code).toBe(0);
    expect(await accountsIn(account.home)).toEqual([]);
    expect(readFileSync(join(account.home, 'secrets.enc'), 'utf8')).not.toBe(before);
    const again = await account.cli(['disconnect', 'main']);
    expect(again.code).toBe(5);
  });
});
