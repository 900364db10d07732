// A real SMTP submission server for the tests (the smtp-server library), authenticating against
// the Dovecot passwd-file and delivering local mail into Dovecot over LMTP, so a message sent by
// mailops can be read back by IMAP. Every accepted message is also recorded for assertions: in
// memory, and as a JSON file in the spool folder for test workers in other processes.
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { makeCa, makeServerCert, type CertAuthority, type ServerCert } from './certs.js';
import type { Dovecot } from './dovecot.js';
import { HOST } from './net.js';
import { lookupPassword } from './users.js';

/** RCPT TO any address in this domain is refused with 550, for partial-rejection tests. */
export const RELAY_DENIED_DOMAIN = 'relay-denied.test';

export type SmtpListener = 'starttls' | 'smtps' | 'plain';

/** One accepted message. In the spool file `raw` is base64. */
export interface ReceivedMessage {
  id: string;
  receivedAt: string;
  listener: SmtpListener;
  /** The AUTH login used. */
  authUser: string;
  /** MAIL FROM; '' for the null sender. */
  mailFrom: string;
  /** Accepted RCPT TO addresses (lower-cased). */
  rcptTo: string[];
  /** The local recipients it was delivered to over LMTP; the others were accepted and dropped. */
  delivered: string[];
  raw: Buffer;
}

export interface SmtpOptions {
  dovecot: Pick<Dovecot, 'lmtpPort' | 'usersDir' | 'mailDomain'>;
  /** Folder for the spool (and a CA when none is given); default a temp folder that stop() removes. */
  dir?: string;
  ca?: CertAuthority;
  /** Certificate for STARTTLS and implicit TLS; default issued by `ca` for 127.0.0.1. */
  cert?: ServerCert;
  /**
   * Also offer AUTH XOAUTH2, each token checked against this RFC 7662 introspection endpoint
   * (active, and issued to the login user); a refused token gets the SASL error challenge.
   */
  oauth2?: { introspectionUrl: string };
}

export interface SmtpServerHandle {
  host: typeof HOST;
  /** Submission with STARTTLS; AUTH only after STARTTLS. */
  port: number;
  /** Implicit TLS (smtps). */
  smtpsPort: number;
  /** No TLS at all; AUTH in the clear allowed (for `--smtp-tls none`). */
  plainPort: number;
  caFile: string;
  /** One `<time>-<n>.json` per accepted message (see ReceivedMessage). */
  spoolDir: string;
  /** Messages accepted by this process's server. */
  messages: ReceivedMessage[];
  stop(): Promise<void>;
}

export async function startSmtp(opts: SmtpOptions): Promise<SmtpServerHandle> {
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mailops-smtp-'));
  const spoolDir = join(dir, 'spool');
  mkdirSync(spoolDir, { recursive: true });
  const cert = opts.cert ?? (await makeServerCert(opts.ca ?? (await makeCa(join(dir, 'ca'))), { cn: HOST, sans: [HOST, 'localhost'], dir: join(dir, 'server-cert') }));
  const tls = { key: readFileSync(cert.keyPath), cert: readFileSync(cert.certPath) };
  const { dovecot } = opts;
  const lmtp = createTransport({ lmtp: true, host: HOST, port: dovecot.lmtpPort, secure: false, ignoreTLS: true });
  const messages: ReceivedMessage[] = [];
  let sequence = 0;
  const localDomain = `@${dovecot.mailDomain}`;

  const handlers = (listener: SmtpListener): SMTPServerOptions => ({
    name: 'smtp.mailops.test',
    banner: 'mailops test SMTP',
    authMethods: opts.oauth2 ? ['PLAIN', 'LOGIN', 'XOAUTH2'] : ['PLAIN', 'LOGIN'],
    size: 50 * 1024 * 1024,
    logger: false,
    closeTimeout: 1_000,
    ...tls,
    onAuth(auth, _session, callback) {
      if (auth.method === 'XOAUTH2') {
        if (!opts.oauth2) return callback(smtpError(504, '5.5.4 Unrecognized authentication type'));
        const user = auth.username!.toLowerCase();
        introspect(opts.oauth2.introspectionUrl, auth.accessToken ?? '').then(
          (info) => {
            if (info.active === true && String(info.username ?? '').toLowerCase() === user) return callback(null, { user });
            callback(null, { data: { status: '401', schemes: 'bearer', scope: String(info.scope ?? '') } });
          },
          (err: Error) => callback(smtpError(454, `4.7.0 Temporary authentication failure: ${err.message}`)),
        );
        return;
      }
      const expected = auth.username ? lookupPassword(dovecot.usersDir, auth.username) : undefined;
      if (expected !== undefined && auth.password === expected) return callback(null, { user: auth.username!.toLowerCase() });
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      const rcpt = address.address.toLowerCase();
      if (rcpt.endsWith(`@${RELAY_DENIED_DOMAIN}`)) return callback(smtpError(550, '5.7.1 Relaying denied'));
      if (rcpt.endsWith(localDomain) && lookupPassword(dovecot.usersDir, rcpt) === undefined) {
        return callback(smtpError(550, '5.1.1 No such user here'));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, '5.3.4 Message too big'));
        const raw = Buffer.concat(chunks);
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcptTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const local = rcptTo.filter((r) => r.endsWith(localDomain));
        // Deliver before answering 250, so the message is in the mailbox when the sender returns.
        const delivery = local.length
          ? lmtp.sendMail({ envelope: { from: mailFrom, to: local }, raw })
          : Promise.resolve({ accepted: [], rejected: [] });
        delivery.then(
          (info) => {
            if (info.rejected.length) return callback(smtpError(451, `4.3.0 LMTP refused ${info.rejected.join(', ')}`));
            const message: ReceivedMessage = {
              id: `${Date.now()}-${process.pid}-${++sequence}`,
              receivedAt: new Date().toISOString(),
              listener,
              authUser: String(session.user),
              mailFrom,
              rcptTo,
              delivered: local,
              raw,
            };
            messages.push(message);
            writeSpool(spoolDir, message);
            callback(null, `2.0.0 Ok: queued as ${message.id}`);
          },
          (err: Error) => callback(smtpError(451, `4.3.0 LMTP delivery failed: ${err.message}`)),
        );
      });
    },
  });

  const servers = [
    new SMTPServer({ ...handlers('starttls') }),
    new SMTPServer({ ...handlers('smtps'), secure: true }),
    new SMTPServer({ ...handlers('plain'), disabledCommands: ['STARTTLS'], allowInsecureAuth: true }),
  ] as const;
  const [port, smtpsPort, plainPort] = await Promise.all(servers.map(listen));

  return {
    host: HOST,
    port: port!,
    smtpsPort: smtpsPort!,
    plainPort: plainPort!,
    caFile: cert.caPath,
    spoolDir,
    messages,
    async stop() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      lmtp.close();
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listen(server: SMTPServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.server.address();
      if (address && typeof address === 'object') resolve(address.port);
      else reject(new Error('SMTP server has no port'));
    });
  });
}

async function introspect(url: string, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  if (!response.ok) throw new Error(`introspection answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** Written to a temp name and renamed, so a reader never sees half a file. */
function writeSpool(spoolDir: string, message: ReceivedMessage): void {
  const file = join(spoolDir, `${message.id}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...message, raw: message.raw.toString('base64') }));
  renameSync(`${file}.tmp`, file);
}
