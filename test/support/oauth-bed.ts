// The OAuth test bed of one test file: the test authorization server (both flavours), a Dovecot
// whose logins are checked against its introspection endpoint (passdb oauth2), an SMTP server
// that checks XOAUTH2 the same way and delivers into that Dovecot, and a $BROWSER that acts as
// the person (fake-browser.mjs). Tokens are really checked: an expired or revoked one fails.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCa, type CertAuthority } from './certs.js';
import { MAILOPS_BIN, cliEnv, type CliOptions, type CliResult } from './cli.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { startOAuthServer, type TestOAuthServer } from './oauth-server.js';
import { startSmtp, type SmtpServerHandle } from './smtp.js';
import type { MailUser } from './users.js';

export const FAKE_BROWSER = fileURLToPath(new URL('./fake-browser.mjs', import.meta.url));

export interface OAuthBed {
  idp: TestOAuthServer;
  dovecot: Dovecot;
  smtp: SmtpServerHandle;
  /** PEM trusted by IMAP, SMTP and the https identity provider. */
  caFile: string;
  /** Its authority, to start more servers under it (the Gmail API fake, for a backend switch). */
  ca: CertAuthority;
  /** An executable to put in $BROWSER. */
  browser: string;
  dir: string;
  /** A fresh mailbox user of this bed's Dovecot. */
  newUser(label?: string): MailUser;
  /** IMAP (implicit TLS) and SMTP (STARTTLS) flags for `connect`, pointing at this bed. */
  serverFlags(): string[];
  /** A fresh file for the fake browser's page log. */
  browserLog(): string;
  stop(): Promise<void>;
}

export interface OAuthBedOptions {
  /** SASL mechanisms Dovecot offers (imapflow prefers OAUTHBEARER when offered). */
  mechanisms?: Array<'xoauth2' | 'oauthbearer'>;
}

export async function startOAuthBed(options: OAuthBedOptions = {}): Promise<OAuthBed> {
  const dir = mkdtempSync(join(tmpdir(), 'mailops-oauth-'));
  chmodSync(dir, 0o755); // Dovecot's login and mail users reach their folders inside
  try {
    const ca = await makeCa(join(dir, 'ca'));
    const idp = await startOAuthServer({ ca });
    const dovecot = await startDovecot({ dir: join(dir, 'dovecot'), ca, oauth2: { introspectionUrl: idp.introspectionUrl, mechanisms: options.mechanisms } });
    const smtp = await startSmtp({ dovecot, ca, dir: join(dir, 'smtp'), oauth2: { introspectionUrl: idp.introspectionUrl } });
    const browser = installFakeBrowser(dir);
    const logs = join(dir, 'browser-logs');
    mkdirSync(logs);
    let logCount = 0;
    return {
      idp,
      dovecot,
      smtp,
      caFile: ca.certPath,
      ca,
      browser,
      dir,
      newUser: (label) => dovecot.addUser(label),
      serverFlags: () => [
        '--imap-host', dovecot.host, '--imap-port', String(dovecot.imapsPort), '--imap-tls', 'implicit',
        '--smtp-host', smtp.host, '--smtp-port', String(smtp.port), '--smtp-tls', 'starttls',
        '--ca-file', ca.certPath,
      ],
      browserLog: () => join(logs, `${++logCount}.jsonl`),
      async stop() {
        await smtp.stop();
        await dovecot.stop();
        await idp.stop();
        if (!process.env.MAILOPS_KEEP_TEST_TMP) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Writes the executable to put in $BROWSER (fake-browser.mjs run by this node) into `dir`; returns its path. */
export function installFakeBrowser(dir: string): string {
  const browser = join(dir, 'browser');
  writeFileSync(browser, `#!/bin/sh\nexec "${process.execPath}" "${FAKE_BROWSER}" "$@"\n`, { mode: 0o755 });
  return browser;
}

/** The pages the fake browser saw, in order. */
export function browserPages(log: string): Array<{ step: string; status?: number; text?: string }> {
  try {
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { step: string; status?: number; text?: string });
  } catch {
    return [];
  }
}

export interface InteractiveCli {
  /** Resolves with the first match of `pattern` in stderr (waiting for it to be printed). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Types a line on the CLI's standard input (which stays open until then). */
  type(line: string): void;
  result: Promise<CliResult>;
}

/** mailops with stdin left open, for the flows where the person answers after reading its output. */
export function startInteractiveCli(args: string[], opts: CliOptions & { home: string }): InteractiveCli {
  const child = spawn(process.execPath, [MAILOPS_BIN, ...args], { cwd: opts.home, env: cliEnv(opts.home, opts), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const watch of watchers) watch();
  });
  child.stdin!.on('error', () => {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailops ${args.join(' ')} did not exit within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    result,
    type: (line) => void child.stdin!.end(line + '\n'),
    waitForStderr: (pattern, waitMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = stderr.match(pattern);
          if (!match) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve(match);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`stderr never matched ${pattern}:\n${stderr}`));
        }, waitMs);
        watchers.add(check);
        void result.then(() => {
          check();
          if (watchers.has(check)) {
            watchers.delete(check);
            clearTimeout(timer);
            reject(new Error(`mailops exited before stderr matched ${pattern}:\n${stderr}`));
          }
        });
        check();
      }),
  };
}

/**
 * The person, in another process (as on another machine, trusting the bed's CA): opens `url`,
 * allows access and reports the address the browser ends on, unloaded (for --no-browser).
 */
export function personFollowsLink(bed: Pick<OAuthBed, 'caFile'>, url: string, env: Record<string, string> = {}): Promise<string> {
  return runPerson(bed, ['--stay', url], env);
}

/** The person enters a device code on the verification page; resolves with the page they end on. */
export function personEntersDeviceCode(bed: Pick<OAuthBed, 'caFile'>, uri: string, code: string, env: Record<string, string> = {}): Promise<string> {
  return runPerson(bed, ['--device-code', uri, code], env);
}

function runPerson(bed: Pick<OAuthBed, 'caFile'>, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FAKE_BROWSER, ...args], {
      env: { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: bed.caFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`fake browser failed (${code}): ${err}`))));
  });
}
