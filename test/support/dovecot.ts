// A private Dovecot for the real-server tests: its own config, sockets, mail and log in a temp
// folder, listening on free ports of 127.0.0.1 only. Never touches /etc/dovecot or a system
// instance.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeCa, makeServerCert, type CertAuthority, type ServerCert } from './certs.js';
import { HOST, freePort, waitForPort } from './net.js';
import { MAIL_DOMAIN, addUserFile, type MailUser } from './users.js';

const run = promisify(execFile);

/** With plaintextAuth: false, connect here to see LOGINDISABLED (see dovecotConfig). */
export const PLAINTEXT_CHECK_HOST = '127.0.0.2';

/** The unprivileged account that owns mail when the suite runs as root (scripts/test.sh creates it). */
export const MAIL_SYSTEM_USER = 'mailops-test';

export interface DovecotOptions {
  /** Folder for everything; default a fresh temp folder that stop() removes. */
  dir?: string;
  /** CA that signs the server certificate; default a new CA in `dir`. */
  ca?: CertAuthority;
  /** Certificate for the TLS ports (e.g. expired or for the wrong host); default issued by `ca` for 127.0.0.1. */
  cert?: ServerCert;
  /** Replaces Dovecot's post-login capability list verbatim, e.g. to hide MOVE or CONDSTORE. */
  imapCapability?: string;
  /** Users to create at start (more can be added at any time). Default 0. */
  users?: number;
  /**
   * OAuth instead of passwords: XOAUTH2/OAUTHBEARER checked by `passdb oauth2` against an RFC 7662
   * introspection endpoint (POST token=...; `active` and `username` in the answer).
   */
  oauth2?: { introspectionUrl: string; mechanisms?: Array<'xoauth2' | 'oauthbearer'> };
  /** false: no login without TLS (LOGINDISABLED on the plain port until STARTTLS). Default true. */
  plaintextAuth?: boolean;
}

export interface Dovecot {
  host: typeof HOST;
  /** IMAP over implicit TLS, certificate from the suite's CA. */
  imapsPort: number;
  /** IMAP without TLS; plaintext LOGIN allowed; STARTTLS offered. */
  imapPort: number;
  /** LMTP, no auth: how the SMTP server delivers into the mailboxes. */
  lmtpPort: number;
  /** PEM to trust for the TLS ports (`--ca-file`). */
  caFile: string;
  /** One passwd-file per user (see users.ts). */
  usersDir: string;
  mailDomain: string;
  dir: string;
  logFile: string;
  /** Users created by this handle (at start and with addUser). */
  users: MailUser[];
  addUser(label?: string): MailUser;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const SPECIAL_FOLDERS = [
  ['Drafts', '\\Drafts'],
  ['Sent', '\\Sent'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
  ['Archive', '\\Archive'],
] as const;

export async function startDovecot(opts: DovecotOptions = {}): Promise<Dovecot> {
  const ownsDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mailops-dovecot-'));
  try {
    return await startIn(dir, ownsDir, opts);
  } catch (err) {
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string, ownsDir: boolean, opts: DovecotOptions): Promise<Dovecot> {
  mkdirSync(dir, { recursive: true });
  // The login processes (dovenull) and the mail user must be able to reach their sub-folders.
  chmodSync(dir, 0o755);
  const ca = opts.ca ?? (await makeCa(join(dir, 'ca')));
  const cert = opts.cert ?? (await makeServerCert(ca, { cn: HOST, sans: [HOST, 'localhost'], dir: join(dir, 'server-cert') }));
  const mailOwner = await resolveMailOwner();

  const mailDir = join(dir, 'mail');
  mkdirSync(mailDir, { recursive: true });
  if (mailOwner.chown) chownSync(mailDir, mailOwner.uid, mailOwner.gid);
  chmodSync(mailDir, 0o700);
  const usersDir = join(dir, 'users');
  mkdirSync(usersDir, { recursive: true, mode: 0o755 }); // read by the auth process, which runs as `dovecot`
  const logFile = join(dir, 'dovecot.log');
  const config = { dir, cert, mailDir, usersDir, logFile, mailOwner, imapCapability: opts.imapCapability, oauth2: opts.oauth2, plaintextAuth: opts.plaintextAuth ?? true };
  const { child, ports } = await launch(config);

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const users: MailUser[] = [];
  const dovecot: Dovecot = {
    host: HOST,
    imapsPort: ports.imaps,
    imapPort: ports.imap,
    lmtpPort: ports.lmtp,
    caFile: cert.caPath,
    usersDir,
    mailDomain: MAIL_DOMAIN,
    dir,
    logFile,
    users,
    addUser(label) {
      const user = addUserFile(usersDir, label);
      users.push(user);
      return user;
    },
    logTail: (lines = 30) => tail(logFile, lines),
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopProcess(child);
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  for (let i = 1; i <= (opts.users ?? 0); i++) dovecot.addUser(`user${i}`);
  return dovecot;
}

/** Starts `dovecot -F` and waits until all its ports accept connections. */
async function launch(config: Omit<ConfigInput, 'ports'>): Promise<{ child: ChildProcess; ports: Ports }> {
  let lastError: Error | undefined;
  // A free port can be taken by someone else before Dovecot binds it; a fresh set usually works.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const ports = { imaps: await freePort(), imap: await freePort(), lmtp: await freePort() };
    // Three separate asks can get the same port back (each is free when asked): ask again.
    while (new Set(Object.values(ports)).size < 3) Object.assign(ports, { imap: await freePort(), lmtp: await freePort() });
    const configFile = join(config.dir, 'dovecot.conf');
    writeFileSync(configFile, dovecotConfig({ ...config, ports }));
    writeFileSync(config.logFile, '');
    const child = spawn('dovecot', ['-F', '-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let exited: string | undefined;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code, signal) => (exited = `dovecot exited (${signal ?? code}) during start-up`));
    child.on('error', (err) => (exited = `could not run dovecot: ${err.message}`));
    try {
      for (const port of Object.values(ports)) await waitForPort(port, 15_000, () => exited);
      return { child, ports };
    } catch (err) {
      await stopProcess(child);
      const log = tail(config.logFile, 30);
      lastError = new Error(`${(err as Error).message}\n${stderr}\n--- ${config.logFile} ---\n${log}`);
      if (!/Address already in use|duplicate listener/.test(stderr + log)) break;
    }
  }
  throw lastError;
}

interface MailOwner {
  uid: number;
  gid: number;
  /** Only root can (and must) hand the mail folder to another user. */
  chown: boolean;
  /** Unprivileged, every Dovecot process runs as us: these replace the `dovecot`/`dovenull` accounts. */
  runAs?: { user: string; group: string };
}

/** Dovecot refuses uid 0 for mail, so as root mail belongs to a system user; otherwise to us. */
async function resolveMailOwner(): Promise<MailOwner> {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) {
    const group = (await run('id', ['-gn'])).stdout.trim();
    return { uid, gid: process.getgid?.() ?? uid, chown: false, runAs: { user: userInfo().username, group } };
  }
  for (const name of [MAIL_SYSTEM_USER, 'nobody']) {
    try {
      const [u, g] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()), chown: true };
    } catch {
      // try the next candidate
    }
  }
  throw new Error(`no unprivileged user for mail storage: create ${MAIL_SYSTEM_USER} (scripts/test.sh does)`);
}

interface Ports {
  imaps: number;
  imap: number;
  lmtp: number;
}

interface ConfigInput {
  dir: string;
  cert: ServerCert;
  mailDir: string;
  usersDir: string;
  logFile: string;
  ports: Ports;
  mailOwner: MailOwner;
  imapCapability: string | undefined;
  oauth2: DovecotOptions['oauth2'];
  plaintextAuth: boolean;
}

/** The passdb: the users' passwd-files, or (oauth2) the tokens' introspection endpoint. */
function passdbConfig(c: ConfigInput): string {
  if (!c.oauth2) {
    return `auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu ${c.usersDir}/%Lu
}`;
  }
  const mechanisms = (c.oauth2.mechanisms ?? ['xoauth2', 'oauthbearer']).join(' ');
  const oauthFile = join(c.dir, 'dovecot-oauth2.conf.ext');
  writeFileSync(
    oauthFile,
    `introspection_mode = post
introspection_url = ${c.oauth2.introspectionUrl}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
`,
  );
  return `auth_mechanisms = ${mechanisms}
passdb {
  driver = oauth2
  mechanisms = ${mechanisms}
  args = ${oauthFile}
}`;
}

function dovecotConfig(c: ConfigInput): string {
  const { runAs } = c.mailOwner;
  // Dovecot counts a client whose address equals the server's as secure (no LOGINDISABLED then):
  // without plaintext auth, IMAP also listens on 127.0.0.2, which clients on 127.0.0.1 reach "from outside".
  const imapListen = c.plaintextAuth ? HOST : `${HOST}, ${PLAINTEXT_CHECK_HOST}`;
  const me = runAs
    ? `default_internal_user = ${runAs.user}\ndefault_internal_group = ${runAs.group}\ndefault_login_user = ${runAs.user}\n`
    : '';
  // chroot needs root; unprivileged, the login and anvil processes run without it.
  const chroot = runAs ? '  chroot =\n' : '';
  const folders = SPECIAL_FOLDERS.map(
    ([name, use]) => `  mailbox ${name} {\n    special_use = ${use}\n    auto = subscribe\n  }`,
  ).join('\n');
  return `# Generated by test/support/dovecot.ts for one test run.
instance_name = mailops-test-${c.ports.imaps}
base_dir = ${join(c.dir, 'run')}
state_dir = ${join(c.dir, 'state')}
log_path = ${c.logFile}
protocols = imap lmtp
listen = ${imapListen}
${me}
ssl = yes
ssl_cert = <${c.cert.certPath}
ssl_key = <${c.cert.keyPath}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = ${c.plaintextAuth ? 'no' : 'yes'}
auth_verbose = yes
# A failed login answers at once instead of after 2 s, so wrong-password tests stay fast.
auth_failure_delay = 0

${passdbConfig(c)}
userdb {
  driver = passwd-file
  args = username_format=%Lu ${c.usersDir}/%Lu
  default_fields = uid=${c.mailOwner.uid} gid=${c.mailOwner.gid} home=${c.mailDir}/%Lu
}
first_valid_uid = ${Math.min(c.mailOwner.uid, 500)}

# LAYOUT=fs lets folder names contain '.', as they can on most servers.
mail_location = maildir:~/Maildir:LAYOUT=fs
namespace inbox {
  inbox = yes
  separator = /
${folders}
}
${c.imapCapability ? `imap_capability = ${c.imapCapability}\n` : ''}
# Parallel tests open many connections for one user from one address.
mail_max_userip_connections = 200

service imap-login {
${chroot}  inet_listener imap {
    address = ${imapListen}
    port = ${c.ports.imap}
  }
  inet_listener imaps {
    address = ${imapListen}
    port = ${c.ports.imaps}
    ssl = yes
  }
}
# No auth penalty: a wrong-password test would otherwise slow every later login from 127.0.0.1
# (tests share one address) by up to 15 s. Dovecot's documented way to turn it off.
service anvil {
${chroot}  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${HOST}
    port = ${c.ports.lmtp}
  }
}
protocol lmtp {
  postmaster_address = postmaster@${MAIL_DOMAIN}
}
`;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}
