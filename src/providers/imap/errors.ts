/**
 * What imapflow, nodemailer and Node's sockets throw, turned into the errors a
 * user sees: one precise sentence naming the server, and the fix to try.
 * Messages are built from error codes and server replies only, never from the
 * options we connected with, so a password can never end up in one.
 */
import { MailopsError, type ErrorCode } from '../../domain/errors.js';
import type { TlsMode } from '../../domain/types.js';
import { describeFailure, looksLikeNotTls, recognizeAuthReply, recognizeEnvelopeReply, type FailureCode } from '../../net/failures.js';
import { ResponseTooLarge } from '../../net/imap/limits.js';
import { MalformedResponse } from '../../net/imap/response.js';

export interface EndpointContext {
  protocol: 'IMAP' | 'SMTP';
  host: string;
  port: number;
  tls: TlsMode;
  user: string;
  /** Whether the server said anything at all on this connection; false tells a silent port from a slow server. */
  greeted?: boolean;
}

/** The error, its causes and the fields imapflow and nodemailer hang on them. */
interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  message?: unknown;
  reason?: unknown;
  cause?: unknown;
  _err?: unknown;
  authenticationFailed?: unknown;
  serverResponseCode?: unknown;
  oauthError?: unknown;
  response?: unknown;
  responseText?: unknown;
  responseCode?: unknown;
  tlsFailed?: unknown;
  mailboxMissing?: unknown;
}

const CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ETIMEOUT', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);

function asErrorLike(value: unknown): ErrorLike {
  return typeof value === 'object' && value !== null ? (value as ErrorLike) : {};
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Every code on the error and its causes: nodemailer keeps the socket's code as originalCode, imapflow as _err. */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = asErrorLike(current);
    for (const code of [e.code, e.originalCode]) if (typeof code === 'string') codes.push(code);
    current = e.cause ?? e._err;
  }
  return codes;
}

function messagesOf(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = asErrorLike(current);
    parts.push(str(e.message), str(e.reason));
    current = e.cause ?? e._err;
  }
  return parts.join(' ');
}

function where(ctx: EndpointContext): string {
  return `${ctx.host}:${ctx.port}`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

function tlsFlag(ctx: EndpointContext): string {
  return ctx.protocol === 'IMAP' ? '--imap-tls' : '--smtp-tls';
}

function fail(code: ErrorCode, message: string, hint: string, cause: unknown): MailopsError {
  return new MailopsError(code, message, { hint, cause });
}

function certificateError(code: string, ctx: EndpointContext, cause: unknown): MailopsError {
  const server = `${ctx.protocol} server ${where(ctx)}`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return fail(
      'TLS_CERT_UNTRUSTED',
      `the TLS certificate of ${server} is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'}`,
      'the server administrator must renew it (check this machine\'s clock too); --insecure skips the check at your own risk',
      cause,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    return fail(
      'TLS_CERT_UNTRUSTED',
      `the TLS certificate of ${server} is not valid for the name ${ctx.host}`,
      'connect with a host name the certificate lists, or pass --insecure to skip the check at your own risk',
      cause,
    );
  }
  return fail(
    'TLS_CERT_UNTRUSTED',
    `the TLS certificate of ${server} is not signed by a trusted authority (${code})`,
    'pass --ca-file PEM to trust the CA that signed it, or --insecure to skip verification at your own risk',
    cause,
  );
}

/**
 * Failures below the mail protocol: DNS, TCP, TLS, timeouts. Returns null
 * when the error is not one of them.
 */
export function mapTransportError(err: unknown, ctx: EndpointContext, timeoutMs: number): MailopsError | null {
  const codes = codesOf(err);
  const text = messagesOf(err);
  const has = (code: string) => codes.includes(code);
  const server = `${ctx.protocol} server ${where(ctx)}`;

  const dns = codes.find((code) => DNS_CODES.has(code));
  if (dns) {
    return fail(
      'DNS_FAILED',
      dns === 'EAI_AGAIN'
        ? `cannot resolve ${ctx.host}: the DNS lookup failed temporarily`
        : `cannot resolve ${ctx.host}: no such host`,
      dns === 'EAI_AGAIN' ? 'check the network connection and DNS settings, then try again' : `check the host name (--${ctx.protocol.toLowerCase()}-host)`,
      err,
    );
  }
  if (has('ECONNREFUSED')) {
    return fail(
      'CONNECTION_REFUSED',
      `${server} refused the connection`,
      `check the port (--${ctx.protocol.toLowerCase()}-port) and that the server is running`,
      err,
    );
  }
  const cert = codes.find((code) => CERT_CODES.has(code));
  if (cert) return certificateError(cert, ctx, err);

  if (looksLikeNotTls(`${codes.join(' ')} ${text}`)) {
    return fail(
      'TLS_MODE_MISMATCH',
      `${server} did not answer the TLS handshake: it does not speak TLS from the first byte`,
      `use ${tlsFlag(ctx)} starttls (or ${tlsFlag(ctx)} none for a server without TLS)`,
      err,
    );
  }
  if (has('ECONNRESET') && ctx.tls === 'implicit') {
    return fail(
      'TLS_MODE_MISMATCH',
      `${server} reset the connection during the TLS handshake`,
      `if the port expects plain text first, use ${tlsFlag(ctx)} starttls or ${tlsFlag(ctx)} none`,
      err,
    );
  }
  const timedOut = codes.some((code) => TIMEOUT_CODES.has(code));
  const noGreeting = has('GREETING_TIMEOUT') || /greeting never received/i.test(text) || (timedOut && ctx.greeted === false);
  if (noGreeting && ctx.tls !== 'implicit') {
    return fail(
      'TIMEOUT',
      `${server} sent no greeting within ${seconds(timeoutMs)}`,
      `if the port expects TLS from the first byte (like 993 or 465), use ${tlsFlag(ctx)} implicit; otherwise raise --timeout`,
      err,
    );
  }
  if (timedOut) {
    return fail(
      'TIMEOUT',
      `${server} did not respond within ${seconds(timeoutMs)}`,
      'check the network path to the server, or raise --timeout',
      err,
    );
  }
  if (has('EHOSTUNREACH') || has('ENETUNREACH') || has('EADDRNOTAVAIL')) {
    return fail('NETWORK', `cannot reach ${server}: no route to the host`, 'check the network connection', err);
  }
  if (has('ECONNRESET') || has('EPIPE')) {
    return fail('NETWORK', `${server} closed the connection unexpectedly`, 'try again; if it persists, run mailops status --diagnose', err);
  }
  if (codes.some((code) => code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) {
    return fail('TLS_FAILED', `TLS with ${server} failed: ${str(asErrorLike(err).message).trim()}`, 'run mailops status --diagnose to see the TLS details', err);
  }
  return null;
}

/** The server's words from an imapflow command error, without the tag and Dovecot's timing suffix. */
export function imapServerText(error: unknown): string {
  const err = asErrorLike(error);
  const text = str(err.responseText) || str(err.response).replace(/^\S+ (?:NO|BAD) /, '');
  return text.replace(/\s*\(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.?$/, '').trim();
}

function imapAuthError(err: ErrorLike, ctx: EndpointContext): MailopsError {
  const server = `IMAP server ${where(ctx)}`;
  const responseCode = str(err.serverResponseCode).toUpperCase();
  const text = imapServerText(err);
  // The response code ([AUTHENTICATIONFAILED], [EXPIRED], ...) says more than the text; keep it in front.
  const said = responseCode && !text.includes(`[${responseCode}]`) ? `[${responseCode}] ${text}`.trim() : text;
  const message = str(err.message);

  if (message === 'Login is disabled' || responseCode === 'PRIVACYREQUIRED') {
    return fail('TLS_MODE_MISMATCH', `${server} refuses to log in over an unencrypted connection`, 'use --imap-tls starttls or --imap-tls implicit', err);
  }
  if (responseCode === 'UNAVAILABLE') {
    return fail('NETWORK', `${server} cannot check the login right now${said ? `: ${said}` : ''}`, 'try again later', err);
  }
  const known = providerRefusal('imap', said, ctx, err);
  if (known) return known;
  if (err.oauthError) {
    const status = str(asErrorLike(err.oauthError).code) || str((err.oauthError as { status?: unknown }).status);
    return fail(
      'AUTH_FAILED',
      `${server} rejected the OAuth access token for ${ctx.user}${status ? ` (${status})` : ''}`,
      'connect the account again with mailops connect to grant access anew',
      err,
    );
  }
  return fail(
    'AUTH_FAILED',
    `${server} rejected the login for ${ctx.user}${said ? `: ${said}` : ''}`,
    'check the user name and password (many providers want an app password); fix them with mailops connect',
    err,
  );
}

/** Any error from an IMAP operation. MailopsErrors pass through unchanged. */
export function mapImapError(err: unknown, ctx: EndpointContext, timeoutMs: number): MailopsError {
  if (err instanceof MailopsError) return err;
  const e = asErrorLike(err);
  // imapflow throws this one without marking it an authentication failure.
  if (str(e.message) === 'Unsupported authentication mechanism') {
    return fail(
      'UNSUPPORTED',
      `IMAP server ${where(ctx)} offers no login method this account can use (password: LOGIN, AUTH=PLAIN, AUTH=LOGIN; OAuth: AUTH=XOAUTH2, AUTH=OAUTHBEARER)`,
      'check that the account type matches the server (password or OAuth)',
      err,
    );
  }
  if (e.authenticationFailed) return imapAuthError(e, ctx);
  if (e.tlsFailed && str(e.message) === 'Server does not support STARTTLS') {
    return fail(
      'TLS_MODE_MISMATCH',
      `IMAP server ${where(ctx)} does not offer STARTTLS`,
      'use --imap-tls implicit if the port speaks TLS from the start, or --imap-tls none',
      err,
    );
  }
  // A response over the limits (net/imap/limits.ts), from our reader or imapflow's: the server
  // broke the protocol, which trying again would not mend (FAILED, not retried like NETWORK).
  if (err instanceof MalformedResponse || str(e.code) === 'ParserError') {
    return fail(
      'FAILED',
      `IMAP server ${where(ctx)} sent ${err instanceof MalformedResponse ? err.message : `an answer mailops cannot read (${str(e.message)})`}; gave up on the connection`,
      'the server is misbehaving: run mailops status --diagnose, or again with --trace to see the answer',
      err,
    );
  }
  if (err instanceof ResponseTooLarge || ['LineTooLarge', 'LiteralTooLarge', 'ResponseTooLarge'].includes(str(e.code))) {
    return fail(
      'FAILED',
      `IMAP server ${where(ctx)} sent more than mailops accepts in one response (${str(e.message)}); gave up on the connection`,
      'the server is misbehaving, or the port is not an IMAP server: check --imap-host and --imap-port, and run mailops status --diagnose',
      err,
    );
  }
  const transport = mapTransportError(err, ctx, timeoutMs);
  if (transport) return transport;

  const code = str(e.code);
  if (code === 'NoConnection' || code.startsWith('ClosedAfterConnect')) {
    const reason = str(e.reason);
    return fail(
      'NETWORK',
      `IMAP server ${where(ctx)} closed the connection${reason ? `: ${reason}` : ''}`,
      'try again; if it persists, run mailops status --diagnose',
      err,
    );
  }
  const said = imapServerText(e);
  return fail(
    'FAILED',
    `IMAP server ${where(ctx)} failed: ${said || str(e.message) || 'unknown error'}`,
    'run the command again with --trace to see the conversation',
    err,
  );
}

export function folderNotFound(folder: string): MailopsError {
  return new MailopsError('FOLDER_NOT_FOUND', `no folder named "${folder}"`, {
    hint: 'folder names are full paths as mailops folders prints them',
  });
}

/** Any error from an SMTP exchange. MailopsErrors pass through unchanged. */
export function mapSmtpError(err: unknown, ctx: EndpointContext, timeoutMs: number): MailopsError {
  if (err instanceof MailopsError) return err;
  // An OAuth token refresh that failed during the login (smtp.ts authFor).
  const inner = (err as { mailopsError?: unknown } | null)?.mailopsError;
  if (inner instanceof MailopsError) return inner;
  const e = asErrorLike(err);
  const code = str(e.code);
  const server = `SMTP server ${where(ctx)}`;
  const response = str(e.response).trim();

  if (code === 'EAUTH') {
    if (/^Missing credentials/.test(str(e.message))) {
      return fail('AUTH_FAILED', `no credentials to log in to ${server}`, 'fix the account with mailops connect', err);
    }
    const known = providerRefusal('smtp', response, ctx, err);
    if (known) return known;
    if (/^5(?:04|02|03)\b/.test(response) || /^538\b/.test(response)) {
      return fail(
        /^538\b/.test(response) ? 'TLS_MODE_MISMATCH' : 'UNSUPPORTED',
        `${server} does not accept this login method: ${response}`,
        /^538\b/.test(response) ? 'use --smtp-tls starttls or --smtp-tls implicit' : 'check that the account type matches the server (password or OAuth)',
        err,
      );
    }
    if (/^4\d\d\b/.test(response)) {
      return fail('NETWORK', `${server} cannot check the login right now: ${response}`, 'try again later', err);
    }
    return fail(
      'AUTH_FAILED',
      `${server} rejected the login for ${ctx.user}${response ? `: ${response}` : ''}`,
      'check the user name and password (many providers want an app password); fix them with mailops connect',
      err,
    );
  }
  if (code === 'ETLS' && /^[45]\d\d\b/.test(response)) {
    return fail(
      'TLS_MODE_MISMATCH',
      `${server} refused STARTTLS: ${response}`,
      'use --smtp-tls implicit if the port speaks TLS from the start, or --smtp-tls none',
      err,
    );
  }
  const transport = mapTransportError(err, ctx, timeoutMs);
  if (transport) return transport;
  if (code === 'EDNS') {
    return fail('DNS_FAILED', `cannot resolve ${ctx.host}`, 'check the host name (--smtp-host) and DNS settings', err);
  }
  if (code === 'ETLS') {
    return fail('TLS_FAILED', `STARTTLS with ${server} failed${response ? `: ${response}` : ''}`, 'run mailops status --diagnose to see the TLS details', err);
  }
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EPROTOCOL') {
    return fail(
      'NETWORK',
      `${server} closed the connection or answered out of protocol${response ? `: ${response}` : ''}`,
      `check the port and ${tlsFlag(ctx)}; run mailops status --diagnose`,
      err,
    );
  }
  if (code === 'EENVELOPE' && response) {
    const stage = /^MAIL/i.test(str((e as { command?: unknown }).command)) ? 'mail' : 'rcpt';
    const envelope = recognizeEnvelopeReply(stage, response);
    if (envelope === 'RELAY_DENIED' || envelope === 'SENDER_NOT_ALLOWED') return explained(envelope, ctx, response, err);
  }
  if (code === 'EENVELOPE' || code === 'EMESSAGE' || code === 'ESTREAM') {
    return fail(
      'SEND_FAILED',
      `${server} refused the message${response ? `: ${response}` : `: ${str(e.message)}`}`,
      'check the recipients and the sender address this account may use',
      err,
    );
  }
  return fail('FAILED', `${server} failed: ${str(e.message) || 'unknown error'}`, 'run the command again with --trace to see the conversation', err);
}

/** A failure explained by the shared knowledge (src/net/failures.ts), in the contract's error class. */
function explained(code: FailureCode, ctx: EndpointContext, said: string, cause: unknown): MailopsError {
  const f = describeFailure(code, { protocol: ctx.protocol === 'IMAP' ? 'imap' : 'smtp', host: ctx.host, port: ctx.port, tls: ctx.tls, user: ctx.user, said: said || undefined });
  return fail(f.errorCode, f.message, f.hint, cause);
}

/** Refusals with a provider-specific meaning (Google's app passwords, Microsoft's basic auth, throttling). */
function providerRefusal(protocol: 'imap' | 'smtp', said: string, ctx: EndpointContext, cause: unknown): MailopsError | null {
  if (!said) return null;
  const code = recognizeAuthReply({ protocol, text: said, host: ctx.host });
  const specific: FailureCode[] = ['APP_PASSWORD_REQUIRED', 'WEB_LOGIN_REQUIRED', 'BASIC_AUTH_DISABLED', 'THROTTLED'];
  return specific.includes(code) ? explained(code, ctx, said, cause) : null;
}

/** The error for an operation cut short by its AbortSignal: net/abort.ts, which the HTTP pacer shares. */
export { abortError } from '../../net/abort.js';
