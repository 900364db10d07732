/**
 * The submission side: one SMTP connection per call, opened only by send and
 * verifySend so read-only commands never touch it. nodemailer's
 * SMTPConnection is used directly (not a transport) for three things the
 * transport hides: a connection we can close on abort, whether the server
 * offered AUTH at all, and the time of each step.
 */
import type { TLSSocket } from 'node:tls';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionAuth, SMTPConnectionSendInfo } from 'nodemailer/lib/smtp-connection';
import { MailopsError } from '../../domain/errors.js';
import type { Credentials, ProviderRuntime } from '../../domain/provider.js';
import type { CheckStep, OutgoingMessage, SendReceipt, ServerEndpoint, VerifyResult } from '../../domain/types.js';
import { abortError, mapSmtpError, type EndpointContext } from './errors.js';
import { loadCa, tlsOptions } from '../../net/tls.js';
import { SmtpProtocolLog } from './trace.js';

export interface SmtpSettings {
  endpoint: ServerEndpoint;
  credentials: Credentials;
  insecure: boolean;
  caFile: string | null;
  runtime: ProviderRuntime;
}

/** An open connection plus the promise that rejects when it fails, closes or is aborted. */
class SmtpExchange {
  private readonly broken: Promise<never>;
  private readonly onAbort: () => void;

  constructor(
    readonly connection: SMTPConnection,
    private readonly signal: AbortSignal,
  ) {
    let fail: (err: unknown) => void = () => {};
    this.broken = new Promise<never>((_, reject) => (fail = reject));
    // Nobody may be waiting when the connection ends after QUIT.
    this.broken.catch(() => {});
    connection.on('error', fail);
    connection.once('end', () => fail(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION' })));
    this.onAbort = () => {
      fail(abortError(signal));
      connection.close();
    };
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Runs one callback-style step, failing early if the connection breaks. */
  step<T>(start: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    if (this.signal.aborted) return Promise.reject(abortError(this.signal));
    const result = new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value as T))));
    return Promise.race([result, this.broken]);
  }

  /** QUIT politely; the socket closes by itself after the reply. */
  finish(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.connection.quit();
  }

  abandon(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.connection.close();
  }
}

function context(settings: SmtpSettings, log: SmtpProtocolLog): EndpointContext {
  return { protocol: 'SMTP', ...settings.endpoint, user: settings.credentials.user, greeted: log.greeted };
}

async function authFor(credentials: Credentials): Promise<SMTPConnectionAuth> {
  if (credentials.kind === 'password') return { user: credentials.user, pass: credentials.password };
  const { default: XOAuth2 } = await import('nodemailer/lib/xoauth2');
  const accessToken = await credentials.accessToken();
  // When the server refuses the token, nodemailer asks once for a renewed one: refreshed on the
  // spot. A failed refresh travels inside a plain Error (nodemailer rewrites an error's code);
  // mapSmtpError takes it out again.
  const provisionCallback = (_user: string, renew: boolean, done: (err: Error | null, token?: string) => void) => {
    credentials.accessToken({ forceRefresh: renew }).then(
      (token) => done(null, token),
      (error: unknown) => done(Object.assign(new Error(error instanceof Error ? error.message : String(error)), { mailopsError: error })),
    );
  };
  return { type: 'OAuth2', user: credentials.user, method: 'XOAUTH2', oauth2: new XOAuth2({ user: credentials.user, accessToken, provisionCallback }, false) };
}

interface OpenedSmtp {
  exchange: SmtpExchange;
  steps: CheckStep[];
}

/** Connects (TLS as configured), says EHLO and logs in where the server offers AUTH. */
async function open(settings: SmtpSettings, log: SmtpProtocolLog, signal: AbortSignal): Promise<OpenedSmtp> {
  const { endpoint, runtime } = settings;
  if (signal.aborted) throw abortError(signal);
  const [{ default: Connection }, ca, auth] = await Promise.all([
    import('nodemailer/lib/smtp-connection'),
    loadCa(settings.caFile),
    authFor(settings.credentials),
  ]);
  const connection = new Connection({
    // With MAILOPS_DNS_SERVERS, the address those servers give; TLS still checks endpoint.host.
    host: (await runtime.resolveHost?.(endpoint.host)) ?? endpoint.host,
    port: endpoint.port,
    secure: endpoint.tls === 'implicit',
    requireTLS: endpoint.tls === 'starttls',
    ignoreTLS: endpoint.tls === 'none',
    tls: tlsOptions(endpoint.host, settings.insecure, ca),
    connectionTimeout: runtime.timeoutMs,
    greetingTimeout: runtime.timeoutMs,
    socketTimeout: runtime.timeoutMs,
    logger: log,
    // Protocol lines are needed for the EHLO keywords even without --trace; the log drops them then.
    debug: true,
  });
  const exchange = new SmtpExchange(connection, signal);
  const steps: CheckStep[] = [];
  try {
    let started = Date.now();
    await exchange.step<void>((done) => connection.connect((err) => done(err)));
    const socket = connection._socket as TLSSocket | null | false;
    const tlsVersion = connection.secure && socket && typeof socket.getProtocol === 'function' ? socket.getProtocol() : null;
    steps.push({
      step: 'connect',
      ok: true,
      ms: Date.now() - started,
      detail: `${endpoint.host}:${endpoint.port}, ${tlsVersion ?? (connection.secure ? 'TLS' : 'no TLS')}`,
    });

    started = Date.now();
    if (connection.allowsAuth) {
      await exchange.step<boolean>((done) => connection.login(auth, done));
      steps.push({ step: 'login', ok: true, ms: Date.now() - started, detail: `logged in as ${settings.credentials.user}` });
    } else {
      steps.push({ step: 'login', ok: true, ms: 0, detail: 'the server offers no AUTH; sending without login' });
    }
    return { exchange, steps };
  } catch (err) {
    exchange.abandon();
    throw err;
  }
}

export async function verifySmtp(settings: SmtpSettings, signal: AbortSignal): Promise<VerifyResult> {
  const log = new SmtpProtocolLog(settings.runtime.trace);
  try {
    const { exchange, steps } = await open(settings, log, signal);
    try {
      const started = Date.now();
      // RSET is the cheapest command nodemailer exposes: a pure round trip.
      await exchange.step<boolean>((done) => exchange.connection.reset(done));
      const latencyMs = Date.now() - started;
      steps.push({ step: 'rset', ok: true, ms: latencyMs, detail: 'RSET answered' });
      exchange.finish();
      return { checks: steps, latencyMs, capabilities: log.extensions };
    } catch (err) {
      exchange.abandon();
      throw err;
    }
  } catch (err) {
    throw mapSmtpError(err, context(settings, log), settings.runtime.timeoutMs);
  }
}

export async function sendSmtp(settings: SmtpSettings, message: OutgoingMessage, signal: AbortSignal): Promise<SendReceipt> {
  const log = new SmtpProtocolLog(settings.runtime.trace);
  try {
    const { exchange } = await open(settings, log, signal);
    let info: SMTPConnectionSendInfo;
    try {
      info = await exchange.step<SMTPConnectionSendInfo>((done) =>
        exchange.connection.send({ from: message.envelope.from, to: message.envelope.to }, message.raw, done),
      );
      exchange.finish();
    } catch (err) {
      exchange.abandon();
      throw err;
    }
    const accepted = info.accepted.map(String);
    if (accepted.length === 0) {
      throw new MailopsError('SEND_FAILED', `SMTP server ${settings.endpoint.host}:${settings.endpoint.port} accepted none of the recipients`, {
        hint: 'check the recipient addresses',
      });
    }
    return { messageId: message.messageId, accepted, rejected: info.rejected.map(String), providerSavedCopy: false };
  } catch (err) {
    if (log.dataStarted && !log.dataAnswered && !(err instanceof MailopsError && err.code === 'INTERRUPTED')) {
      // The server took the message's bytes and never said what it did with them: it may have
      // gone out. Never sent again by us, and said so, so that no script sends it twice.
      throw new MailopsError(
        'SEND_FAILED',
        `SMTP server ${settings.endpoint.host}:${settings.endpoint.port} took the message and the connection ended before its answer: it may have been delivered`,
        { hint: 'it was not sent again; check with a recipient (or the Sent folder of another client) before sending it again', cause: err },
      );
    }
    throw mapSmtpError(err, context(settings, log), settings.runtime.timeoutMs);
  }
}
