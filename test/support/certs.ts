// Test PKI built with the openssl binary: a private CA for the suite, and server certificates
// signed by it (or self-signed, expired, for the wrong host) for the TLS failure cases.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertAuthority {
  /** Folder holding the CA files; server certificates go in sub-folders of it by default. */
  dir: string;
  certPath: string;
  keyPath: string;
}

export interface ServerCert {
  certPath: string;
  keyPath: string;
  /** The PEM a client must trust to accept this certificate: the CA's, or the cert itself when self-signed. */
  caPath: string;
}

export interface CaOptions {
  cn?: string;
  days?: number;
}

export interface ServerCertOptions {
  cn: string;
  /** DNS names and IP addresses for subjectAltName; default: the CN, localhost and 127.0.0.1. */
  sans?: string[];
  /** Validity from now; ignored when notBefore/notAfter are given. Default 365. */
  days?: number;
  /** Explicit validity window, e.g. both in the past for an expired certificate. */
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with the certificate's own key instead of the CA (the CA argument is then not used). */
  selfSigned?: boolean;
  /** Output folder; default a fresh sub-folder of the CA's folder. */
  dir?: string;
  /** Authority Information Access "CA Issuers" URL: where clients may fetch the issuer (an intermediate). */
  aiaIssuerUrl?: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCa(dir: string, opts: CaOptions = {}): Promise<CertAuthority> {
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca.key');
  await run('openssl', [
    'req', '-x509', ...EC_KEY, '-keyout', keyPath, '-out', certPath,
    '-days', String(opts.days ?? 3650), '-subj', `/CN=${opts.cn ?? 'mailops test CA'}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { dir, certPath, keyPath };
}

/**
 * Issues a server certificate. Uses `openssl ca` with a throw-away database per call, because only
 * it accepts an explicit validity window (x509 -req can only count days from now) and a private
 * database keeps concurrent calls against the same CA from racing on index.txt and serial.
 */
export async function makeServerCert(ca: CertAuthority | null, opts: ServerCertOptions): Promise<ServerCert> {
  if (!opts.selfSigned && !ca) throw new Error('makeServerCert needs a CA unless selfSigned is set');
  const dir = opts.dir ?? (await mkdtemp(join(ca?.dir ?? tmpdir(), `mailops-cert-${safeName(opts.cn)}-`)));
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, '.ca-db-'));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const csrPath = join(work, 'req.csr');

  const sans = opts.sans ?? unique([opts.cn, 'localhost', '127.0.0.1']);
  const altNames = sans.map((name, i) => `${isIP(name) ? 'IP' : 'DNS'}.${i + 1} = ${name}`).join('\n');
  await writeFile(join(work, 'index.txt'), '');
  await writeFile(join(work, 'serial'), randomBytes(8).toString('hex').replace(/^./, '1') + '\n');
  const configPath = join(work, 'openssl.cnf');
  await writeFile(configPath, `
[ ca ]
default_ca = test_ca
[ test_ca ]
database = ${join(work, 'index.txt')}
serial = ${join(work, 'serial')}
new_certs_dir = ${work}
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
[ any_policy ]
commonName = supplied
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = ${opts.cn}
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = @alt_names
${opts.aiaIssuerUrl ? `authorityInfoAccess = caIssuers;URI:${opts.aiaIssuerUrl}` : ''}
[ alt_names ]
${altNames}
`);

  await run('openssl', ['req', '-new', ...EC_KEY, '-keyout', keyPath, '-out', csrPath, '-config', configPath]);
  const validity = opts.notBefore || opts.notAfter
    ? ['-startdate', asn1Time(opts.notBefore ?? new Date(Date.now() - 3600_000)),
       '-enddate', asn1Time(opts.notAfter ?? new Date(Date.now() + 365 * 86400_000))]
    : ['-days', String(opts.days ?? 365)];
  const signer = opts.selfSigned
    ? ['-selfsign', '-keyfile', keyPath]
    : ['-cert', ca!.certPath, '-keyfile', ca!.keyPath];
  await run('openssl', [
    'ca', '-batch', '-notext', '-config', configPath, '-extensions', 'server_ext',
    '-in', csrPath, '-out', certPath, ...signer, ...validity,
  ]);
  await rm(work, { recursive: true, force: true });
  return { certPath, keyPath, caPath: opts.selfSigned ? certPath : ca!.certPath };
}

/** openssl's GeneralizedTime form: YYYYMMDDHHMMSSZ. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

function safeName(cn: string): string {
  return cn.replace(/[^A-Za-z0-9.-]/g, '_');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

