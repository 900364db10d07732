// Servers that misbehave on purpose (test/support/hostile-imap.ts): whatever they send, mailops
// ends with a clear error and the contract's exit code, inside --timeout, with its memory bounded
// (the response limits of src/net/imap/limits.ts: 32 MiB a line, 160 MiB a literal). Peak memory
// is read from /proc (VmHWM) while the command runs. One password is planted in every account
// here, some runs --trace: after the whole file, no output and no file of any home shows it.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { seedPasswordAccount } from '../support/api-account.js';
import { makeHome, runCli, startCli, type CliResult } from '../support/cli.js';
import { startFakeSmtp } from '../support/failure-servers.js';
import { startHostileImap, type Attack, type HostileImap } from '../support/hostile-imap.js';
import { PASSPHRASE, expectNoSecret, jsonError } from './helpers.js';

/** Commands must fail well under this: Node and the program take ~60 MB, the limits allow ~32-64 more. */
const MEMORY_CEILING_MB = 160;

/** One password planted in every account of this file: after all of it, no output and no file of any home may show it. */
const SECRET = 'planted-Secret-7f3a9c';
const seen: { homes: string[]; outputs: string[] } = { homes: [], outputs: [] };

let server: HostileImap | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

afterAll(() => {
  // Whatever subset ran (-t), the check has homes to look at.
  expect(seen.homes.length).toBeGreaterThan(0);
  for (const home of seen.homes) expectNoSecret(SECRET, home, ...seen.outputs);
});

/** An account on `imapPort` (SMTP on `smtpPort`, or a closed port), its password the planted one. */
async function hostileHome(imapPort: number, smtpPort = 9): Promise<string> {
  const home = makeHome();
  seen.homes.push(home);
  await seedPasswordAccount(home, {
    email: 'ann@hostile.test',
    imap: { host: '127.0.0.1', port: imapPort, tls: 'none' },
    smtp: { host: '127.0.0.1', port: smtpPort, tls: 'none' },
    password: SECRET,
    passphrase: PASSPHRASE,
  });
  return home;
}

function remember(result: CliResult): CliResult {
  seen.outputs.push(result.stdout, result.stderr);
  return result;
}

async function against(attack: Attack, on: RegExp, args: string[]): Promise<{ result: CliResult; peakMb: number; seconds: number; sent: number }> {
  server = await startHostileImap(attack, on);
  const home = await hostileHome(server.port);
  const started = Date.now();
  const running = startCli(args, { home, timeoutMs: 60_000, env: { MAILOPS_PASSPHRASE: PASSPHRASE } });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${running.child.pid}/status`, 'utf8'));
      if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
    } catch {
      // Gone already.
    }
  }, 10);
  const result = remember(await running.result.finally(() => clearInterval(poll)));
  const figures = { result, peakMb: peakKb / 1024, seconds: (Date.now() - started) / 1000, sent: server.sent() };
  if (process.env.MAILOPS_PRINT_FIGURES) console.log(`${attack} ${args[0]}: exit ${result.code}, ${figures.seconds.toFixed(1)} s, peak ${figures.peakMb.toFixed(0)} MB, ${(figures.sent / 1024 / 1024).toFixed(0)} MiB sent`);
  return figures;
}

describe('hostile IMAP servers', () => {
  it('a LIST line that never ends: folders exits 1 once the line passes 32 MiB (a broken protocol, not retried), memory bounded', async () => {
    const { result, peakMb, seconds, sent } = await against('endless-line', / LIST /i, ['folders', '--timeout', '20', '--json']);
    expect(result.code, result.stderr).toBe(1);
    expect(jsonError(result).message).toMatch(/more than mailops accepts/);
    // The 32 MiB of the limit had to come first.
    expect(sent).toBeGreaterThan(32 * 1024 * 1024);
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(MEMORY_CEILING_MB);
    expect(seconds).toBeLessThan(20);
  });

  it('a literal announced as {4294967295} and dripped: sync refuses it as announced, holding nothing of it', async () => {
    const { result, peakMb, seconds, sent } = await against('huge-literal', /FETCH|LIST|STATUS|SELECT|EXAMINE/i, ['sync', '--timeout', '20', '--max-time', '30', '--json']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/more than mailops accepts/);
    expect(peakMb).toBeGreaterThan(0);
    expect(peakMb).toBeLessThan(MEMORY_CEILING_MB);
    expect(seconds).toBeLessThan(30);
    // Refused at the announcement: far less than the limit was read.
    expect(sent).toBeGreaterThan(0);
  });

  it('a line that never ends during sync: the sync client gives up at once (no retry), memory bounded', async () => {
    const { result, peakMb, seconds, sent } = await against('endless-line', / LIST /i, ['sync', '--timeout', '20', '--max-time', '30', '--json']);
    expect(sent).toBeLessThan(48 * 1024 * 1024);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/more than mailops accepts/);
    expect(peakMb).toBeLessThan(MEMORY_CEILING_MB);
    expect(seconds).toBeLessThan(10);
  });

  it('a server that goes silent after the login: sync ends inside --max-time, retries included (exit 4)', async () => {
    const { result, seconds } = await against('silence', /LIST|STATUS|SELECT|EXAMINE|ENABLE|NAMESPACE/i, ['sync', '--timeout', '3', '--max-time', '5', '--json']);
    expect(result.code, result.stderr).toBe(4);
    expect(seconds).toBeLessThan(5 + 1.5);
  });

  it('a greeting and then silence: sync ends inside --max-time, retries included (exit 4)', async () => {
    const { result, seconds } = await against('silence', /LOGIN|AUTHENTICATE|CAPABILITY/i, ['sync', '--timeout', '3', '--max-time', '5', '--json']);
    expect(result.code, result.stderr).toBe(4);
    expect(seconds).toBeLessThan(5 + 1.5);
  });

  it('a greeting and then silence: folders ends after --timeout, exit 4', async () => {
    const { result, seconds } = await against('silence', /LOGIN|AUTHENTICATE|CAPABILITY/i, ['folders', '--timeout', '3', '--json']);
    expect(result.code, result.stderr).toBe(4);
    expect(jsonError(result).code).toBe('TIMEOUT');
    expect(seconds).toBeLessThan(3 * 2 + 1.5);
  });

  it('100,000 folders: folders lists them all with their counts, every STATUS sent at once (not a round trip each)', async () => {
    const { result, peakMb, seconds } = await against('many-folders', / LIST /i, ['folders', '--timeout', '20', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { folders } = JSON.parse(result.stdout) as { folders: { path: string; total_count: number | null; unread_count: number | null }[] };
    expect(folders).toHaveLength(100_001);
    expect(folders.find((f) => f.path === 'Archive/42/folder 42017')).toMatchObject({ total_count: 42017, unread_count: 1 });
    // Asked of each folder once.
    expect(server!.commands().filter((c) => / STATUS /i.test(c))).toHaveLength(100_001);
    // Memory here grows with the folders listed, not with what a server sends beyond them: measured
    // 239-324 MB at the peak (about 2.5 KB a folder, most of it garbage V8 has not yet collected).
    expect(peakMb).toBeLessThan(400);
    expect(seconds).toBeLessThan(30);
  });

  it('answers that break the grammar (unclosed lists and quotes, words for numbers): exit 1 naming the answer, never a crash, a hang or half a result', async () => {
    // [the command whose answer is broken, the mailops command, its exit code, what it must say or hold]
    const cases: [RegExp, string[], number, RegExp | ((r: CliResult) => void)][] = [
      // The same server with nothing broken: what the broken runs would otherwise have given.
      [/^NEVER/, ['folders'], 0, (r) => expect(JSON.parse(r.stdout).folders).toMatchObject([{ path: 'INBOX', total_count: 3, unread_count: 1 }])],
      [/^NEVER/, ['sync'], 0, (r) => expect(JSON.parse(r.stdout).accounts[0]).toMatchObject({ status: 'ok', new: 3 })],
      [/^NEVER/, ['ls'], 0, (r) => expect(JSON.parse(r.stdout).messages).toHaveLength(3)],
      // Skipped, the entry would make the folder look deleted (sync would drop its cache).
      [/ LIST /i, ['folders'], 1, /sent a LIST answer mailops cannot read: \* LIST \(\\HasNoChildren "\/" "INBOX/],
      [/ LIST /i, ['sync'], 1, /sent a LIST answer mailops cannot read/],
      // Without its UIDVALIDITY the folder's cache cannot be told valid (counts alone are shown empty).
      [/ STATUS /i, ['sync'], 1, /sent a STATUS answer mailops cannot read: \* STATUS INBOX \(MESSAGES many/],
      [/ STATUS /i, ['folders'], 0, (r) => expect(JSON.parse(r.stdout).folders).toMatchObject([{ path: 'INBOX', total_count: null, unread_count: null }])],
      // Skipped, the message would be passed by the token and never fetched.
      [/ FETCH /i, ['sync'], 1, /sent a FETCH answer mailops cannot read: \* 1 FETCH \(UID one/],
      // imapflow skips what its parser refuses; the command fails instead of showing less.
      [/ SEARCH /i, ['ls'], 1, /sent an answer mailops cannot read: \* SEARCH 1 two/],
      [/ FETCH /i, ['ls'], 1, /sent an answer mailops cannot read: \* 1 FETCH \(UID one/],
      [/ FETCH /i, ['read', 'SU5CT1g.7.1'], 1, /sent an answer mailops cannot read: \* 1 FETCH \(UID one/],
    ];
    for (const [on, args, code, check] of cases) {
      const { result, seconds } = await against('malformed', on, [...args, '--timeout', '5', '--json']);
      const what = `${on} ${args[0]}: ${result.stdout}${result.stderr}`;
      expect(result.code, what).toBe(code);
      expect(seconds, what).toBeLessThan(5);
      expect(result.stderr, what).not.toMatch(/at .*\.js:\d+|TypeError|RangeError/);
      if (typeof check === 'function') check(result);
      // As said, not as JSON escapes it.
      else expect((result.stdout + result.stderr).replace(/\\(["\\])/g, '$1'), what).toMatch(check);
      await server?.stop();
      server = null;
    }
  });

  it('SIGTERM (and SIGINT) stop a hanging sync: exit 143 (130), the lease released for the next run', async () => {
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      server = await startHostileImap('silence', /LIST|STATUS|SELECT|EXAMINE|ENABLE|NAMESPACE/i);
      const home = await hostileHome(server.port);
      const env = { MAILOPS_PASSPHRASE: PASSPHRASE };
      // --trace too: the LOGIN line goes to stderr masked.
      const running = startCli(['sync', '--timeout', '30', '--json', '--trace'], { home, timeoutMs: 60_000, env });
      await new Promise((r) => setTimeout(r, 1500));
      running.child.kill(signal);
      const stopped = remember(await running.result);
      expect(stopped.stderr).toMatch(/LOGIN/);
      expect(stopped.code, `${signal}: ${stopped.stderr}`).toBe(code);
      // The lease is free: a second run is not turned away as busy (75); it meets the same silence.
      const next = remember(await runCli(['sync', '--timeout', '2', '--max-time', '3', '--json'], { home, env }));
      expect(next.code, next.stderr).toBe(4);
      await server.stop();
      server = null;
    }
  });

  it('SMTP accepts the message and drops the connection before its answer: send says it may have gone out, exit 1, no second try, no copy in Sent', async () => {
    server = await startHostileImap('silence', /^$/);
    const smtp = await startFakeSmtp({ dataReply: 'drop', extensions: ['SIZE 35882577', 'AUTH PLAIN LOGIN'] });
    try {
      const home = await hostileHome(server.port, smtp.port);
      const sent = remember(await runCli(['send', '--to', 'bob@example.org', '--subject', 'maybe', '--body', 'did it go?', '--json', '--trace'], { home, env: { MAILOPS_PASSPHRASE: PASSPHRASE } }));
      expect(sent.stderr).toMatch(/AUTH PLAIN/);
      expect(sent.code, sent.stderr).toBe(1);
      expect(jsonError(sent).message).toMatch(/may have been (sent|delivered)/i);
      expect(smtp.messages()).toBe(1);
      expect(server.commands().some((c) => / APPEND /i.test(c))).toBe(false);
    } finally {
      await smtp.stop();
    }
  });

  it('Ctrl-C or SIGTERM during connect (the server hangs at the login): exit 130/143 and nothing saved', async () => {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      server = await startHostileImap('silence', /LOGIN|AUTHENTICATE/i);
      const home = makeHome();
      seen.homes.push(home);
      const env = { MAILOPS_PASSPHRASE: PASSPHRASE, PW: SECRET };
      const flags = ['--email', 'ann@hostile.test', '--imap-host', '127.0.0.1', '--imap-port', String(server.port), '--imap-tls', 'none', '--smtp-host', '127.0.0.1', '--smtp-port', '9', '--smtp-tls', 'none'];
      const running = startCli(['connect', 'main', ...flags, '--password-env', 'PW', '--secret-store', 'file', '--timeout', '30', '--json'], { home, timeoutMs: 60_000, env });
      await new Promise((r) => setTimeout(r, 1500));
      running.child.kill(signal);
      const stopped = remember(await running.result);
      expect(stopped.code, `${signal}: ${stopped.stderr}`).toBe(code);
      const accounts = remember(await runCli(['status', '--offline', '--json'], { home, env }));
      expect(JSON.parse(accounts.stdout).accounts).toEqual([]);
      await server.stop();
      server = null;
    }
  });

  it('BYE in the middle of a command: folders and sync end with a clear network error (exit 4), sync after its retries', async () => {
    for (const args of [['folders', '--timeout', '5', '--json'], ['sync', '--timeout', '5', '--max-time', '10', '--json']]) {
      const { result, seconds } = await against('bye', / LIST /i, args);
      expect(result.code, `${args[0]}: ${result.stdout}${result.stderr}`).toBe(4);
      expect(result.stdout + result.stderr).toMatch(/closed the connection|BYE|shutting down/i);
      expect(seconds).toBeLessThan(10);
      await server?.stop();
      server = null;
    }
  });
});
