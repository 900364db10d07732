/**
 * What a TLS connection is made of, for people: version, cipher, the
 * certificate's subject, names, issuer and expiry, and a verdict on the chain
 * that says which of the usual mistakes it is (self-signed, unknown CA,
 * missing intermediate, wrong host name, expired).
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, rootCertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import { recognizeCertificateError, type FailureCode } from '../net/failures.js';
import { loadCa } from '../net/tls.js';
import { request, type HttpContext } from '../net/http.js';
import type { TlsReport } from './types.js';

const DAY = 86_400_000;

export interface TrustSettings {
  insecure: boolean;
  /** PEM of --ca-file; replaces the system's authorities, as for every other connection. */
  ca: Buffer | null;
}

export async function loadTrust(caFile: string | null, insecure: boolean): Promise<TrustSettings> {
  return { insecure, ca: await loadCa(caFile) };
}

export interface TlsJudgement {
  report: TlsReport;
  /** What is wrong with the certificate, when verification is on; null when nothing is. */
  problem: FailureCode | null;
  facts: Record<string, string | number>;
}

export async function judgeTls(socket: TLSSocket, host: string, trust: TrustSettings, http: HttpContext): Promise<TlsJudgement> {
  // getPeerCertificate first: on Node 20, calling getPeerX509Certificate before it leaves it empty.
  const legacy = socket.getPeerCertificate(true);
  const leaf = socket.getPeerX509Certificate();
  const cipher = socket.getCipher();
  if (!leaf) {
    const report: TlsReport = { version: socket.getProtocol(), cipher: cipher?.standardName ?? cipher?.name ?? null, subject: '', sans: [], issuer: '', not_before: '', not_after: '', days_left: 0, chain: [], verdict: 'no certificate' };
    return { report, problem: trust.insecure ? null : 'CERT_UNTRUSTED', facts: {} };
  }
  const now = Date.now();
  const notAfter = new Date(leaf.validTo);
  const notBefore = new Date(leaf.validFrom);
  const sans = (leaf.subjectAltName ?? '').split(/,\s*/).filter(Boolean);
  const facts: Record<string, string | number> = {
    subject: dn(leaf.subject),
    issuer: dn(leaf.issuer),
    names: sans.map((s) => s.replace(/^(DNS|IP Address):/, '')).join(', ') || dn(leaf.subject),
    not_after: notAfter.toISOString(),
    not_before: notBefore.toISOString(),
    days_left: Math.floor((notAfter.getTime() - now) / DAY),
  };

  let problem: FailureCode | null = null;
  if (notAfter.getTime() < now) problem = 'CERT_EXPIRED';
  else if (notBefore.getTime() > now) problem = 'CERT_NOT_YET_VALID';
  else {
    const chainError = socket.authorized ? null : String(socket.authorizationError ?? 'CERT_UNTRUSTED');
    if (chainError && recognizeCertificateError(chainError) !== 'CERT_WRONG_HOST') {
      problem = recognizeCertificateError(chainError);
      if (problem === 'CERT_UNKNOWN_CA' && chainError !== 'SELF_SIGNED_CERT_IN_CHAIN') {
        const intermediate = await findMissingIntermediate(leaf, trust, http);
        if (intermediate) {
          problem = 'CERT_MISSING_INTERMEDIATE';
          facts.issuer_url = intermediate.url;
        }
      }
    } else if (checkServerIdentity(host, legacy as PeerCertificate)) {
      problem = 'CERT_WRONG_HOST';
    }
  }

  const report: TlsReport = {
    version: socket.getProtocol(),
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    subject: facts.subject as string,
    sans,
    issuer: facts.issuer as string,
    not_before: facts.not_before as string,
    not_after: facts.not_after as string,
    days_left: facts.days_left as number,
    chain: chainSubjects(legacy),
    verdict: problem ? VERDICTS[problem] ?? 'not trusted' : 'trusted',
  };
  if (trust.insecure) {
    report.verdict = problem ? `not checked (--insecure); it would fail: ${report.verdict}` : 'trusted';
    return { report, problem: null, facts };
  }
  return { report, problem, facts };
}

const VERDICTS: Partial<Record<FailureCode, string>> = {
  CERT_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not valid yet',
  CERT_SELF_SIGNED: 'self-signed',
  CERT_UNKNOWN_CA: 'issued by an unknown authority',
  CERT_MISSING_INTERMEDIATE: 'incomplete: the server does not send its intermediate certificate',
  CERT_WRONG_HOST: 'wrong host name',
  CERT_UNTRUSTED: 'not trusted',
};

/** "CN=x\nO=y" as "CN=x, O=y". */
function dn(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

function chainSubjects(cert: PeerCertificate & { issuerCertificate?: PeerCertificate }): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = cert;
  while (current && current.fingerprint256 && !seen.has(current.fingerprint256) && out.length < 10) {
    seen.add(current.fingerprint256);
    const cn = current.subject?.CN;
    out.push(Array.isArray(cn) ? cn.join(', ') : (cn ?? JSON.stringify(current.subject)));
    current = current.issuerCertificate as typeof current;
  }
  return out;
}

/**
 * Whether the certificate's issuer is an intermediate the server should have
 * sent: its AIA "CA Issuers" URL gives it, and it is signed by an authority
 * this machine trusts. Mail clients do not fetch missing intermediates (unlike
 * browsers), so such a server fails for them while it works in a browser.
 */
async function findMissingIntermediate(leaf: X509Certificate, trust: TrustSettings, http: HttpContext): Promise<{ url: string } | null> {
  const url = /CA Issuers - URI:(\S+)/.exec(leaf.infoAccess ?? '')?.[1];
  if (!url) return null;
  let issuer: X509Certificate;
  try {
    const fetched = await request(http, { url, maxBytes: 64 * 1024 });
    if (fetched.status !== 200) return null;
    issuer = new X509Certificate(fetched.body);
  } catch {
    return null;
  }
  if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) return null;
  const anchors = trust.ca ? splitPem(trust.ca.toString('utf8')) : [...rootCertificates];
  for (const pem of anchors) {
    try {
      const anchor = new X509Certificate(pem);
      if (issuer.checkIssued(anchor) && issuer.verify(anchor.publicKey)) return { url };
    } catch {
      // not a certificate: skip
    }
  }
  return null;
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
