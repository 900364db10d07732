// Mozilla autoconfig documents (clientConfig v1.1) and the URLs they are fetched from.
import { describe, expect, it } from 'vitest';
import { autoconfigUrls, parseAutoconfig } from '../../src/diagnose/discovery/autoconfig.js';
import { providerForMx } from '../../src/diagnose/discovery/providers.js';

const DOC = `<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.com">
    <incomingServer type="pop3"><hostname>pop.example.com</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.com</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="imap"><hostname>imap2.example.com</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.%EMAILDOMAIN%</hostname><port>465</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>`;

describe('autoconfig', () => {
  it('takes the first IMAP and SMTP server, with placeholders filled in', () => {
    expect(parseAutoconfig(DOC, 'ann@example.com')).toEqual({
      imap: { host: 'imap.example.com', port: 143, tls: 'starttls', user: 'ann' },
      smtp: { host: 'smtp.example.com', port: 465, tls: 'implicit', user: 'ann@example.com' },
    });
  });

  it('skips a plain-text server (socketType PLAIN) for a later one with TLS, and gives it only when there is no other', () => {
    const server = (host: string, socket: string) => `<incomingServer type="imap"><hostname>${host}</hostname><port>143</port><socketType>${socket}</socketType></incomingServer>`;
    const doc = (...servers: string[]) => `<clientConfig version="1.1"><emailProvider id="x">${servers.join('')}</emailProvider></clientConfig>`;
    expect(parseAutoconfig(doc(server('plain.x', 'plain'), server('tls.x', 'STARTTLS')), 'a@x')?.imap).toMatchObject({ host: 'tls.x', tls: 'starttls' });
    expect(parseAutoconfig(doc(server('plain.x', 'PLAIN'), server('plain2.x', 'PLAIN')), 'a@x')?.imap).toMatchObject({ host: 'plain.x', tls: 'none' });
  });

  it('is null for anything else', () => {
    expect(parseAutoconfig('<html>not found</html>', 'a@b.c')).toBeNull();
    expect(parseAutoconfig('<clientConfig><emailProvider/></clientConfig>', 'a@b.c')).toBeNull();
  });

  it('asks autoconfig.DOMAIN, DOMAIN/.well-known (https), then autoconfig.DOMAIN over http; MAILOPS_AUTOCONFIG_URLS replaces them', () => {
    expect(autoconfigUrls({}, 'a+b@example.com', 'example.com')).toEqual([
      'https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com',
      'https://example.com/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com',
      'http://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=a%2Bb%40example.com',
    ]);
    expect(autoconfigUrls({ MAILOPS_AUTOCONFIG_URLS: 'http://127.0.0.1:8080/{domain}.xml' }, 'a@x.test', 'x.test')).toEqual(['http://127.0.0.1:8080/x.test.xml']);
  });

  it('recognizes Google and Microsoft 365 by their MX hosts', () => {
    expect(providerForMx('aspmx.l.google.com.')?.name).toBe('gmail');
    expect(providerForMx('smtp.google.com')?.name).toBe('gmail');
    expect(providerForMx('contoso-com.mail.protection.outlook.com')?.name).toBe('outlook');
    expect(providerForMx('mx.example.com')).toBeNull();
    expect(providerForMx('google.com.evil.example')).toBeNull();
  });
});
