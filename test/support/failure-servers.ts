// Small servers built for one failure each, for the diagnosis tests: a port that accepts and never
// greets, scripted IMAP and SMTP servers that answer with a provider's real refusal texts (Gmail's
// app passwords, Microsoft's disabled basic authentication, throttling, relay refused), TLS
// listeners with a chosen certificate, an HTTP server for autoconfig documents and issuer
// certificates, and a certificate chain whose intermediate the server does not send.
import { execFile } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { makeServerCert, type CertAuthority, type ServerCert } from './certs.js';
import { HOST } from './net.js';

const run = promisify(execFile);

export interface Running {
  port: number;
  stop(): Promise<void>;
}

function listen(server: Server | HttpServer, sockets: Set<Socket>, port = 0): Promise<Running> {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Accepts connections and never says a word (nor answers a TLS handshake). */
export async function startSilentServer(): Promise<Running & { nextConnection(): Promise<void> }> {
  const server = createNetServer(() => {});
  const running = await listen(server, new Set());
  // Resolves when the next client has connected: a command is now waiting on us (to interrupt it).
  return { ...running, nextConnection: () => new Promise<void>((resolve) => server.once('connection', () => resolve())) };
}

export interface TlsOption {
  cert: ServerCert;
  /** PEM files appended to the certificate sent (intermediates); default none. */
  chain?: string[];
}

function tlsContext(t: TlsOption) {
  const cert = [readFileSync(t.cert.certPath, 'utf8'), ...(t.chain ?? []).map((f) => readFileSync(f, 'utf8'))].join('\n');
  return { key: readFileSync(t.cert.keyPath), cert };
}

type LineHandler = (line: string, reply: (text: string) => void, socket: Socket) => void;

/** A line-based server, in plain text or implicit TLS, that greets and hands each line to `onLine`. */
function lineServer(greeting: string, onLine: LineHandler, tls?: TlsOption, port = 0): Promise<Running> {
  const sockets = new Set<Socket>();
  const handle = (socket: Socket) => {
    socket.setEncoding('utf8');
    const reply = (text: string) => socket.write(text.endsWith('\r\n') ? text : `${text}\r\n`);
    reply(greeting);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        onLine(line, reply, socket);
      }
    });
  };
  if (tls) {
    const server = createTlsServer(tlsContext(tls), handle);
    server.on('tlsClientError', () => {});
    return listen(server, sockets, port);
  }
  return listen(createNetServer(handle), sockets, port);
}

export interface FakeImapOptions {
  /** The untagged greeting without "* ". Default: OK with capabilities. */
  greeting?: string;
  capabilities?: string;
  /** The tagged reply to LOGIN or AUTHENTICATE, without the tag, e.g. 'NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)'. */
  loginReply: string;
  tls?: TlsOption;
  /** Default: a free one. */
  port?: number;
}

/** An IMAP server that refuses every login with the given words (a provider's real response). */
export function startFakeImap(opts: FakeImapOptions): Promise<Running> {
  const capabilities = opts.capabilities ?? 'IMAP4rev1 AUTH=PLAIN SASL-IR';
  return lineServer(`* ${opts.greeting ?? 'OK The Microsoft Exchange IMAP4 service is ready.'}`, (line, reply, socket) => {
    const [tag, command = ''] = line.split(' ');
    if (!tag) return;
    switch (command.toUpperCase()) {
      case 'CAPABILITY':
        reply(`* CAPABILITY ${capabilities}`);
        return reply(`${tag} OK CAPABILITY completed.`);
      case 'LOGIN':
      case 'AUTHENTICATE':
        return reply(`${tag} ${opts.loginReply}`);
      case 'LOGOUT':
        reply('* BYE signing off.');
        reply(`${tag} OK LOGOUT completed.`);
        return socket.end();
      default:
        if (/^[A-Za-z0-9+/=]*$/.test(tag) && command === '') return; // a SASL continuation answer
        return reply(`${tag} BAD Command Error. 12`);
    }
  }, opts.tls, opts.port);
}

export interface FakeSmtpOptions {
  greeting?: string;
  /** EHLO keywords after the first line. */
  extensions?: string[];
  authReply?: string;
  mailReply?: string;
  rcptReply?: string;
  /** After the message's final dot: a reply, or 'drop' to close the connection without one (did it go?). */
  dataReply?: string | 'drop';
  tls?: TlsOption;
  /** Default: a free one. */
  port?: number;
}

/** An SMTP server with scripted replies for AUTH, MAIL FROM, RCPT TO and the end of DATA; `messages` counts the DATA received. */
export function startFakeSmtp(opts: FakeSmtpOptions): Promise<Running & { messages(): number }> {
  const extensions = opts.extensions ?? ['SIZE 35882577', 'AUTH LOGIN PLAIN XOAUTH2', 'ENHANCEDSTATUSCODES'];
  let awaitingLogin = 0;
  let inData = false;
  let messages = 0;
  const running = lineServer(opts.greeting ?? '220 smtp.example.test ESMTP ready', (line, reply, socket) => {
    if (inData) {
      if (line !== '.') return;
      inData = false;
      messages++;
      if (opts.dataReply === 'drop') return void socket.destroy();
      return reply(opts.dataReply ?? '250 2.0.0 OK queued');
    }
    if (awaitingLogin > 0) {
      awaitingLogin--;
      return reply(awaitingLogin > 0 ? '334 UGFzc3dvcmQ6' : (opts.authReply ?? '235 2.7.0 Accepted'));
    }
    const verb = line.split(' ')[0]!.toUpperCase();
    switch (verb) {
      case 'EHLO':
        return reply(['250-smtp.example.test at your service', ...extensions].map((e, i, all) => (i === all.length - 1 ? `250 ${e.replace(/^250-/, '')}` : i === 0 ? e : `250-${e}`)).join('\r\n'));
      case 'AUTH':
        if (/^AUTH LOGIN$/i.test(line)) {
          awaitingLogin = 2;
          return reply('334 VXNlcm5hbWU6');
        }
        return reply(opts.authReply ?? '235 2.7.0 Accepted');
      case 'MAIL':
        return reply(opts.mailReply ?? '250 2.1.0 OK');
      case 'RCPT':
        return reply(opts.rcptReply ?? '250 2.1.5 OK');
      case 'DATA':
        inData = true;
        return reply('354 Start mail input; end with <CRLF>.<CRLF>');
      case 'RSET':
        return reply('250 2.0.0 OK');
      case 'QUIT':
        reply('221 2.0.0 closing connection');
        return socket.end();
      default:
        return reply('502 5.5.1 Unrecognized command.');
    }
  }, opts.tls, opts.port);
  return running.then((r) => ({ ...r, messages: () => messages }));
}

/** A minimal HTTP server: path -> [status, content type, body]. Unknown paths are 404. */
export async function startHttp(routes: Record<string, [number, string, string | Buffer]>): Promise<Running & { requests: string[] }> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.headers.host ?? ''}${url.pathname}`);
    const route = routes[`${req.headers.host?.replace(/:\d+$/, '')}${url.pathname}`] ?? routes[url.pathname];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(route[0], { 'content-type': route[1] }).end(route[2]);
  });
  const running = await listen(server, new Set());
  return { ...running, requests };
}

/** An intermediate CA signed by `root`. */
export async function makeIntermediate(root: CertAuthority, dir: string): Promise<CertAuthority> {
  await mkdir(dir, { recursive: true });
  const certPath = join(dir, 'intermediate.pem');
  const keyPath = join(dir, 'intermediate.key');
  const csr = join(dir, 'intermediate.csr');
  const ext = join(dir, 'intermediate.ext');
  writeFileSync(ext, 'basicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n');
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', csr, '-subj', '/CN=mailops test intermediate']);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', root.certPath, '-CAkey', root.keyPath, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '3650', '-extfile', ext, '-out', certPath]);
  return { dir, certPath, keyPath };
}

/** The DER bytes of a PEM certificate (as an AIA URL serves it). */
export function derOf(pemFile: string): Buffer {
  return new X509Certificate(readFileSync(pemFile)).raw;
}

/** A leaf for 127.0.0.1 issued by `intermediate`, whose AIA points at `issuerUrl`. */
export function makeLeafWithAia(intermediate: CertAuthority, issuerUrl: string): Promise<ServerCert> {
  return makeServerCert(intermediate, { cn: 'mail.example.test', sans: ['mail.example.test', 'localhost', HOST], aiaIssuerUrl: issuerUrl });
}
