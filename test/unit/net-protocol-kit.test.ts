// The protocol kit the sync client and diagnose share (src/net): SASL initial responses,
// capabilities wherever a server states them, INTERNALDATE, and the STARTTLS guard.
import { describe, expect, it } from 'vitest';
import { authMechanisms, capabilitiesOf, hasCapability } from '../../src/net/imap/capabilities.js';
import { parseInternalDate } from '../../src/net/imap/internal-date.js';
import { ResponseReader, type Response } from '../../src/net/imap/response.js';
import { SASL_OAUTH_ABORT, saslOauthBearer, saslPlain, saslXoauth2 } from '../../src/net/sasl.js';
import { startTlsInjection } from '../../src/net/tls.js';

const decoded = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
const read = (text: string): Response[] => new ResponseReader().push(Buffer.from(text));

describe('SASL initial responses', () => {
  it('PLAIN (RFC 4616): empty authorization identity, user, password; UTF-8', () => {
    expect(decoded(saslPlain('ann@example.com', 'pä ss'))).toBe('\0ann@example.com\0pä ss');
    expect(saslPlain('a', 'b')).toBe('AGEAYg==');
  });

  it('XOAUTH2 and OAUTHBEARER (RFC 7628) as Google and Microsoft take them', () => {
    expect(decoded(saslXoauth2('ann@example.com', 'ya29.t'))).toBe('user=ann@example.com\x01auth=Bearer ya29.t\x01\x01');
    expect(decoded(saslOauthBearer('ann@example.com', 'ya29.t', 'imap.gmail.com', 993))).toBe(
      'n,a=ann@example.com,\x01host=imap.gmail.com\x01port=993\x01auth=Bearer ya29.t\x01\x01',
    );
    expect(decoded(SASL_OAUTH_ABORT.OAUTHBEARER)).toBe('\x01');
    expect(SASL_OAUTH_ABORT.XOAUTH2).toBe('');
  });
});

describe('capabilities', () => {
  it('from a greeting, a CAPABILITY response and a tagged OK, as the server wrote them', () => {
    const [greeting, untagged, tagged, plain] = read(
      '* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN] Dovecot ready.\r\n' +
        '* CAPABILITY IMAP4rev1 LITERAL+ auth=xoauth2 AUTH=OAUTHBEARER\r\n' +
        'a1 OK [CAPABILITY IMAP4rev1 MOVE QRESYNC] Logged in\r\n' +
        '* OK Still here\r\n',
    );
    expect(capabilitiesOf(greeting!)).toEqual(['IMAP4rev1', 'SASL-IR', 'STARTTLS', 'AUTH=PLAIN']);
    expect(capabilitiesOf(untagged!)).toEqual(['IMAP4rev1', 'LITERAL+', 'auth=xoauth2', 'AUTH=OAUTHBEARER']);
    expect(capabilitiesOf(tagged!)).toEqual(['IMAP4rev1', 'MOVE', 'QRESYNC']);
    expect(capabilitiesOf(plain!)).toBeNull();
    expect(capabilitiesOf({ type: 'continuation', tag: '+', text: '' })).toBeNull();
    expect(authMechanisms(capabilitiesOf(untagged!)!)).toEqual(['XOAUTH2', 'OAUTHBEARER']);
    expect(hasCapability(capabilitiesOf(greeting!)!, 'starttls')).toBe(true);
    expect(hasCapability(capabilitiesOf(greeting!)!, 'LOGINDISABLED')).toBe(false);
  });
});

describe('the STARTTLS guard', () => {
  it('refuses a server that sent anything between its STARTTLS reply and the handshake', () => {
    expect(startTlsInjection(0)).toBeNull();
    expect(startTlsInjection(1)).toMatch(/sent data after the STARTTLS reply, before the handshake/);
  });
});

describe('INTERNALDATE', () => {
  it('reads the fixed format with its zone, the day space-padded or not', () => {
    expect(parseInternalDate('17-Jul-1996 02:44:25 -0700')?.toISOString()).toBe('1996-07-17T09:44:25.000Z');
    expect(parseInternalDate(' 3-Dec-2026 10:00:00 +0100')?.toISOString()).toBe('2026-12-03T09:00:00.000Z');
    expect(parseInternalDate('03-dec-2026 10:00:00 +0000')?.toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(parseInternalDate('Thu, 3 Dec 2026 10:00:00 +0000')).toBeNull();
    expect(parseInternalDate('3-Foo-2026 10:00:00 +0000')).toBeNull();
    expect(parseInternalDate(null)).toBeNull();
  });
});
