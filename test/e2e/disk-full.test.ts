// A MAILOPS_HOME on a tiny file system (a tmpfs of a few MB, mounted by the test) that fills during
// a sync: a clear "disk full" error, a database that passes PRAGMA integrity_check, and once there
// is room again, a run that completes. Needs root to mount (CI and scripts/test.sh run as root).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { newUser } from '../support/bed.js';
import { runCli } from '../support/cli.js';
import { appendMessage } from '../support/mailbox.js';
import { PASSPHRASE, jsonError, parseJson, serverFlags, textMessage } from './helpers.js';

const root = process.getuid?.() === 0;
const mountPoint = mkdtempSync(join(tmpdir(), 'mailops-tinyfs-'));
let mounted = false;

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
});

describe.skipIf(!root)('a home on a file system that fills', () => {
  it('sync says the disk is full, the database stays sound, and the next run with room completes', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', mountPoint]);
    mounted = true;
    const home = join(mountPoint, 'home');
    mkdirSync(home, { mode: 0o700 });
    const user = newUser('diskfull');
    const cli = (args: string[]) => runCli(args, { home, timeoutMs: 120_000, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
    const connected = await runCli(['connect', 'main', ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE, PW: user.password } });
    expect(connected.code, connected.stderr).toBe(0);
    // About 5 MB of mail for 3 MB of disk.
    const body = 'All work and no play makes a full disk.\r\n'.repeat(2500);
    for (let i = 0; i < 50; i++) await appendMessage(user, 'INBOX', textMessage({ subject: `bulky ${i}`, body: `${i} ${body}` }));

    const full = await cli(['sync', '--json']);
    expect(full.code, full.stdout + full.stderr).toBe(1);
    const summary = parseJson(full).accounts[0];
    expect(summary.error).toBe(`the disk holding ${join(home, 'mailops.db')} is full`);
    if (process.env.MAILOPS_PRINT_FIGURES) console.log(`disk full: exit ${full.code}: ${summary.error}; ${full.stderr.trim()}`);

    const db = openDatabase(home);
    try {
      expect(db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
    } finally {
      db.close();
    }

    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
    const after = await cli(['sync', '--json']);
    expect(after.code, after.stderr).toBe(0);
    const listed = parseJson(await cli(['ls', '--offline', '--json', '--limit', '100']));
    expect(listed.total).toBe(50);
  });
});

describe.skipIf(!root)('a read-only home', () => {
  const readOnlyMount = mkdtempSync(join(tmpdir(), 'mailops-rofs-'));
  afterAll(() => {
    execFileSync('umount', ['-l', readOnlyMount]);
  });

  it('commands say the home cannot be written (exit 1); nothing is lost, and the next sync once it can be completes', async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', readOnlyMount]);
    const home = join(readOnlyMount, 'home');
    mkdirSync(home, { mode: 0o700 });
    const user = newUser('readonly');
    const cli = (args: string[]) => runCli(args, { home, timeoutMs: 60_000, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
    const connected = await runCli(['connect', 'main', ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE, PW: user.password } });
    expect(connected.code, connected.stderr).toBe(0);
    await appendMessage(user, 'INBOX', textMessage({ subject: 'before' }));
    expect((await cli(['sync', '--json'])).code).toBe(0);
    await appendMessage(user, 'INBOX', textMessage({ subject: 'after' }));

    execFileSync('mount', ['-o', 'remount,ro', readOnlyMount]);
    const results = { sync: await cli(['sync', '--json']), ls: await cli(['ls', '--offline', '--json']) };
    if (process.env.MAILOPS_PRINT_FIGURES) for (const [name, r] of Object.entries(results)) console.log(`read-only home, ${name}: exit ${r.code}: ${r.stdout.slice(0, 300)} ${r.stderr.trim()}`);
    // SQLite in WAL mode cannot even read without writing its -shm file: every command says so.
    for (const result of Object.values(results)) {
      expect(result.code).toBe(1);
      expect(jsonError(result)).toMatchObject({ message: `${join(home, 'mailops.db')} cannot be written (SQLITE_CANTOPEN)`, hint: expect.stringMatching(/writable/) });
    }

    execFileSync('mount', ['-o', 'remount,rw', readOnlyMount]);
    const again = await cli(['sync', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson(await cli(['ls', '--offline', '--json'])).total).toBe(2);
  });
});

describe('a damaged database file', () => {
  it('garbage where the database should be: a clear error naming the file and the way back, exit 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mailops-garbled-'));
    writeFileSync(join(home, 'mailops.db'), Buffer.alloc(64 * 1024, 0x5a), { mode: 0o600 });
    const result = await runCli(['status', '--offline', '--json'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stderr.trim().split('\n').at(-1)!).error;
    expect(error.message).toBe(`${join(home, 'mailops.db')} is damaged (SQLITE_NOTADB)`);
    expect(error.hint).toMatch(/mailops sync --rebuild-cache/);
  });

  /** A home with one account (file secret store), three messages synced and handed to --on-new. */
  async function syncedHome(label: string) {
    const home = mkdtempSync(join(tmpdir(), `mailops-${label}-`));
    const user = newUser(label);
    const cli = (args: string[]) => runCli(args, { home, timeoutMs: 60_000, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
    const connected = await runCli(['connect', 'main', ...serverFlags(user), '--secret-store', 'file', '--password-env', 'PW'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE, PW: user.password } });
    expect(connected.code, connected.stderr).toBe(0);
    for (let i = 0; i < 3; i++) await appendMessage(user, 'INBOX', textMessage({ subject: `kept ${i}` }));
    const first = await cli(['sync', '--json', '--on-new', 'cat > /dev/null']);
    expect(parseJson(first).accounts[0]).toMatchObject({ status: 'ok', new: 3, processed: 3 });
    return { home, user, cli, db: join(home, 'mailops.db') };
  }

  it('sync --rebuild-cache after garbage: the file set aside, the account back from accounts.json with its secret, the cache filled again', async () => {
    const { home, cli, db } = await syncedHome('rebuild');
    writeFileSync(db, Buffer.alloc(256 * 1024, 0x5a));
    for (const side of ['-wal', '-shm']) rmSync(db + side, { force: true });
    expect((await cli(['ls', '--offline', '--json'])).code).toBe(1);

    const rebuilt = await cli(['sync', '--rebuild-cache', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(parseJson(rebuilt).accounts[0]).toMatchObject({ name: 'main', status: 'ok', new: 3 });
    expect(rebuilt.stderr).toMatch(/1 account carried over from accounts\.json/);
    expect(rebuilt.stderr).toMatch(/--on-new could not be read/);
    const setAside = readdirSync(home).filter((f) => f.startsWith('mailops.db.set-aside-'));
    expect(setAside).toHaveLength(1);
    expect(readFileSync(join(home, setAside[0]!))).toEqual(Buffer.alloc(256 * 1024, 0x5a));
    expect(parseJson(await cli(['ls', '--offline', '--json'])).total).toBe(3);
  });

  it('a truncated database: commands say it is damaged, and --rebuild-cache brings the account and the cache back', async () => {
    const { cli, db } = await syncedHome('truncated');
    truncateSync(db, Math.floor(statSync(db).size / 2));
    const damaged = await cli(['search', '--offline', 'kept', '--json']);
    expect(damaged.code, damaged.stdout).toBe(1);
    expect(jsonError(damaged).message).toBe(`${db} is damaged (SQLITE_CORRUPT)`);

    const rebuilt = await cli(['sync', '--rebuild-cache', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(parseJson(rebuilt).accounts[0]).toMatchObject({ name: 'main', status: 'ok', new: 3 });
    expect(parseJson(await cli(['search', '--offline', 'kept', '--json'])).total).toBe(3);
  });

  it('--rebuild-cache of a sound database carries the accounts and the --on-new record over: nothing is handed over twice', async () => {
    const { cli } = await syncedHome('clean-start');
    const rebuilt = await cli(['sync', '--rebuild-cache', '--json', '--on-new', 'cat > /dev/null']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stderr).toMatch(/1 account carried over from the old database/);
    expect(rebuilt.stderr).not.toMatch(/warning/);
    expect(parseJson(rebuilt).accounts[0]).toMatchObject({ new: 3, processed: 0 });
  });
});
