// The failure knowledge: what servers and libraries say, mapped to stable codes with an
// explanation, a hint and the contract's error class. Texts are the providers' real ones.
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/domain/errors.js';
import {
  FAILURE_CODES,
  describeFailure,
  looksLikeNotTls,
  recognizeAuthReply,
  recognizeCertificateError,
  recognizeConnectError,
  recognizeDnsError,
  recognizeEnvelopeReply,
  type FailureContext,
} from '../../src/net/failures.js';

const smtp: FailureContext = { protocol: 'smtp', host: 'smtp.example.com', port: 587, tls: 'starttls', user: 'ann@example.com' };

describe('recognizers', () => {
  it('login replies: Google, Microsoft, throttling, then the protocol codes', () => {
    const imap = (text: string, host = 'imap.example.com', greeting?: string) => recognizeAuthReply({ protocol: 'imap', text, host, greeting });
    const smtpReply = (text: string) => recognizeAuthReply({ protocol: 'smtp', text, host: 'smtp.example.com' });
    expect(imap('NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)', 'imap.gmail.com')).toBe('APP_PASSWORD_REQUIRED');
    expect(smtpReply('534-5.7.9 Application-specific password required. Learn more at 534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp')).toBe('APP_PASSWORD_REQUIRED');
    expect(imap('NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)')).toBe('WEB_LOGIN_REQUIRED');
    expect(smtpReply('535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [BL1P222CA0027.NAMP222.PROD.OUTLOOK.COM]')).toBe('BASIC_AUTH_DISABLED');
    expect(smtpReply('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled')).toBe('BASIC_AUTH_DISABLED');
    expect(imap('NO AUTHENTICATE failed.', 'outlook.office365.com')).toBe('BASIC_AUTH_DISABLED');
    expect(imap('NO LOGIN failed.', 'mail.corp.example', '* OK The Microsoft Exchange IMAP4 service is ready.')).toBe('BASIC_AUTH_DISABLED');
    expect(imap('NO Basic authentication is disabled.')).toBe('BASIC_AUTH_DISABLED');
    // The same words from any other server are an ordinary refusal.
    expect(imap('NO AUTHENTICATE failed.', 'mail.corp.example')).toBe('AUTH_FAILED');
    expect(smtpReply('454 4.7.0 Too many login attempts, please try again later. - gsmtp')).toBe('THROTTLED');
    expect(imap('NO [ALERT] Too many simultaneous connections. (Failure)')).toBe('THROTTLED');
    expect(imap('NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)')).toBe('AUTH_FAILED');
    expect(imap('NO [UNAVAILABLE] Temporary authentication failure')).toBe('AUTH_TEMPORARY');
    expect(imap('NO [PRIVACYREQUIRED] Plaintext authentication disallowed')).toBe('LOGIN_DISABLED');
    expect(smtpReply('535-5.7.8 Username and Password not accepted. 535 5.7.8 https://support.google.com/mail/?p=BadCredentials')).toBe('AUTH_FAILED');
    expect(smtpReply('530 5.7.0 Must issue a STARTTLS command first.')).toBe('STARTTLS_REQUIRED');
    expect(smtpReply('504 5.7.4 Unrecognized authentication type')).toBe('NO_AUTH_MECHANISM');
    expect(smtpReply('454 4.7.0 Temporary authentication failure')).toBe('AUTH_TEMPORARY');
  });

  it('envelope replies: relay, sender, throttling, recipients', () => {
    expect(recognizeEnvelopeReply('rcpt', '554 5.7.1 <x@example.net>: Relay access denied')).toBe('RELAY_DENIED');
    expect(recognizeEnvelopeReply('rcpt', '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain')).toBe('RELAY_DENIED');
    expect(recognizeEnvelopeReply('rcpt', '550 relay not permitted')).toBe('RELAY_DENIED');
    expect(recognizeEnvelopeReply('mail', '553 5.7.1 <a@b.example>: Sender address rejected: not owned by user ann')).toBe('SENDER_NOT_ALLOWED');
    expect(recognizeEnvelopeReply('mail', '550 5.7.60 SMTP; Client does not have permissions to send as this sender')).toBe('SENDER_NOT_ALLOWED');
    expect(recognizeEnvelopeReply('mail', '550 5.4.5 Daily user sending quota exceeded.')).toBe('THROTTLED');
    expect(recognizeEnvelopeReply('mail', '530 5.7.0 Authentication Required')).toBe('AUTH_REQUIRED');
    expect(recognizeEnvelopeReply('rcpt', '550 5.1.1 No such user here')).toBe('RECIPIENT_REJECTED');
  });

  it('socket and certificate errors', () => {
    expect(recognizeDnsError('ENOTFOUND')).toBe('HOST_NOT_FOUND');
    expect(recognizeDnsError('ESERVFAIL')).toBe('DNS_TEMPORARY');
    expect(recognizeConnectError('ECONNREFUSED', 'imap', 993)).toBe('CONNECTION_REFUSED');
    expect(recognizeConnectError('TIMEOUT', 'smtp', 25)).toBe('PORT_25_BLOCKED');
    expect(recognizeConnectError('TIMEOUT', 'smtp', 587)).toBe('TIMEOUT');
    expect(recognizeConnectError('ENETUNREACH', 'imap', 993)).toBe('NETWORK_UNREACHABLE');
    expect(recognizeCertificateError('DEPTH_ZERO_SELF_SIGNED_CERT')).toBe('CERT_SELF_SIGNED');
    expect(recognizeCertificateError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY')).toBe('CERT_UNKNOWN_CA');
    expect(recognizeCertificateError('CERT_HAS_EXPIRED')).toBe('CERT_EXPIRED');
    expect(recognizeCertificateError('ERR_TLS_CERT_ALTNAME_INVALID')).toBe('CERT_WRONG_HOST');
  });

  // One pattern for what diagnose (`code message`) and the providers (codes and messages of an
  // error chain) pass: it had drifted, the providers' copy missing the bare code.
  it('"not TLS": OpenSSL messages and Node codes alike', () => {
    const said = [
      'ERR_SSL_WRONG_VERSION_NUMBER C0D7A9F1:error:0A00010B:SSL routines:ssl3_get_record:wrong version number',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'EPROTO 40E8:error:0A0000C6:SSL routines:tls_get_more_records:packet length too long',
      'ERR_SSL_PACKET_LENGTH_TOO_LONG',
      'error:1408F10B:SSL routines:ssl3_get_record:unknown protocol',
      'error:0A000139:SSL routines::record layer failure',
      'ERR_SSL_HTTP_REQUEST ssl3_get_record:http request',
    ];
    for (const text of said) expect(looksLikeNotTls(text), text).toBe(true);
    for (const text of ['ECONNRESET socket hang up', 'CERT_HAS_EXPIRED certificate has expired', 'ERR_TLS_CERT_ALTNAME_INVALID', 'TIMEOUT no TLS handshake within 5000 ms', 'CLOSED']) {
      expect(looksLikeNotTls(text), text).toBe(false);
    }
  });
});

describe('explanations', () => {
  it('every code has a sentence, a hint and a class with an exit code', () => {
    for (const code of FAILURE_CODES) {
      const f = describeFailure(code, { ...smtp, said: 'the words', facts: {} });
      expect(f.message.length, code).toBeGreaterThan(10);
      expect(f.hint.length, code).toBeGreaterThan(10);
      expect([1, 3, 4, 5, 6]).toContain(exitCodeFor(f.errorCode));
    }
  });

  it('says what works after a TLS-mode mismatch', () => {
    expect(describeFailure('TLS_TO_PLAIN_PORT', { ...smtp, tls: 'implicit', works: { tls: 'starttls', port: 587 } }).hint).toBe('port 587 speaks STARTTLS, not implicit TLS: use --smtp-tls starttls');
    expect(describeFailure('STARTTLS_MISSING', { ...smtp, works: { tls: 'implicit', port: 465 } }).hint).toBe('port 465 speaks implicit TLS: use --smtp-tls implicit --smtp-port 465');
    expect(describeFailure('PORT_25_BLOCKED', { ...smtp, port: 25, timeoutMs: 10_000 }).message).toBe('the connection to smtp.example.com:25 timed out after 10s: many networks (ISPs, clouds) block outgoing port 25');
  });
});

describe('the IMAP provider explains the same way', () => {
  it('uses this knowledge for provider refusals and relay/sender envelopes, keeping its error classes', async () => {
    const { mapImapError, mapSmtpError } = await import('../../src/providers/imap/errors.js');
    const imapCtx = { protocol: 'IMAP' as const, host: 'outlook.office365.com', port: 993, tls: 'implicit' as const, user: 'ann@contoso.com' };
    const smtpCtx = { protocol: 'SMTP' as const, host: 'smtp.gmail.com', port: 465, tls: 'implicit' as const, user: 'ann@gmail.com' };
    const withFields = (fields: Record<string, unknown>, message = 'failed') => Object.assign(new Error(message), fields);

    const outlook = mapImapError(withFields({ authenticationFailed: true, responseText: 'AUTHENTICATE failed.' }), imapCtx, 30_000);
    expect(outlook).toMatchObject({ code: 'AUTH_FAILED', message: 'Microsoft does not accept a password (basic authentication) for ann@contoso.com: AUTHENTICATE failed.' });
    expect(outlook.hint).toContain('--provider outlook');

    const gmail = mapSmtpError(withFields({ code: 'EAUTH', response: '534-5.7.9 Application-specific password required.' }), smtpCtx, 30_000);
    expect(gmail.code).toBe('AUTH_FAILED');
    expect(gmail.message).toContain('Google wants an app password');
    const throttled = mapSmtpError(withFields({ code: 'EAUTH', response: '454 4.7.0 Too many login attempts, please try again later.' }), smtpCtx, 30_000);
    expect(throttled).toMatchObject({ code: 'NETWORK', message: expect.stringContaining('is throttling') });

    const relay = mapSmtpError(withFields({ code: 'EENVELOPE', command: 'RCPT TO', response: '554 5.7.1 <x@example.net>: Relay access denied' }), smtpCtx, 30_000);
    expect(relay).toMatchObject({ code: 'SEND_FAILED', message: expect.stringContaining('refuses to relay') });
  });
});
