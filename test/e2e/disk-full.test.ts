// A MAILOPS_HOME on a tiny file system (a tmpfs of a few MB, mounted by the test) that fills during
// a sync: a clear "disk full" error, a database that passes PRAGMA integrity_check, and once there
// is room again, a run that completes. Needs root to mount (CI and scripts/test.sh run as root).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { newUser } from '../support/bed.js';
import { runCli } from '../support/cli.js';
import { appendMessage } from '../support/mailbox.js';
import { PASSPHRASE, parseJson, serverFlags, textMessage } from './helpers.js';

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

describe('a damaged database file', () => {
  it('garbage where the database should be: a clear error naming the file and the way back, exit 1', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mailops-garbled-'));
    writeFileSync(join(home, 'mailops.db'), Buffer.alloc(64 * 1024, 0x5a), { mode: 0o600 });
    const result = await runCli(['status', '--offline', '--json'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stderr.trim().split('\n').at(-1)!).error;
    expect(error.message).toBe(`${join(home, 'mailops.db')} is damaged (SQLITE_NOTADB)`);
    expect(error.hint).toMatch(/move it aside .* mailops connect NAME again .* mailops sync/);
  });
});
