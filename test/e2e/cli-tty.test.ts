// mailops at a terminal: the built binary in a pseudo-terminal (test/support/pty.ts), with keys
// typed into it. Prompts appear only there, tables and colour only there; with --no-input or CI
// the same terminal gets usage errors instead of questions.
import { stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { mailBed, newUser } from '../support/bed.js';
import { makeHome, runCli } from '../support/cli.js';
import { appendMessage } from '../support/mailbox.js';
import { KEYS, runPty, startPty } from '../support/pty.js';
import { startSilentServer } from '../support/failure-servers.js';
import { PASSPHRASE, accountsIn, connectedAccount, expectNoSecret, parseJson, serverFlags, textMessage, type Account } from './helpers.js';

const fileStore = { MAILOPS_PASSPHRASE: PASSPHRASE };
const ESC = '\u001b[';

describe('prompts on a terminal', () => {
  it('connect asks for the address, both servers and the password, and the account works; the password is never shown', async () => {
    const bed = mailBed();
    const user = newUser('tty-connect');
    const home = makeHome();
    const run = startPty(['connect', 'tty', '--ca-file', bed.caFile, '--secret-store', 'file'], { home, env: fileStore });

    await run.waitFor('Email address:');
    run.type(user.email + KEYS.enter);
    await run.waitFor('IMAP server:');
    run.type(bed.host + KEYS.enter);
    await run.waitFor('IMAP TLS mode:');
    run.type(KEYS.enter); // the default, implicit
    await run.waitFor('IMAP port:');
    run.type(String(bed.imapsPort) + KEYS.enter);
    await run.waitFor('SMTP server:');
    run.type(bed.host + KEYS.enter);
    await run.waitFor('SMTP TLS mode:');
    run.type(KEYS.down + KEYS.enter); // implicit -> starttls
    await run.waitFor('SMTP port:');
    run.type(String(bed.smtpPort) + KEYS.enter);
    await run.waitFor('Password:');
    run.type(user.password + KEYS.enter);
    const result = await run.result;

    expect(result.code, result.text).toBe(0);
    expect(result.text).toContain(`Connected tty <${user.email}>`);
    // The prompts echo the answers, and the password as a mask.
    expect(result.text).toContain(user.email);
    expect(result.text).toContain('starttls');
    expect(result.text).toContain('*'.repeat(user.password.length));
    expectNoSecret(user.password, home, result.screen);

    const status = await runCli(['status', '--json'], { home, env: fileStore });
    expect(status.code).toBe(0);
    expect(parseJson(status).accounts).toEqual([expect.objectContaining({ name: 'tty', email: user.email, state: 'active', is_healthy: true })]);
    // SMTP was stored as answered (STARTTLS on the submission port): sending works.
    const sent = await runCli(['send', '--to', user.email, '--subject', 'typed', '--body', 'x', '--json'], { home, env: fileStore });
    expect(sent.code, sent.stderr).toBe(0);
    expect(parseJson(sent).accepted).toEqual([user.email]);
  });

  it('Ctrl-C at the password prompt exits 130 and saves nothing', async () => {
    const user = newUser('tty-ctrlc');
    const home = makeHome();
    const run = startPty(['connect', 'x', ...serverFlags(user), '--secret-store', 'file'], { home, env: fileStore });
    await run.waitFor('Password:');
    run.type('half-typed' + KEYS.ctrlC);
    const result = await run.result;
    expect(result.code, result.text).toBe(130);
    expect(await accountsIn(home)).toEqual([]);
    expect(result.text).not.toContain('half-typed');
  });

  it('Ctrl-C while connect waits for a server exits 130 and saves nothing', async () => {
    const silent = await startSilentServer();
    const connected = silent.nextConnection();
    try {
      const port = silent.port;
      const user = newUser('tty-wait');
      const home = makeHome();
      const flags = serverFlags(user);
      flags.splice(flags.indexOf('--imap-port'), 4, '--imap-port', String(port), '--imap-tls', 'starttls');
      const run = startPty(['connect', 'x', ...flags, '--secret-store', 'file', '--password-env', 'PW', '--timeout', '60'], {
        home,
        env: { ...fileStore, PW: user.password },
      });
      const early = await Promise.race([connected.then(() => null), run.result]);
      expect(early, 'mailops exited before it connected').toBeNull();
      const typedAt = Date.now();
      // The terminal turns Ctrl-C into SIGINT for the foreground process.
      run.type(KEYS.ctrlC);
      const result = await run.result;
      expect(result.code, result.text).toBe(130);
      expect(Date.now() - typedAt).toBeLessThan(5000);
      expect(await accountsIn(home)).toEqual([]);
    } finally {
      await silent.stop();
    }
  });

  for (const [label, extra, env] of [
    ['--no-input', ['--no-input'], {}],
    ['CI=1', [], { CI: '1' }],
  ] as const) {
    it(`with ${label}, a terminal gets no prompt: a missing value is a usage error naming the flag`, async () => {
      const home = makeHome();
      // A prompt would wait for an answer that never comes: the run would time out.
      const noEmail = await runPty(['connect', ...extra], { home, env: { ...fileStore, ...env }, timeoutMs: 15_000 });
      expect(noEmail.code, noEmail.text).toBe(2);
      expect(noEmail.text).toContain('--email');
      expect(noEmail.text).not.toContain('Email address:');

      const user = newUser('tty-noinput');
      const noPassword = await runPty(['connect', 'x', ...serverFlags(user), '--secret-store', 'file', ...extra], {
        home,
        env: { ...fileStore, ...env },
        timeoutMs: 15_000,
      });
      expect(noPassword.code, noPassword.text).toBe(2);
      expect(noPassword.text).toContain('--password-env');
      expect(noPassword.text).not.toContain('Password:');
      expect(await accountsIn(home)).toEqual([]);
    });
  }
});

describe('output on a terminal and in a pipe', () => {
  let account: Account;

  beforeAll(async () => {
    account = await connectedAccount('tty-ls');
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'Short', from: 'Al <al@example.org>' }));
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'A much longer subject line', from: 'Bartholomew Longname <bart@example.org>' }));
    await appendMessage(account.user, 'INBOX', textMessage({ subject: 'Third', from: 'cy@example.org' }), ['\\Seen']);
  });

  const onTerminal = (args: string[], env: Record<string, string> = {}) =>
    runPty(args, { home: account.home, env: { ...fileStore, ...env }, stderrPipe: true });

  it('ls prints an aligned table with a header row on a terminal, and TSV without a header in a pipe', async () => {
    const tty = await onTerminal(['ls']);
    expect(tty.code, tty.text + tty.stderr).toBe(0);
    const lines = tty.text.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(4);
    const header = lines[0]!;
    expect(header.split(/\s{2,}/)).toEqual(['ID', 'DATE', 'FROM', 'SUBJECT', 'FLAGS']);
    expect(tty.text).not.toContain('\t');
    // Aligned: every row's subject starts in the SUBJECT column.
    const column = header.indexOf('SUBJECT');
    const subjects = lines.slice(1).map((l) => l.slice(column).replace(/\s{2,}\S*$/, '').trim());
    expect(subjects).toEqual(['Third', 'A much longer subject line', 'Short']);
    // The range note is for people: on stderr.
    expect(tty.stderr).toContain('1-3 of 3');

    const piped = await account.cli(['ls']);
    expect(piped.code).toBe(0);
    const rows = piped.stdout.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.split('\t').length === 5)).toBe(true);
    expect(piped.stdout).not.toContain('SUBJECT');
    expect(piped.stdout).not.toContain(ESC);
  });

  it('ls fits the table to a narrow terminal without cutting the ids', async () => {
    const ids = parseJson(await account.cli(['ls', '--json'])).messages.map((m: { id: string }) => m.id);
    const narrow = await runPty(['ls'], { home: account.home, env: fileStore, stderrPipe: true, cols: 72 });
    expect(narrow.code, narrow.stderr).toBe(0);
    const lines = narrow.text.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(72);
    expect(lines.slice(1).map((l) => l.split(' ')[0])).toEqual(ids);
    expect(narrow.text).toContain('…');
  });

  it('colours only on a terminal; never with NO_COLOR or --no-color; FORCE_COLOR forces it', async () => {
    const plain = await onTerminal(['ls']);
    expect(plain.screen).toContain(`${ESC}1mID`); // bold header
    const noColorEnv = await onTerminal(['ls'], { NO_COLOR: '1' });
    expect(noColorEnv.code).toBe(0);
    expect(noColorEnv.screen).not.toContain(ESC);
    expect(stripVTControlCharacters(noColorEnv.screen)).toBe(noColorEnv.screen);
    const noColorFlag = await onTerminal(['ls', '--no-color']);
    expect(noColorFlag.code).toBe(0);
    expect(noColorFlag.screen).not.toContain(ESC);
    expect(noColorFlag.text).toBe(plain.text);

    // Errors on a terminal are coloured the same way.
    const ttyError = await runPty(['ls', 'No/Such/Folder'], { home: account.home, env: fileStore });
    expect(ttyError.code).not.toBe(0);
    expect(ttyError.screen).toContain(`${ESC}31merror:`);
    const ttyErrorNoColor = await runPty(['ls', 'No/Such/Folder'], { home: account.home, env: { ...fileStore, NO_COLOR: '1' } });
    expect(ttyErrorNoColor.screen).not.toContain(ESC);

    // In a pipe: no colour, unless forced.
    const piped = await account.cli(['ls', 'No/Such/Folder']);
    expect(piped.stderr).toContain('error:');
    expect(piped.stderr).not.toContain(ESC);
    const forced = await account.cli(['ls', 'No/Such/Folder'], { env: { FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain(`${ESC}31merror:`);
    const forcedButOff = await account.cli(['ls', 'No/Such/Folder', '--no-color'], { env: { FORCE_COLOR: '1' } });
    expect(forcedButOff.stderr).not.toContain(ESC);
  });
});
