// What servers say when they refuse a login or an envelope, as the big providers really say it
// (fake servers answering with Google's and Microsoft's texts), Dovecot's LOGINDISABLED, a relay
// refusal, and a host the DNS does not know: each mapped to its code, explanation and exit code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newUser } from '../support/bed.js';
import { startDns } from '../support/dns.js';
import { PLAINTEXT_CHECK_HOST, startDovecot } from '../support/dovecot.js';
import { startFakeImap, startFakeSmtp } from '../support/failure-servers.js';
import { expectNoSecret } from './helpers.js';
import { diagnose, expectFailure, serverTracker } from './diagnose-helpers.js';

const { track, stopAll } = serverTracker();
afterAll(stopAll);

const plainImap = (port: number) => ({ '--imap-port': String(port), '--imap-tls': 'none' });
const plainSmtp = (port: number) => ({ '--smtp-port': String(port), '--smtp-tls': 'none' });

describe('refused logins', () => {
  it('a wrong password: AUTH_FAILED, exit 3, the password nowhere in the output', async () => {
    const user = newUser('diag-wrongpw');
    const d = await diagnose(user, {}, 'not-the-password');
    const failed = expectFailure(d, 'imap.login', 'AUTH_FAILED', 3);
    expect(failed.detail).toContain(`rejected the login for ${user.email}`);
    expect(failed.detail).toContain('[AUTHENTICATIONFAILED]');
    expectNoSecret('not-the-password', d.home, d.result.stdout, d.result.stderr);
    // connect --diagnose saves nothing.
    expect(existsSync(join(d.home, 'secrets.enc'))).toBe(false);
  });

  it("Gmail's app-password answers (IMAP and SMTP): APP_PASSWORD_REQUIRED, exit 3", async () => {
    const imap = await track(startFakeImap({
      greeting: 'OK Gimap ready for requests from 127.0.0.1 a1mb123456',
      capabilities: 'IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER',
      loginReply: 'NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)',
    }));
    const d = await diagnose(newUser('diag-gmail'), plainImap(imap.port));
    const failed = expectFailure(d, 'imap.login', 'APP_PASSWORD_REQUIRED', 3);
    expect(failed.detail).toContain('Google wants an app password');
    expect(failed.hint).toContain('apppasswords');

    const smtp = await track(startFakeSmtp({
      authReply: '534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor n18sm8811765wru.2 - gsmtp',
    }));
    const s = await diagnose(newUser('diag-gmail-smtp'), plainSmtp(smtp.port));
    expect(expectFailure(s, 'smtp.login', 'APP_PASSWORD_REQUIRED', 3).detail).toContain('534-5.7.9 Application-specific password required');
  });

  it("Microsoft's disabled basic authentication (IMAP and SMTP): BASIC_AUTH_DISABLED, exit 3", async () => {
    const imap = await track(startFakeImap({
      greeting: 'OK The Microsoft Exchange IMAP4 service is ready. [TABPADQAUAAxADIAMwBDAEEAMAAyADMAMwAuAEcAQgBSAFAAMQAyADMALgBQAFIATwBEAC4ATwBVAFQATABPAE8ASwAuAEMATwBNAA==]',
      capabilities: 'IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+',
      loginReply: 'NO AUTHENTICATE failed.',
    }));
    const d = await diagnose(newUser('diag-outlook'), plainImap(imap.port));
    const failed = expectFailure(d, 'imap.login', 'BASIC_AUTH_DISABLED', 3);
    expect(failed.hint).toContain('--provider outlook');

    const smtp = await track(startFakeSmtp({
      authReply: '535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BL1P222CA0027.NAMP222.PROD.OUTLOOK.COM 2025-04-12T09:05:49.952Z 08DD78DC148941BA]',
    }));
    const s = await diagnose(newUser('diag-outlook-smtp'), plainSmtp(smtp.port));
    expect(expectFailure(s, 'smtp.login', 'BASIC_AUTH_DISABLED', 3).hint).toContain('SmtpClientAuthenticationDisabled');
  });

  it("Gmail's throttling: THROTTLED, exit 4 (try again later)", async () => {
    const smtp = await track(startFakeSmtp({
      authReply: '454-4.7.0 Too many login attempts, please try again later. Learn more at\r\n454 4.7.0  https://support.google.com/mail/answer/7126229 h6-20020a0561220b6600b0049d21a8f4b6sm1103848vkf.11 - gsmtp',
    }));
    const s = await diagnose(newUser('diag-throttle'), plainSmtp(smtp.port));
    expect(expectFailure(s, 'smtp.login', 'THROTTLED', 4).hint).toContain('try again later');
  });

  it('Dovecot with LOGINDISABLED on its plain port: LOGIN_DISABLED, and it says STARTTLS works there', async () => {
    const dovecot = await track(startDovecot({ plaintextAuth: false, users: 1 }));
    const user = dovecot.users[0]!;
    const smtp = await track(startFakeSmtp({}));
    const d = await diagnose(user, { '--imap-host': PLAINTEXT_CHECK_HOST, ...plainImap(dovecot.imapPort), ...plainSmtp(smtp.port) });
    const failed = expectFailure(d, 'imap.auth_mechanisms', 'LOGIN_DISABLED', 4);
    expect(failed.hint).toBe(`port ${dovecot.imapPort} speaks STARTTLS, not plain text without TLS: use --imap-tls starttls`);
    expect(d.checks.find((c) => c.step === 'imap.capabilities')!.data!.capabilities).toContain('LOGINDISABLED');
  });
});

describe('refused envelopes', () => {
  it('an SMTP server that refuses relay: RELAY_DENIED, exit 1; a sender not allowed: SENDER_NOT_ALLOWED', async () => {
    const relay = await track(startFakeSmtp({ rcptReply: '554 5.7.1 <elsewhere@example.net>: Relay access denied' }));
    const d = await diagnose(newUser('diag-relay'), plainSmtp(relay.port));
    const failed = expectFailure(d, 'smtp.rcpt_to', 'RELAY_DENIED', 1);
    expect(failed.detail).toContain('Relay access denied');
    expect(d.checks.find((c) => c.step === 'smtp.mail_from')).toMatchObject({ ok: true });

    const sender = await track(startFakeSmtp({ mailReply: '553 5.7.1 <someone@else.test>: Sender address rejected: not owned by user alice' }));
    const s = await diagnose(newUser('diag-sender'), plainSmtp(sender.port));
    expectFailure(s, 'smtp.mail_from', 'SENDER_NOT_ALLOWED', 1);
  });
});

describe('DNS', () => {
  it('a host the DNS server does not know: HOST_NOT_FOUND, exit 4; a known one is resolved there and TLS still checks its name', async () => {
    const dns = await track(startDns({ a: [['mail.known.test', '127.0.0.1']] }));
    const d = await diagnose(newUser('diag-nxdomain'), { '--imap-host': 'imap.nowhere.test' }, undefined, dns.env);
    const failed = expectFailure(d, 'imap.dns', 'HOST_NOT_FOUND', 4);
    expect(failed.detail).toBe('cannot resolve imap.nowhere.test: no such host');
    expect(failed.hint).toContain('MAILOPS_DNS_SERVERS');

    const known = await diagnose(newUser('diag-known'), { '--imap-host': 'mail.known.test' }, undefined, dns.env);
    expect(known.checks.find((c) => c.step === 'imap.dns')!.detail).toBe('mail.known.test: A 127.0.0.1, AAAA none; using 127.0.0.1');
    expect(known.checks.find((c) => c.step === 'imap.tcp')!.detail).toMatch(/^connected to 127\.0\.0\.1:\d+$/);
    // The bed's certificate names 127.0.0.1 and localhost, not mail.known.test: the name was checked.
    expectFailure(known, 'imap.tls', 'CERT_WRONG_HOST', 4);
    expect(dns.log()).toContain('query[A] mail.known.test');
  });
});
