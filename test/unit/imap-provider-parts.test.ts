// The IMAP provider's pure parts: error mapping for failures the real-server suite cannot
// provoke (DNS, odd server replies), folder roles for servers other than Dovecot, attachment
// detection, and the masking of credentials in --trace output.
import type { ListResponse, MessageStructureObject } from 'imapflow';
import { describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { hasAttachments } from '../../src/providers/imap/envelope.js';
import { mapImapError, mapSmtpError, type EndpointContext } from '../../src/providers/imap/errors.js';
import { toFolders } from '../../src/providers/imap/folders.js';
import { ImapProtocolLog, SmtpProtocolLog } from '../../src/providers/imap/trace.js';

const imap: EndpointContext = { protocol: 'IMAP', host: 'mail.example.com', port: 993, tls: 'implicit', user: 'ann@example.com' };
const smtp: EndpointContext = { protocol: 'SMTP', host: 'mail.example.com', port: 587, tls: 'starttls', user: 'ann@example.com' };

function errorWith(fields: Record<string, unknown>, message = 'boom'): Error {
  return Object.assign(new Error(message), fields);
}

describe('error mapping', () => {
  it('maps DNS failures, naming the host', () => {
    const notFound = mapImapError(errorWith({ code: 'ENOTFOUND' }), imap, 30_000);
    expect(notFound).toMatchObject({ code: 'DNS_FAILED', message: 'cannot resolve mail.example.com: no such host', hint: 'check the host name (--imap-host)' });
    expect(mapImapError(errorWith({ code: 'EAI_AGAIN' }), imap, 30_000).message).toContain('temporarily');
    // nodemailer keeps the socket's code as originalCode.
    expect(mapSmtpError(errorWith({ code: 'EDNS', originalCode: 'ENOTFOUND' }), smtp, 30_000).code).toBe('DNS_FAILED');
  });

  it('a plain-text answer to implicit TLS is a TLS-mode mismatch, by code or by message', () => {
    expect(mapImapError(errorWith({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), imap, 30_000).code).toBe('TLS_MODE_MISMATCH');
    expect(mapImapError(errorWith({ code: 'ERR_SSL_PACKET_LENGTH_TOO_LONG' }), imap, 30_000).code).toBe('TLS_MODE_MISMATCH');
    expect(mapSmtpError(errorWith({ code: 'ESOCKET' }, 'C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), { ...smtp, tls: 'implicit', port: 587 }, 30_000).code).toBe('TLS_MODE_MISMATCH');
  });

  it('maps nodemailer socket errors by their original code', () => {
    const refused = mapSmtpError(errorWith({ code: 'ESOCKET', originalCode: 'ECONNREFUSED' }), smtp, 30_000);
    expect(refused).toMatchObject({ code: 'CONNECTION_REFUSED', message: 'SMTP server mail.example.com:587 refused the connection' });
    const cert = mapSmtpError(errorWith({ code: 'ESOCKET', originalCode: 'SELF_SIGNED_CERT_IN_CHAIN' }), smtp, 30_000);
    expect(cert.code).toBe('TLS_CERT_UNTRUSTED');
    expect(mapSmtpError(errorWith({ code: 'ETIMEDOUT' }), smtp, 30_000)).toMatchObject({ code: 'TIMEOUT', message: 'SMTP server mail.example.com:587 did not respond within 30s' });
  });

  it('maps IMAP login refusals by their response code', () => {
    const disabled = mapImapError(errorWith({ authenticationFailed: true }, 'Login is disabled'), { ...imap, tls: 'none', port: 143 }, 30_000);
    expect(disabled).toMatchObject({ code: 'TLS_MODE_MISMATCH', hint: 'use --imap-tls starttls or --imap-tls implicit' });
    const unavailable = mapImapError(errorWith({ authenticationFailed: true, serverResponseCode: 'UNAVAILABLE', responseText: 'Try later' }), imap, 30_000);
    expect(unavailable.code).toBe('NETWORK');
    const oauth = mapImapError(errorWith({ authenticationFailed: true, oauthError: { status: 'invalid_token' } }), imap, 30_000);
    expect(oauth).toMatchObject({ code: 'AUTH_FAILED', message: 'IMAP server mail.example.com:993 rejected the OAuth access token for ann@example.com (invalid_token)' });
    const noMechanism = mapImapError(errorWith({}, 'Unsupported authentication mechanism'), imap, 30_000);
    expect(noMechanism.code).toBe('UNSUPPORTED');
  });

  it('maps SMTP replies: 535 to AUTH_FAILED, 538 and a refused STARTTLS to TLS_MODE_MISMATCH, refused envelopes to SEND_FAILED', () => {
    const auth = mapSmtpError(errorWith({ code: 'EAUTH', response: '535 5.7.8 Error: authentication failed' }), smtp, 30_000);
    expect(auth).toMatchObject({ code: 'AUTH_FAILED', message: 'SMTP server mail.example.com:587 rejected the login for ann@example.com: 535 5.7.8 Error: authentication failed' });
    const tls = mapSmtpError(errorWith({ code: 'EAUTH', response: '538 5.7.11 Encryption required' }), smtp, 30_000);
    expect(tls.code).toBe('TLS_MODE_MISMATCH');
    const noStarttls = mapSmtpError(errorWith({ code: 'ETLS', response: '502 5.5.1 Unrecognized command' }), smtp, 30_000);
    expect(noStarttls).toMatchObject({ code: 'TLS_MODE_MISMATCH', message: 'SMTP server mail.example.com:587 refused STARTTLS: 502 5.5.1 Unrecognized command' });
    const envelope = mapSmtpError(errorWith({ code: 'EENVELOPE', response: '550 5.1.1 No such user' }), smtp, 30_000);
    expect(envelope).toMatchObject({ code: 'SEND_FAILED', message: 'SMTP server mail.example.com:587 refused the message: 550 5.1.1 No such user' });
  });

  it('passes MailopsErrors through and never puts the connect options in a message', () => {
    const own = new MailopsError('FOLDER_NOT_FOUND', 'no folder named "X"');
    expect(mapImapError(own, imap, 30_000)).toBe(own);
    const unknown = mapImapError({ weird: true, pass: 'hunter22' }, imap, 30_000);
    expect(unknown.code).toBe('FAILED');
    expect(unknown.message).not.toContain('hunter22');
  });
});

function entry(path: string, flags: string[] = [], delimiter = '/'): ListResponse {
  const parts = path.split(delimiter);
  return {
    path,
    pathAsListed: path,
    name: parts[parts.length - 1]!,
    delimiter,
    parent: parts.slice(0, -1),
    parentPath: parts.slice(0, -1).join(delimiter),
    flags: new Set(flags),
    listed: true,
    subscribed: true,
    status: { path, messages: 3, unseen: 1 },
  };
}

describe('folder roles', () => {
  it('uses well-known names when there are no SPECIAL-USE flags, Gmail and INBOX children included', () => {
    const folders = toFolders([
      entry('INBOX'),
      entry('[Gmail]', ['\\Noselect']),
      entry('[Gmail]/All Mail'),
      entry('[Gmail]/Starred'),
      entry('[Gmail]/Sent Mail'),
      entry('[Gmail]/Spam'),
      entry('INBOX.Trash', [], '.'),
      entry('Deleted Items'),
      entry('Clients/Drafts'),
    ]);
    expect(Object.fromEntries(folders.map((f) => [f.path, f.role]))).toEqual({
      INBOX: 'inbox',
      '[Gmail]': null,
      '[Gmail]/All Mail': 'all',
      '[Gmail]/Starred': 'flagged',
      '[Gmail]/Sent Mail': 'sent',
      '[Gmail]/Spam': 'junk',
      'INBOX.Trash': 'trash',
      // Trash is taken already; the second candidate stays a plain folder.
      'Deleted Items': null,
      'Clients/Drafts': null,
    });
    expect(folders.find((f) => f.path === '[Gmail]')).toMatchObject({ selectable: false, unreadCount: null, totalCount: null });
  });

  it('lets a SPECIAL-USE flag win over a well-known name elsewhere', () => {
    const folders = toFolders([entry('Junk'), entry('Bulk', ['\\Junk'])]);
    expect(folders.map((f) => [f.path, f.role])).toEqual([
      ['Junk', null],
      ['Bulk', 'junk'],
    ]);
  });
});

function part(type: string, extra: Partial<MessageStructureObject> = {}): MessageStructureObject {
  return { type, ...extra };
}

describe('attachment detection', () => {
  it('counts attachments and non-inline binary leaves, not text or inline images', () => {
    expect(hasAttachments(part('text/plain'))).toBe(false);
    // Content-Type: text; charset=us-ascii, as Dovecot describes it ("" ""), and as imapflow joins
    // a NIL subtype: text/plain by RFC 2045 5.2, not an attachment.
    expect(hasAttachments(part('/'))).toBe(false);
    expect(hasAttachments(part('text/'))).toBe(false);
    expect(hasAttachments(part('multipart/mixed', { childNodes: [part('/'), part('application/pdf')] }))).toBe(true);
    expect(hasAttachments(part('multipart/alternative', { childNodes: [part('text/plain'), part('text/html')] }))).toBe(false);
    expect(hasAttachments(part('multipart/mixed', { childNodes: [part('text/plain'), part('application/pdf')] }))).toBe(true);
    expect(hasAttachments(part('multipart/mixed', { childNodes: [part('text/plain'), part('text/csv', { disposition: 'attachment' })] }))).toBe(true);
    expect(hasAttachments(part('multipart/related', { childNodes: [part('text/html'), part('image/png', { disposition: 'inline' })] }))).toBe(false);
    expect(hasAttachments(part('multipart/mixed', { childNodes: [part('text/plain'), part('message/rfc822', { childNodes: [part('text/plain')] })] }))).toBe(true);
  });
});

describe('trace masking', () => {
  function imapLines(feed: (log: ImapProtocolLog) => void): string[] {
    const lines: string[] = [];
    feed(new ImapProtocolLog((_source, direction, line) => lines.push(`${direction} ${line}`)));
    return lines;
  }

  it('masks the LOGIN password and every AUTHENTICATE payload until the tagged reply', () => {
    const lines = imapLines((log) => {
      log.debug({ src: 'c', msg: '1 LOGIN "ann@example.com" "s3cret pass"' });
      log.debug({ src: 's', msg: '1 OK Logged in' });
      log.debug({ src: 'c', msg: '2 AUTHENTICATE XOAUTH2 dXNlcj1hbm4BYXV0aD1CZWFyZXIgdG9rZW4BAQ==' });
      log.debug({ src: 'c', msg: '3 AUTHENTICATE LOGIN' });
      log.debug({ src: 's', msg: '+ VXNlcm5hbWU6' });
      log.debug({ src: 'c', msg: 'YW5uQGV4YW1wbGUuY29t' });
      log.debug({ src: 's', msg: '+ UGFzc3dvcmQ6' });
      log.debug({ src: 'c', msg: 'czNjcmV0' });
      log.debug({ src: 's', msg: '3 OK Logged in' });
      log.debug({ src: 'c', msg: '4 SELECT INBOX' });
    });
    expect(lines).toEqual([
      'C 1 LOGIN "ann@example.com" [REDACTED]',
      'S 1 OK Logged in',
      'C 2 AUTHENTICATE XOAUTH2 [REDACTED]',
      'C 3 AUTHENTICATE LOGIN',
      'S + VXNlcm5hbWU6',
      'C [REDACTED]',
      'S + UGFzc3dvcmQ6',
      'C [REDACTED]',
      'S 3 OK Logged in',
      'C 4 SELECT INBOX',
    ]);
  });

  it('masks SMTP AUTH payloads and collects the EHLO keywords', () => {
    const lines: string[] = [];
    const log = new SmtpProtocolLog((_source, direction, line) => lines.push(`${direction} ${line}`));
    log.debug({ tnx: 'client' }, 'EHLO client.example');
    log.debug({ tnx: 'server' }, '250-mail.example.com\n250-PIPELINING\n250 AUTH PLAIN LOGIN');
    log.debug({ tnx: 'client' }, 'AUTH PLAIN AGFubgBzM2NyZXQ=');
    log.debug({ tnx: 'server' }, '235 2.7.0 Accepted');
    log.debug({ tnx: 'client' }, 'AUTH LOGIN');
    log.debug({ tnx: 'server' }, '334 VXNlcm5hbWU6');
    log.debug({ tnx: 'client' }, 'YW5u');
    log.debug({ tnx: 'server' }, '334 UGFzc3dvcmQ6');
    log.debug({ tnx: 'client' }, 'czNjcmV0');
    log.debug({ tnx: 'server' }, '235 2.7.0 Accepted');
    log.debug({ tnx: 'client' }, 'MAIL FROM:<ann@example.com>');
    expect(lines).toEqual([
      'C EHLO client.example',
      'S 250-mail.example.com',
      'S 250-PIPELINING',
      'S 250 AUTH PLAIN LOGIN',
      'C AUTH PLAIN [REDACTED]',
      'S 235 2.7.0 Accepted',
      'C AUTH LOGIN',
      'S 334 VXNlcm5hbWU6',
      'C [REDACTED]',
      'S 334 UGFzc3dvcmQ6',
      'C [REDACTED]',
      'S 235 2.7.0 Accepted',
      'C MAIL FROM:<ann@example.com>',
    ]);
    expect(log.extensions).toEqual(['PIPELINING', 'AUTH PLAIN LOGIN']);
  });
});
