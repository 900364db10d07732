// status --nagios as a monitoring system runs it: one line, valid perfdata, plugin exit codes, and
// thresholds in the monitoring-plugins range syntax on response time, certificate days, unseen
// count, age of the oldest unseen message and the message count of a folder; --probe adds delivery.
import { describe, expect, it } from 'vitest';
import { changePassword } from '../support/users.js';
import { mailBed } from '../support/bed.js';
import { withImap } from '../support/mailbox.js';
import { connectedAccount, parseJson, textMessage } from './helpers.js';
import { runCli } from '../support/cli.js';

const LINE = /^MAILOPS (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.+))?\n$/;
/** A perfdata entry: 'label'=value[UOM];[warn];[crit];[min];[max] (monitoring-plugins guidelines). */
const PERF = /^('[^'=]+'|[^'= ]+)=-?\d+(\.\d+)?(s|ms|us|%|B|KB|MB|TB|c)?(;[~@:\d.-]*){0,4}$/;

function parseLine(stdout: string) {
  const match = LINE.exec(stdout);
  expect(match, stdout).not.toBeNull();
  const perf = (match![3] ?? '').split(' ').filter(Boolean);
  for (const entry of perf) expect(entry).toMatch(PERF);
  return { state: match![1], summary: match![2]!, perf: Object.fromEntries(perf.map((p) => [p.split('=')[0], p.split('=')[1]])) };
}

async function seedUnseen(user: Parameters<typeof withImap>[0], count: number, ageSeconds: number, folder = 'INBOX') {
  await withImap(user, async (client) => {
    for (let i = 0; i < count; i++) await client.append(folder, textMessage({ subject: `unseen ${i}` }), [], new Date(Date.now() - ageSeconds * 1000));
  });
}

describe('status --nagios', () => {
  it('OK: one line with response times, certificate days and counts as perfdata', async () => {
    const account = await connectedAccount('nagios-ok');
    const result = await account.cli(['status', '--nagios']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const { state, summary, perf } = parseLine(result.stdout);
    expect(state).toBe('OK');
    expect(summary).toMatch(/^main: IMAP \d\.\d{3} s, IMAP certificate \d+ days left, SMTP \d\.\d{3} s, SMTP certificate \d+ days left, 0 messages in INBOX, 0 unseen$/);
    expect(Object.keys(perf)).toEqual(['imap_time', 'imap_cert_days', 'smtp_time', 'smtp_cert_days', 'messages', 'unseen', 'unseen_age']);
    expect(perf.imap_time).toMatch(/^\d+(\.\d+)?s;;;0$/);
    expect(perf.messages).toBe('0;;;0');
  });

  it('WARNING and CRITICAL from thresholds on unseen count, their age, time and certificate days', async () => {
    const account = await connectedAccount('nagios-thresholds');
    await seedUnseen(account.user, 3, 7200);

    const warning = await account.cli(['status', '--nagios', '--warning', 'unseen=2', '--critical', 'unseen=5']);
    expect(warning.code).toBe(1);
    const w = parseLine(warning.stdout);
    expect(w.state).toBe('WARNING');
    expect(w.summary).toBe('main: 3 unseen (warning 2)');
    expect(w.perf.unseen).toBe('3;2;5;0');

    const age = await account.cli(['status', '--nagios', '-w', 'unseen_age=3600', '-c', 'unseen_age=@0:10,unseen=~:100']);
    expect(age.code).toBe(1);
    expect(parseLine(age.stdout).summary).toMatch(/^main: oldest unseen 7\d{3} s old \(warning 3600\)$/);

    const critical = await account.cli(['status', '--nagios', '--critical', 'messages=2', '--warning', 'time=30']);
    expect(critical.code).toBe(2);
    expect(parseLine(critical.stdout)).toMatchObject({ state: 'CRITICAL', summary: 'main: 3 messages in INBOX (critical 2)' });

    const cert = await account.cli(['status', '--nagios', '--warning', 'cert_days=4000:']);
    expect(cert.code).toBe(1);
    expect(parseLine(cert.stdout).summary).toMatch(/^main: IMAP certificate \d+ days left \(warning 4000:\), SMTP certificate \d+ days left \(warning 4000:\)$/);
  });

  it('--folder counts another folder', async () => {
    const account = await connectedAccount('nagios-folder');
    await seedUnseen(account.user, 2, 60, 'Archive');
    const result = await account.cli(['status', '--nagios', '--folder', 'Archive', '--json']);
    expect(result.code).toBe(0);
    const { nagios } = parseJson(result);
    expect(nagios).toMatchObject({ state: 'OK', exit_code: 0 });
    expect(nagios.metrics).toEqual(expect.arrayContaining([{ label: 'messages', value: 2, uom: '', warning: null, critical: null }, expect.objectContaining({ label: 'unseen', value: 2 })]));
    expect(nagios.line).toMatch(/^MAILOPS OK - /);

    // A non-ASCII name goes to the server in modified UTF-7 (RFC 3501 5.1.3).
    await withImap(account.user, (client) => client.mailboxCreate('Entwürfe').then(() => undefined));
    await seedUnseen(account.user, 1, 60, 'Entwürfe');
    const umlaut = await account.cli(['status', '--nagios', '--folder', 'Entwürfe', '--json']);
    expect(umlaut.code, umlaut.stdout + umlaut.stderr).toBe(0);
    expect(parseJson(umlaut).nagios.metrics).toEqual(expect.arrayContaining([expect.objectContaining({ label: 'messages', value: 1 })]));
  });

  it('CRITICAL when the login fails; UNKNOWN for bad thresholds and unknown accounts', async () => {
    const account = await connectedAccount('nagios-fail');
    await changePassword(mailBed().usersDir, account.user.email, 'changed-elsewhere');
    const broken = await account.cli(['status', '--nagios']);
    expect(broken.code).toBe(2);
    expect(parseLine(broken.stdout).summary).toMatch(/^main: IMAP AUTH_FAILED: IMAP server 127\.0\.0\.1:\d+ rejected the login/);

    const bad = await account.cli(['status', '--nagios', '--warning', 'unseen=10:5']);
    expect(bad.code).toBe(3);
    expect(parseLine(bad.stdout).summary).toContain('the start is above the end');
    const unknownMetric = await account.cli(['status', '--nagios', '--warning', 'bogus=1']);
    expect(unknownMetric.code).toBe(3);
    const missing = await account.cli(['status', 'nope', '--nagios']);
    expect(missing.code).toBe(3);
    expect(parseLine(missing.stdout).state).toBe('UNKNOWN');
  });

  it('UNKNOWN (3), said on stdout, for command-line usage errors instead of exit 2', async () => {
    for (const args of [['--timeout', 'abc'], ['--bogus']]) {
      const result = await runCli(['status', '--nagios', ...args]);
      expect(result.code, result.stdout + result.stderr).toBe(3);
      expect(result.stdout).toMatch(/^MAILOPS UNKNOWN - bad arguments: /);
      expect(parseLine(result.stdout).state).toBe('UNKNOWN');
    }
    // Without --nagios the same mistake stays an ordinary usage error.
    expect((await runCli(['status', '--bogus'])).code).toBe(2);
  });

  it('--probe adds the delivery time, with its own thresholds', async () => {
    const account = await connectedAccount('nagios-probe');
    const result = await account.cli(['status', '--nagios', '--probe', '--warning', 'delivery=60', '--critical', 'delivery=120']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const { perf, summary } = parseLine(result.stdout);
    expect(perf.delivery).toMatch(/^\d+(\.\d+)?s;60;120;0$/);
    expect(summary).toMatch(/probe delivered in \d\.\d{3} s \(inbox\)/);
  });
});
