// connect --diagnose against servers built for one failure each: every failure comes out as its
// stable code, an explanation, the fix to try and the contract's exit code. Where the TLS mode is
// wrong, the other mode is tried and the hint says what works.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailBed, newUser } from '../support/bed.js';
import { makeCa, makeServerCert, type CertAuthority } from '../support/certs.js';
import { derOf, makeIntermediate, makeLeafWithAia, startFakeImap, startHttp, startSilentServer } from '../support/failure-servers.js';
import { freePort } from '../support/net.js';
import { diagnose, expectFailure, serverTracker } from './diagnose-helpers.js';

let ca: CertAuthority;
const { track, stopAll } = serverTracker();

beforeAll(async () => {
  ca = await makeCa(join(mailBed().tmpDir, `diag-ca-${Date.now()}`));
});

afterAll(stopAll);


describe('connection failures', () => {
  it('a healthy account passes every step; without a password the login is skipped', async () => {
    const user = newUser('diag-healthy');
    const ok = await diagnose(user);
    expect(ok.result.code, ok.result.stderr).toBe(0);
    expect(ok.failed).toBeUndefined();
    const noPassword = await diagnose(user, {}, null);
    expect(noPassword.result.code).toBe(0);
    expect(noPassword.checks.find((c) => c.step === 'imap.login')).toMatchObject({ ok: true, detail: 'skipped: no password given' });
    expect(noPassword.checks.some((c) => c.step === 'imap.select')).toBe(false);
  });

  it('a closed port: CONNECTION_REFUSED, exit 4', async () => {
    const port = await freePort();
    const d = await diagnose(newUser('diag-closed'), { '--imap-port': String(port) });
    const failed = expectFailure(d, 'imap.tcp', 'CONNECTION_REFUSED', 4);
    expect(failed.detail).toBe(`IMAP server 127.0.0.1:${port} refused the connection: nothing listens on that port`);
    expect(failed.hint).toContain('--imap-port');
  });

  it('implicit TLS to a plain-text port: TLS_TO_PLAIN_PORT, and it says the port speaks STARTTLS', async () => {
    const bed = mailBed();
    const d = await diagnose(newUser('diag-tls-plain'), { '--imap-port': String(bed.imapPort) });
    const failed = expectFailure(d, 'imap.tls', 'TLS_TO_PLAIN_PORT', 4);
    expect(failed.hint).toBe(`port ${bed.imapPort} speaks STARTTLS, not implicit TLS: use --imap-tls starttls`);
    const smtp = await diagnose(newUser('diag-tls-plain-smtp'), { '--smtp-port': String(bed.smtpPort), '--smtp-tls': 'implicit' });
    expect(expectFailure(smtp, 'smtp.tls', 'TLS_TO_PLAIN_PORT', 4).hint).toBe(`port ${bed.smtpPort} speaks STARTTLS, not implicit TLS: use --smtp-tls starttls`);
  });

  it('STARTTLS to an implicit-TLS port: PLAIN_TO_TLS_PORT, and it says the port speaks implicit TLS', async () => {
    const bed = mailBed();
    const d = await diagnose(newUser('diag-plain-tls'), { '--smtp-port': String(bed.smtpsPort), '--smtp-tls': 'starttls', '--timeout': '1' });
    const failed = expectFailure(d, 'smtp.greeting', 'PLAIN_TO_TLS_PORT', 4);
    expect(failed.hint).toBe(`port ${bed.smtpsPort} speaks implicit TLS, not STARTTLS: use --smtp-tls implicit`);
  });

  it('a port that accepts and never greets: NO_GREETING, exit 4', async () => {
    const silent = await track(startSilentServer());
    const d = await diagnose(newUser('diag-silent'), { '--imap-port': String(silent.port), '--imap-tls': 'none', '--timeout': '1' });
    const failed = expectFailure(d, 'imap.greeting', 'NO_GREETING', 4);
    expect(failed.detail).toContain('sent no greeting within 1s');
  });

  it('a server without STARTTLS asked for it: STARTTLS_MISSING', async () => {
    const bed = mailBed();
    const d = await diagnose(newUser('diag-nostarttls'), { '--smtp-port': String(bed.smtpPlainPort), '--smtp-tls': 'starttls' });
    expectFailure(d, 'smtp.starttls', 'STARTTLS_MISSING', 4);
  });

  it('an unknown CA (no --ca-file): CERT_UNKNOWN_CA, with the certificate details', async () => {
    const d = await diagnose(newUser('diag-unknown-ca'), { '--ca-file': null });
    const failed = expectFailure(d, 'imap.tls', 'CERT_UNKNOWN_CA', 4);
    expect(failed.detail).toContain('issued by CN=mailops test CA');
    expect(failed.hint).toContain('--ca-file');
    expect(failed.data).toMatchObject({ subject: 'CN=127.0.0.1', issuer: 'CN=mailops test CA', verdict: 'issued by an unknown authority' });
  });

  it('self-signed, expired and wrong-host certificates: each its own code', async () => {
    const selfSigned = await makeServerCert(null, { cn: '127.0.0.1', selfSigned: true, dir: join(ca.dir, 'self') });
    const expired = await makeServerCert(ca, { cn: '127.0.0.1', notBefore: new Date(Date.now() - 10 * 86400e3), notAfter: new Date(Date.now() - 86400e3) });
    const wrongHost = await makeServerCert(ca, { cn: 'wrong.example', sans: ['wrong.example'] });
    const imap = (cert: typeof selfSigned) => track(startFakeImap({ greeting: 'OK ready', loginReply: 'NO [AUTHENTICATIONFAILED] nope', tls: { cert } }));
    const [s1, s2, s3] = await Promise.all([imap(selfSigned), imap(expired), imap(wrongHost)]);

    const self = await diagnose(newUser('diag-self'), { '--imap-port': String(s1.port), '--ca-file': null });
    expect(expectFailure(self, 'imap.tls', 'CERT_SELF_SIGNED', 4).detail).toContain('is self-signed (CN=127.0.0.1)');

    const old = await diagnose(newUser('diag-expired'), { '--imap-port': String(s2.port), '--ca-file': ca.certPath });
    const failed = expectFailure(old, 'imap.tls', 'CERT_EXPIRED', 4);
    expect(failed.detail).toMatch(/expired on \d{4}-\d\d-\d\dT/);
    expect((failed.data as { days_left: number }).days_left).toBeLessThan(0);

    const wrong = await diagnose(newUser('diag-wrong'), { '--imap-port': String(s3.port), '--ca-file': ca.certPath });
    expect(expectFailure(wrong, 'imap.tls', 'CERT_WRONG_HOST', 4).detail).toContain('is not valid for the name 127.0.0.1 (it names wrong.example)');
  });

  it('a certificate whose intermediate the server does not send: CERT_MISSING_INTERMEDIATE', async () => {
    const intermediate = await makeIntermediate(ca, join(ca.dir, 'intermediate'));
    // The issuer URL (AIA) in the certificate points at this server, which serves the intermediate.
    const routes: Record<string, [number, string, Buffer]> = {};
    const http = await track(startHttp(routes));
    const leaf = await makeLeafWithAia(intermediate, `http://127.0.0.1:${http.port}/intermediate.cer`);
    routes['/intermediate.cer'] = [200, 'application/pkix-cert', derOf(intermediate.certPath)];
    const server = await track(startFakeImap({ greeting: 'OK ready', loginReply: 'NO nope', tls: { cert: leaf } }));
    const d = await diagnose(newUser('diag-chain'), { '--imap-port': String(server.port), '--ca-file': ca.certPath });
    const failed = expectFailure(d, 'imap.tls', 'CERT_MISSING_INTERMEDIATE', 4);
    expect(failed.detail).toContain('does not send the intermediate certificate (CN=mailops test intermediate)');
    expect(failed.hint).toContain('full chain');
    // The same server with the intermediate in its chain is trusted.
    const complete = await track(startFakeImap({ greeting: 'OK ready', loginReply: 'NO [AUTHENTICATIONFAILED] nope', tls: { cert: leaf, chain: [intermediate.certPath] } }));
    const ok = await diagnose(newUser('diag-chain-ok'), { '--imap-port': String(complete.port), '--ca-file': ca.certPath });
    expect(ok.checks.find((c) => c.step === 'imap.tls')).toMatchObject({ ok: true });
  });
});
