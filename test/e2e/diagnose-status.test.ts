// status --diagnose against the suite's real servers: every step of IMAP and SMTP, timed and
// explained, in JSON and for people, with secrets kept out of the output and the trace.
import { describe, expect, it } from 'vitest';
import { mailBed, receivedMessages } from '../support/bed.js';
import { listUids } from '../support/mailbox.js';
import { connectedAccount, expectNoSecret, parseJson } from './helpers.js';

const IMAP_STEPS = ['dns', 'tcp', 'tls', 'greeting', 'capabilities', 'auth_mechanisms', 'login', 'capabilities_after_login', 'select'];
const SMTP_STEPS = ['dns', 'tcp', 'greeting', 'ehlo', 'starttls', 'tls', 'ehlo_after_starttls', 'auth_mechanisms', 'login', 'mail_from', 'rcpt_to'];

describe('status --diagnose', () => {
  it('shows every step of IMAP (implicit TLS) and SMTP (STARTTLS) with its time, TLS details and capabilities', async () => {
    const account = await connectedAccount('diag-ok');
    const result = await account.cli(['status', '--diagnose', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const [row] = parseJson(result).accounts;
    expect(row).toMatchObject({ name: 'main', email: account.user.email, state: 'active', is_healthy: true, last_error: null });
    const steps = row.checks.map((c: { step: string }) => c.step);
    expect(steps).toEqual([...IMAP_STEPS.map((s) => `imap.${s}`), ...SMTP_STEPS.map((s) => `smtp.${s}`)]);
    for (const check of row.checks) {
      expect(check.ok, check.step).toBe(true);
      expect(check.ms).toBeGreaterThanOrEqual(0);
      expect(typeof check.detail).toBe('string');
      expect(check.code).toBeUndefined();
    }
    const byStep = Object.fromEntries(row.checks.map((c: { step: string }) => [c.step, c]));
    expect(byStep['imap.dns'].detail).toBe('127.0.0.1 is an address: no lookup');
    expect(byStep['imap.tcp'].detail).toBe(`connected to 127.0.0.1:${mailBed().imapsPort}`);
    expect(byStep['imap.tls'].detail).toMatch(/^TLSv1\.[23], TLS_\w+; certificate CN=127\.0\.0\.1 \(.*IP Address:127\.0\.0\.1.*\), issued by CN=mailops test CA, valid until \d{4}-\d\d-\d\d \(\d+ days left\); chain: trusted$/);
    expect(byStep['imap.tls'].data).toMatchObject({ version: expect.stringMatching(/^TLSv1\.[23]$/), subject: 'CN=127.0.0.1', issuer: 'CN=mailops test CA', verdict: 'trusted' });
    expect(byStep['imap.tls'].data.days_left).toBeGreaterThan(300);
    expect(byStep['imap.capabilities'].data.capabilities).toContain('IMAP4rev1');
    expect(byStep['imap.auth_mechanisms'].detail).toContain('PLAIN');
    expect(byStep['imap.login'].detail).toBe(`logged in as ${account.user.email} (AUTHENTICATE PLAIN)`);
    expect(byStep['imap.select'].detail).toBe('EXAMINE INBOX: 0 messages');
    expect(byStep['smtp.ehlo'].data.extensions).toContain('STARTTLS');
    // The capabilities before and after STARTTLS differ: STARTTLS is offered only before.
    expect(byStep['smtp.ehlo_after_starttls'].data.extensions).toContain('AUTH PLAIN LOGIN');
    expect(byStep['smtp.ehlo_after_starttls'].data.extensions).not.toContain('STARTTLS');
    expect(byStep['smtp.rcpt_to'].detail).toContain('dry run');
    expect(row.diagnosis.imap).toMatchObject({ host: '127.0.0.1', port: mailBed().imapsPort, tls_mode: 'implicit', address: '127.0.0.1', ok: true, failure: null });
    expect(row.diagnosis.smtp.tls.verdict).toBe('trusted');
    // Nothing was sent by the dry run: the SMTP server took no message from or for this user.
    expect(receivedMessages((m) => m.authUser === account.user.user || m.rcptTo.includes(account.user.email.toLowerCase()))).toEqual([]);
    expect(await listUids(account.user, 'INBOX')).toEqual([]);
  });

  it('prints a table for people and a one-line verdict on stderr; --trace redacts the password', async () => {
    const account = await connectedAccount('diag-trace');
    const result = await account.cli(['status', '--diagnose', '--trace']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(IMAP_STEPS.length + SMTP_STEPS.length);
    expect(lines[0]).toMatch(/^main\timap\.dns\tok\t\d+\t127\.0\.0\.1 is an address: no lookup$/);
    expect(result.stderr).toMatch(/main: IMAP and SMTP ok/);
    expect(result.stderr).toMatch(/\[imap\] C: d\d+ AUTHENTICATE PLAIN \[REDACTED\]/);
    expect(result.stderr).toMatch(/\[smtp\] C: AUTH PLAIN \[REDACTED\]/);
    expect(result.stderr).toMatch(/\[smtp\] S: 250/);
    expectNoSecret(account.user.password, account.home, result.stdout, result.stderr);
  });
});
