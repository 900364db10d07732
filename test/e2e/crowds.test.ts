// Twenty commands at once on one MAILOPS_HOME, as a busy cron table and a person at the terminal
// make them: ls, read, mark, search, status, folders, sync (several: one runs, the others are
// busy or wait), and connect of another account. No SQLITE_BUSY (or any "database is locked")
// reaches a user, no update is lost, and every exit code is the contract's.
import { describe, expect, it } from 'vitest';
import { newUser } from '../support/bed.js';
import { appendMessage, getFlags, listUids } from '../support/mailbox.js';
import { PASSPHRASE, connectedAccount, parseJson, serverFlags, textMessage } from './helpers.js';

describe('a crowd of commands on one home', () => {
  it('twenty at once: the right exit codes, no database-locked error, no lost update', async () => {
    const account = await connectedAccount('crowd');
    for (let i = 0; i < 30; i++) await appendMessage(account.user, 'INBOX', textMessage({ subject: `crowd ${i}`, messageId: `<crowd-${i}@example.org>` }));
    const uids = await listUids(account.user, 'INBOX');
    // The cache exists before the crowd comes: a first sync.
    expect((await account.cli(['sync', '--json'])).code).toBe(0);
    const other = newUser('crowd-other');

    const runs: Array<{ args: string[]; expect: number[]; env?: Record<string, string> }> = [
      ...[0, 1, 2].map(() => ({ args: ['sync', '--json'], expect: [0, 75] })),
      { args: ['sync', '--wait', '--json'], expect: [0] },
      ...[0, 1, 2].map(() => ({ args: ['ls', '--json', '--limit', '10'], expect: [0] })),
      ...[0, 1].map(() => ({ args: ['ls', '--offline', '--json'], expect: [0] })),
      ...uids.slice(0, 4).map((uid) => ({ args: ['mark', String(uid), '--flagged', '--json'], expect: [0] })),
      { args: ['read', String(uids[5]), '--json'], expect: [0] },
      { args: ['search', '--offline', '--json', '--', 'crowd'], expect: [0] },
      { args: ['search', '--json', '--', 'subject:crowd'], expect: [0] },
      { args: ['status', '--json'], expect: [0] },
      { args: ['status', '--offline', '--json'], expect: [0] },
      { args: ['folders', '--json'], expect: [0] },
      { args: ['connect', 'second', ...serverFlags(other), '--secret-store', 'file', '--password-env', 'PW', '--json'], expect: [0], env: { PW: other.password } },
    ];
    expect(runs).toHaveLength(20);
    const results = await Promise.all(runs.map((run) => account.cli(run.args, { timeoutMs: 120_000, env: { MAILOPS_PASSPHRASE: PASSPHRASE, ...run.env } })));
    results.forEach((result, i) => {
      const { args, expect: codes } = runs[i]!;
      expect(codes, `${args.join(' ')} exited ${result.code}: ${result.stderr}`).toContain(result.code);
      expect(result.stderr + result.stdout, args.join(' ')).not.toMatch(/SQLITE_BUSY|database is locked/i);
    });
    // Every mark reached the server, and the waiting sync saw the cache through to the end.
    for (const uid of uids.slice(0, 4)) expect(await getFlags(account.user, 'INBOX', uid)).toContain('\\Flagged');
    const names = parseJson(await account.cli(['status', '--offline', '--json'])).accounts.map((a: { name: string }) => a.name).sort();
    expect(names).toEqual(['main', 'second']);
    expect((await account.cli(['sync', 'main', '--json'])).code).toBe(0);
    const cached = parseJson(await account.cli(['ls', '--offline', '--json', '--limit', '100'])).messages as Array<{ uid: number; is_flagged: boolean }>;
    expect(cached).toHaveLength(30);
    for (const uid of uids.slice(0, 4)) expect(cached.find((m) => m.uid === uid)?.is_flagged, `uid ${uid}`).toBe(true);
  });
});
