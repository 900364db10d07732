// Discovery for connect without hosts, against a local DNS server (dnsmasq: SRV, MX and A records)
// and a local HTTP server for autoconfig documents: each source is asked, --explain shows what it
// said, and a connect that found its servers logs in and keeps working (every later connection
// resolves through MAILOPS_DNS_SERVERS too, and TLS checks the discovered name).
import { join } from 'node:path';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailBed } from '../support/bed.js';
import { makeCa, makeServerCert, type CertAuthority } from '../support/certs.js';
import { makeHome, runCli } from '../support/cli.js';
import { startDns, type DnsServer } from '../support/dns.js';
import { startDovecot, type Dovecot } from '../support/dovecot.js';
import { startFakeImap, startFakeSmtp, startHttp } from '../support/failure-servers.js';
import { startSmtp, type SmtpServerHandle } from '../support/smtp.js';
import { PASSPHRASE, jsonError, parseJson } from './helpers.js';

const MAIL_HOST = 'mail.disco.test';
let ca: CertAuthority;
let dovecot: Dovecot;
let smtp: SmtpServerHandle;
let dns: DnsServer;
const routes: Record<string, [number, string, string]> = {};
let http: Awaited<ReturnType<typeof startHttp>>;
let env: Record<string, string>;
/** An https autoconfig host (tls.test) whose paths redirect: /to-http.xml to plain http, /to-https.xml to https. */
let https: HttpsServer;
let httpsPort: number;

function clientConfig(imapPort: number, smtpPort: number, socketTypes: [string, string] = ['SSL', 'STARTTLS']): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="auto.test">
    <domain>auto.test</domain>
    <incomingServer type="pop3"><hostname>pop.auto.test</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
    <incomingServer type="imap">
      <hostname>${MAIL_HOST}</hostname>
      <port>${imapPort}</port>
      <socketType>${socketTypes[0]}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>${MAIL_HOST}</hostname>
      <port>${smtpPort}</port>
      <socketType>${socketTypes[1]}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>`;
}

beforeAll(async () => {
  ca = await makeCa(join(mailBed().tmpDir, `disco-ca-${Date.now()}`));
  const cert = await makeServerCert(ca, { cn: MAIL_HOST, sans: [MAIL_HOST, '127.0.0.1'] });
  dovecot = await startDovecot({ ca, cert, users: 2 });
  smtp = await startSmtp({ dovecot, ca, cert });
  http = await startHttp(routes);
  const xml = clientConfig(dovecot.imapsPort, smtp.port);
  routes['autoconfig.auto.test/mail/config-v1.1.xml'] = [200, 'text/xml', xml];
  routes['wellknown.test/.well-known/autoconfig/mail/config-v1.1.xml'] = [200, 'application/xml', xml];
  routes['autoconfig.plain.test/mail/config-v1.1.xml'] = [200, 'text/xml', clientConfig(dovecot.imapPort, smtp.port, ['PLAIN', 'plain'])];
  const tlsCert = await makeServerCert(ca, { cn: 'tls.test', sans: ['tls.test'] });
  https = createHttpsServer({ cert: readFileSync(tlsCert.certPath), key: readFileSync(tlsCert.keyPath) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/to-http.xml') res.writeHead(302, { location: `http://autoconfig.auto.test:${http.port}/mail/config-v1.1.xml` }).end();
    else if (path === '/to-https.xml') res.writeHead(301, { location: '/doc.xml' }).end();
    else if (path === '/doc.xml') res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
    else res.writeHead(404).end();
  });
  httpsPort = await new Promise<number>((resolve) => https.listen(0, '127.0.0.1', () => resolve((https.address() as { port: number }).port)));
  dns = await startDns({
    a: [
      [MAIL_HOST, '127.0.0.1'],
      ['autoconfig.auto.test', '127.0.0.1'],
      ['autoconfig.plain.test', '127.0.0.1'],
      ['tls.test', '127.0.0.1'],
      ['wellknown.test', '127.0.0.1'],
      ['imap.probe.test', '127.0.0.1'],
      ['smtp.probe.test', '127.0.0.1'],
    ],
    srv: [
      { name: '_imaps._tcp.srv.test', target: MAIL_HOST, port: dovecot.imapsPort, priority: 0, weight: 1 },
      { name: '_imap._tcp.srv.test', target: MAIL_HOST, port: dovecot.imapPort, priority: 0, weight: 1 },
      { name: '_submissions._tcp.srv.test', target: null },
      { name: '_submission._tcp.srv.test', target: MAIL_HOST, port: smtp.port, priority: 0, weight: 1 },
    ],
    mx: [
      { domain: 'mx.test', host: 'aspmx.l.google.com', preference: 1 },
      { domain: 'mx.test', host: 'alt1.aspmx.l.google.com', preference: 5 },
      { domain: 'ms.test', host: 'ms-test.mail.protection.outlook.com', preference: 0 },
    ],
  });
  env = {
    ...dns.env,
    MAILOPS_AUTOCONFIG_URLS: `http://autoconfig.{domain}:${http.port}/mail/config-v1.1.xml?emailaddress={email},http://{domain}:${http.port}/.well-known/autoconfig/mail/config-v1.1.xml`,
    MAILOPS_PASSPHRASE: PASSPHRASE,
  };
});

afterAll(async () => {
  await Promise.all([smtp?.stop(), http?.stop(), dns?.stop(), new Promise((resolve) => (https ? https.close(resolve) : resolve(undefined)))]);
  await dovecot?.stop();
});

async function explain(email: string, extraEnv: Record<string, string> = {}) {
  const result = await runCli(['connect', '--explain', '--json', '--email', email], { home: makeHome(), env: { ...env, ...extraEnv } });
  return { result, discovery: parseJson(result).discovery };
}

describe('discovery', () => {
  it('RFC 6186/8314 SRV records: implicit TLS preferred, "." means not offered; connect logs in and the account keeps working', async () => {
    const { result, discovery } = await explain('alice@srv.test');
    expect(result.code, result.stderr).toBe(0);
    expect(discovery.imap).toEqual({ host: MAIL_HOST, port: dovecot.imapsPort, tls: 'implicit', source: 'srv', user: null });
    expect(discovery.smtp).toEqual({ host: MAIL_HOST, port: smtp.port, tls: 'starttls', source: 'srv', user: null });
    const srv = discovery.sources.filter((s: { source: string }) => s.source === 'srv');
    expect(srv.map((s: { query: string }) => s.query)).toEqual(['_imaps._tcp.srv.test', '_imap._tcp.srv.test', '_submissions._tcp.srv.test', '_submission._tcp.srv.test']);
    expect(srv[2]).toMatchObject({ found: false, said: 'not offered (target ".")' });
    expect(discovery.sources.filter((s: { source: string }) => s.source === 'autoconfig').every((s: { found: boolean }) => !s.found)).toBe(true);

    const user = dovecot.users[0]!;
    const home = makeHome();
    const connect = await runCli(['connect', 'disco', '--email', 'alice@srv.test', '--user', user.user, '--password-env', 'PW', '--secret-store', 'file', '--ca-file', ca.certPath], {
      home,
      env: { ...env, PW: user.password },
    });
    expect(connect.code, connect.stderr).toBe(0);
    expect(connect.stderr).toContain(`IMAP server: ${MAIL_HOST}:${dovecot.imapsPort} (implicit), from srv`);
    const saved = parseJson(await runCli(['status', '--json'], { home, env })).accounts[0];
    expect(saved).toMatchObject({ name: 'disco', email: 'alice@srv.test', state: 'active' });
    const folders = await runCli(['folders', '--json'], { home, env });
    expect(folders.code, folders.stderr).toBe(0);
    expect(parseJson(folders).folders.map((f: { path: string }) => f.path)).toContain('INBOX');
  });

  it('autoconfig.DOMAIN, then DOMAIN/.well-known/autoconfig: the document gives servers and the login name', async () => {
    const auto = await explain('bob@auto.test');
    expect(auto.result.code).toBe(0);
    expect(auto.discovery.imap).toEqual({ host: MAIL_HOST, port: dovecot.imapsPort, tls: 'implicit', source: 'autoconfig', user: 'bob@auto.test' });
    expect(auto.discovery.smtp).toEqual({ host: MAIL_HOST, port: smtp.port, tls: 'starttls', source: 'autoconfig', user: 'bob@auto.test' });
    const [first, second] = auto.discovery.sources;
    expect(first).toMatchObject({ source: 'autoconfig', query: `http://autoconfig.auto.test:${http.port}/mail/config-v1.1.xml?emailaddress=bob%40auto.test`, found: true });
    // auto.test itself has no address (only names below it do).
    expect(second).toMatchObject({ source: 'autoconfig', found: false, said: 'no record' });

    const known = await explain('carol@wellknown.test');
    expect(known.discovery.imap).toMatchObject({ host: MAIL_HOST, source: 'autoconfig', user: 'carol@wellknown.test' });
    expect(known.discovery.sources[0]).toMatchObject({ found: false, said: 'no such name' });
    expect(known.discovery.sources[1]).toMatchObject({ found: true, query: `http://wellknown.test:${http.port}/.well-known/autoconfig/mail/config-v1.1.xml` });
    expect(http.requests).toContain(`wellknown.test:${http.port}/.well-known/autoconfig/mail/config-v1.1.xml`);

    // For people: a table of every source, and what was found on stderr.
    const table = await runCli(['connect', '--explain', '--email', 'bob@auto.test'], { home: makeHome(), env });
    expect(table.stdout).toMatch(/^autoconfig\thttp:\/\/autoconfig\.auto\.test:\d+\/mail\/config-v1\.1\.xml\?emailaddress=bob%40auto\.test\tyes\t\d+\tIMAP mail\.disco\.test:\d+ implicit \(user bob@auto\.test\); SMTP mail\.disco\.test:\d+ starttls/m);
    expect(table.stdout).toMatch(/^srv\t_imaps\._tcp\.auto\.test\tno\t\d+\tno such name$/m);
    expect(table.stderr).toContain(`IMAP: ${MAIL_HOST}:${dovecot.imapsPort} (implicit), from autoconfig, user bob@auto.test`);
  });

  it('an autoconfig server without TLS (socketType PLAIN) is reported, never chosen: connect does not send the password to it', async () => {
    const { result, discovery } = await explain('gus@plain.test');
    expect(result.code).toBe(4);
    expect(discovery.imap).toBeNull();
    expect(discovery.smtp).toBeNull();
    expect(discovery.sources[0]).toMatchObject({ source: 'autoconfig', found: false, said: `IMAP ${MAIL_HOST}:${dovecot.imapPort} plain text, not used (user gus@plain.test); SMTP ${MAIL_HOST}:${smtp.port} plain text, not used (user gus@plain.test)` });

    const connect = await runCli(['connect', 'plain', '--email', 'gus@plain.test', '--password-env', 'PW', '--secret-store', 'file', '--json'], { home: makeHome(), env: { ...env, PW: 'secret-pw' } });
    expect(connect.code).toBe(4);
    expect(jsonError(connect)).toMatchObject({ code: 'DISCOVERY_FAILED' });
  });

  it('an https autoconfig URL may redirect to https, never to plain http', async () => {
    const trusted = { NODE_EXTRA_CA_CERTS: ca.certPath };
    const followed = await explain('hal@tls.test', { ...trusted, MAILOPS_AUTOCONFIG_URLS: `https://{domain}:${httpsPort}/to-https.xml` });
    expect(followed.discovery.sources[0]).toMatchObject({ found: true });
    expect(followed.discovery.imap).toMatchObject({ host: MAIL_HOST, source: 'autoconfig', tls: 'implicit' });

    const before = http.requests.length;
    const refused = await explain('hal@tls.test', { ...trusted, MAILOPS_AUTOCONFIG_URLS: `https://{domain}:${httpsPort}/to-http.xml` });
    expect(refused.discovery.sources[0]).toMatchObject({ source: 'autoconfig', found: false, said: `refused a redirect from https to http (http://autoconfig.auto.test:${http.port})` });
    expect(refused.discovery.imap?.source).not.toBe('autoconfig');
    expect(http.requests.length).toBe(before);
  });

  it('connect --diagnose with just an address discovers the servers and checks every step', async () => {
    const user = dovecot.users[1]!;
    const result = await runCli(['connect', '--diagnose', '--json', '--email', 'bob@auto.test', '--user', user.user, '--password-env', 'PW', '--ca-file', ca.certPath], {
      home: makeHome(),
      env: { ...env, PW: user.password },
    });
    expect(result.code, result.stderr).toBe(0);
    const [row] = parseJson(result).accounts;
    expect(row.discovery.imap.source).toBe('autoconfig');
    expect(row.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(row.checks.find((c: { step: string }) => c.step === 'imap.dns').detail).toBe(`${MAIL_HOST}: A 127.0.0.1, AAAA none; using 127.0.0.1`);
    expect(row.checks.find((c: { step: string }) => c.step === 'imap.tls').data.subject).toBe(`CN=${MAIL_HOST}`);
  });

  it('MX records name the provider: Google and Microsoft 365 servers', async () => {
    const google = await explain('dan@mx.test');
    expect(google.discovery).toMatchObject({
      provider: 'gmail',
      imap: { host: 'imap.gmail.com', port: 993, tls: 'implicit', source: 'mx' },
      smtp: { host: 'smtp.gmail.com', port: 465, tls: 'implicit', source: 'mx' },
    });
    expect(google.discovery.sources.find((s: { source: string }) => s.source === 'mx')).toMatchObject({ found: true, said: 'aspmx.l.google.com (1), alt1.aspmx.l.google.com (5): Google' });
    const microsoft = await explain('erin@ms.test');
    expect(microsoft.discovery).toMatchObject({ provider: 'outlook', imap: { host: 'outlook.office365.com', source: 'mx' }, smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' } });
  });

  it('nothing found: connect exits 4 (DISCOVERY_FAILED) naming the flags, --explain shows every source tried', async () => {
    const result = await runCli(['connect', 'x', '--email', 'eve@void.test', '--password-env', 'PW', '--json'], { home: makeHome(), env: { ...env, PW: 'x' } });
    expect(result.code).toBe(4);
    expect(jsonError(result)).toMatchObject({ code: 'DISCOVERY_FAILED' });
    expect(jsonError(result).hint).toContain('--imap-host and --smtp-host');
    const { result: explained, discovery } = await explain('eve@void.test');
    expect(explained.code).toBe(4);
    const kinds = discovery.sources.map((s: { source: string }) => s.source);
    expect(kinds.filter((k: string) => k === 'probe')).toHaveLength(12);
    expect(new Set(kinds)).toEqual(new Set(['autoconfig', 'srv', 'mx', 'probe']));
    expect(discovery.imap).toBeNull();
  });
});

/** Whether this process may listen on a (privileged, well-known) port of 127.0.0.1. */
async function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('probing common host names', () => {
  it('tries implicit TLS (993, 465) before STARTTLS (143, 587) on imap./smtp./mail.DOMAIN', async (context) => {
    if (!(await canListen(143)) || !(await canListen(587))) return context.skip();
    const imap = await startFakeImapOn(143);
    const smtp587 = await startFakeSmtpOn(587);
    try {
      const { result, discovery } = await explain('fred@probe.test');
      expect(result.code, result.stderr).toBe(0);
      expect(discovery.imap).toEqual({ host: 'imap.probe.test', port: 143, tls: 'starttls', source: 'probe', user: null });
      expect(discovery.smtp).toEqual({ host: 'smtp.probe.test', port: 587, tls: 'starttls', source: 'probe', user: null });
      const probes = discovery.sources.filter((s: { source: string }) => s.source === 'probe').map((s: { query: string; found: boolean }) => `${s.query} ${s.found}`);
      expect(probes.slice(0, 2)).toEqual(['imap.probe.test:993 false', 'imap.probe.test:143 true']);
    } finally {
      await Promise.all([imap.stop(), smtp587.stop()]);
    }
  });
});

async function startFakeImapOn(port: number) {
  return startFakeImap({ greeting: 'OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready', loginReply: 'NO nope', port });
}
async function startFakeSmtpOn(port: number) {
  return startFakeSmtp({ extensions: ['STARTTLS', 'SIZE 1000'], port });
}
