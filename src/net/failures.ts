/**
 * What mail servers and Node's sockets say when a connection goes wrong, and
 * what it means: one stable code per kind of failure (printed in JSON, listed
 * in the README), the contract's error class that sets the exit code, a
 * sentence that says what is wrong and a hint with the fix to try.
 *
 * This is the one place for that knowledge: `status --diagnose` classifies
 * each step with it, and the IMAP provider asks it about login and envelope
 * replies and TLS failures so that every command explains them the same way.
 * It lives in net/ (below providers and diagnose) and imports only the domain.
 */
import type { ErrorCode } from '../domain/errors.js';
import type { TlsMode } from '../domain/types.js';

export type MailProtocol = 'imap' | 'smtp';
/** What a diagnosis checks: the mail servers, and HTTPS to an API backend's hosts. */
export type CheckedProtocol = MailProtocol | 'https';

export interface FailureContext {
  protocol: CheckedProtocol;
  host: string;
  port: number;
  tls: TlsMode;
  user?: string | undefined;
  /** The server's (or the library's) own words, as evidence. */
  said?: string | undefined;
  timeoutMs?: number | undefined;
  /** What was found to work instead, after a TLS-mode mismatch. */
  works?: { tls: TlsMode; port: number } | null | undefined;
  /** Facts for the message: certificate names, dates, addresses... */
  facts?: Record<string, string | number | undefined> | undefined;
}

export interface Failure {
  /** Stable, fine-grained code (e.g. CERT_EXPIRED). */
  code: FailureCode;
  /** The contract's error class (e.g. TLS_CERT_UNTRUSTED), which sets the exit code. */
  errorCode: ErrorCode;
  message: string;
  hint: string;
}

interface Knowledge {
  errorCode: ErrorCode;
  explain(c: FailureContext): string;
  hint(c: FailureContext): string;
}

const P = (c: FailureContext) => c.protocol.toUpperCase();
const server = (c: FailureContext) => `${P(c)} server ${c.host}:${c.port}`;
// An API host has no flags of its own: its address comes from the service URL (MAILOPS_GMAIL_API_URL, ...).
const flag = (c: FailureContext, what: 'host' | 'port' | 'tls') => (c.protocol === 'https' ? 'the service URL' : `--${c.protocol}-${what}`);
const said = (c: FailureContext) => (c.said ? `: ${c.said}` : '');
const fact = (c: FailureContext, key: string, fallback = '?') => String(c.facts?.[key] ?? fallback);
const seconds = (ms: number | undefined) => `${Number(((ms ?? 30_000) / 1000).toFixed(1))}s`;
const IMPLICIT_PORT = { imap: 993, smtp: 465, https: 443 } as const;
const STARTTLS_PORT = { imap: 143, smtp: 587, https: 443 } as const;

function modeName(tls: TlsMode): string {
  return tls === 'implicit' ? 'implicit TLS' : tls === 'starttls' ? 'STARTTLS' : 'plain text without TLS';
}

/** "port 587 speaks STARTTLS, not implicit TLS: use --smtp-tls starttls". */
function whatWorks(c: FailureContext, fallback: string): string {
  const w = c.works;
  if (!w) return fallback;
  const portFlag = w.port === c.port ? '' : ` ${flag(c, 'port')} ${w.port}`;
  const where = w.port === c.port ? `port ${c.port} speaks ${modeName(w.tls)}, not ${modeName(c.tls)}` : `port ${w.port} speaks ${modeName(w.tls)}`;
  return `${where}: use ${flag(c, 'tls')} ${w.tls}${portFlag}`;
}

const CERT_BYPASS = '--insecure skips the check at your own risk';

const KNOWLEDGE = {
  HOST_NOT_FOUND: {
    errorCode: 'DNS_FAILED',
    explain: (c) => `cannot resolve ${c.host}: no such host`,
    hint: (c) => `check the host name (${flag(c, 'host')}); for split-horizon DNS, point MAILOPS_DNS_SERVERS at the right server`,
  },
  DNS_TEMPORARY: {
    errorCode: 'DNS_FAILED',
    explain: (c) => `the DNS lookup of ${c.host} failed${said(c)}`,
    hint: () => 'check the network connection and the DNS servers (MAILOPS_DNS_SERVERS overrides them), then try again',
  },
  CONNECTION_REFUSED: {
    errorCode: 'CONNECTION_REFUSED',
    explain: (c) => `${server(c)} refused the connection: nothing listens on that port`,
    hint: (c) => `check the port (${flag(c, 'port')}; usual: ${IMPLICIT_PORT[c.protocol]} implicit TLS, ${STARTTLS_PORT[c.protocol]} STARTTLS) and that the server is running`,
  },
  TIMEOUT: {
    errorCode: 'TIMEOUT',
    explain: (c) => `${server(c)} did not answer within ${seconds(c.timeoutMs)}`,
    hint: () => 'a firewall may be dropping the connection: check the host, the port and the network path, or raise --timeout',
  },
  PORT_25_BLOCKED: {
    errorCode: 'TIMEOUT',
    explain: (c) => `the connection to ${c.host}:25 timed out after ${seconds(c.timeoutMs)}: many networks (ISPs, clouds) block outgoing port 25`,
    hint: () => 'submit mail on port 587 (--smtp-port 587 --smtp-tls starttls) or 465 (--smtp-port 465 --smtp-tls implicit)',
  },
  NETWORK_UNREACHABLE: {
    errorCode: 'NETWORK',
    explain: (c) => `cannot reach ${server(c)}: no route to the host${said(c)}`,
    hint: () => 'check the network connection (an IPv6 address without IPv6 connectivity fails like this)',
  },
  CONNECTION_CLOSED: {
    errorCode: 'NETWORK',
    explain: (c) => `${server(c)} closed the connection${said(c)}`,
    hint: (c) => `check the port and ${flag(c, 'tls')}; run again with --trace to see the conversation`,
  },
  TLS_TO_PLAIN_PORT: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} did not answer the TLS handshake: it does not speak TLS from the first byte`,
    hint: (c) => whatWorks(c, `use ${flag(c, 'tls')} starttls (or ${flag(c, 'tls')} none for a server without TLS)`),
  },
  PLAIN_TO_TLS_PORT: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} sent no greeting in plain text: it waits for a TLS handshake first`,
    hint: (c) => whatWorks(c, `use ${flag(c, 'tls')} implicit`),
  },
  NO_GREETING: {
    errorCode: 'TIMEOUT',
    explain: (c) => `${server(c)} accepted the connection but sent no greeting within ${seconds(c.timeoutMs)} (and does not answer TLS either)`,
    hint: (c) => `the service behind the port is hung or is not a mail server: check ${flag(c, 'port')}, or raise --timeout`,
  },
  WRONG_PROTOCOL: {
    errorCode: 'NETWORK',
    explain: (c) => `${server(c)} does not greet like an ${P(c)} server${said(c)}`,
    hint: (c) => `check ${flag(c, 'port')}: it may belong to another service`,
  },
  SERVER_BYE: {
    errorCode: 'NETWORK',
    explain: (c) => `${server(c)} turned the connection away${said(c)}`,
    hint: () => 'try again later; if it persists, the server may be overloaded or blocking this address',
  },
  STARTTLS_MISSING: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} does not offer STARTTLS`,
    hint: (c) => whatWorks(c, `use ${flag(c, 'tls')} implicit with the server's TLS port (usually ${IMPLICIT_PORT[c.protocol]}), or ${flag(c, 'tls')} none (password in the clear)`),
  },
  STARTTLS_REFUSED: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} refused STARTTLS${said(c)}`,
    hint: (c) => `use ${flag(c, 'tls')} implicit with the server's TLS port (usually ${IMPLICIT_PORT[c.protocol]})`,
  },
  LOGIN_DISABLED: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} refuses to log in over an unencrypted connection (LOGINDISABLED)`,
    hint: (c) => whatWorks(c, `use ${flag(c, 'tls')} starttls or ${flag(c, 'tls')} implicit`),
  },
  STARTTLS_REQUIRED: {
    errorCode: 'TLS_MODE_MISMATCH',
    explain: (c) => `${server(c)} requires TLS before it accepts a login${said(c)}`,
    hint: (c) => whatWorks(c, `use ${flag(c, 'tls')} starttls or ${flag(c, 'tls')} implicit`),
  },
  TLS_HANDSHAKE_FAILED: {
    errorCode: 'TLS_FAILED',
    explain: (c) => `the TLS handshake with ${server(c)} failed${said(c)}`,
    hint: () => 'the server may offer only old TLS versions or ciphers; run again with --trace, and ask its administrator to allow TLS 1.2 or newer',
  },
  CERT_SELF_SIGNED: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} is self-signed (${fact(c, 'subject')})`,
    hint: () => `if you trust it, pass --ca-file with that certificate; better, have the server use one from a public CA; ${CERT_BYPASS}`,
  },
  CERT_UNKNOWN_CA: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} is issued by ${fact(c, 'issuer')}, an authority this machine does not trust`,
    hint: () => `pass --ca-file PEM to trust the CA that signed it (a private CA); if it is a public CA, the server may be missing an intermediate certificate; ${CERT_BYPASS}`,
  },
  CERT_MISSING_INTERMEDIATE: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `${server(c)} does not send the intermediate certificate (${fact(c, 'issuer')}) that links its certificate to a trusted authority`,
    hint: () => 'the server administrator must install the full chain (certificate plus intermediates, e.g. fullchain.pem); meanwhile --ca-file with the intermediate works',
  },
  CERT_WRONG_HOST: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} is not valid for the name ${c.host} (it names ${fact(c, 'names', 'other hosts')})`,
    hint: (c) => `connect with a name the certificate lists (${flag(c, 'host')}), or ask the administrator for a certificate that names ${c.host}; ${CERT_BYPASS}`,
  },
  CERT_EXPIRED: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} expired on ${fact(c, 'not_after')}`,
    hint: () => `the server administrator must renew it (check this machine's clock too); ${CERT_BYPASS}`,
  },
  CERT_NOT_YET_VALID: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} is not valid before ${fact(c, 'not_before')}`,
    hint: () => `check this machine's clock; ${CERT_BYPASS}`,
  },
  CERT_UNTRUSTED: {
    errorCode: 'TLS_CERT_UNTRUSTED',
    explain: (c) => `the TLS certificate of ${server(c)} is not trusted${said(c)}`,
    hint: () => `pass --ca-file PEM to trust the CA that signed it; ${CERT_BYPASS}`,
  },
  APP_PASSWORD_REQUIRED: {
    errorCode: 'AUTH_FAILED',
    explain: (c) => `Google wants an app password for ${c.user ?? 'this account'}, not the account password (2-Step Verification is on)${said(c)}`,
    hint: () => 'create an app password at https://myaccount.google.com/apppasswords and connect with it, or use --provider gmail (OAuth)',
  },
  WEB_LOGIN_REQUIRED: {
    errorCode: 'AUTH_FAILED',
    explain: (c) => `Google blocked the login of ${c.user ?? 'this account'} until it signs in with a web browser${said(c)}`,
    hint: () => 'sign in at https://mail.google.com from a browser, confirm it was you, then try again; or use --provider gmail (OAuth)',
  },
  BASIC_AUTH_DISABLED: {
    errorCode: 'AUTH_FAILED',
    explain: (c) => `Microsoft does not accept a password (basic authentication) for ${c.user ?? 'this mailbox'}${said(c)}`,
    hint: (c) =>
      c.protocol === 'smtp'
        ? 'use --provider outlook (OAuth); for SMTP an Exchange Online administrator can allow SMTP AUTH for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)'
        : 'use --provider outlook (OAuth): Exchange Online no longer accepts passwords over IMAP (if the password is wrong, Microsoft answers the same)',
  },
  AUTH_FAILED: {
    errorCode: 'AUTH_FAILED',
    explain: (c) => `${server(c)} rejected the login for ${c.user ?? 'this user'}${said(c)}`,
    hint: () => 'check the user name and password (many providers want an app password); fix them with mailops connect',
  },
  AUTH_TEMPORARY: {
    errorCode: 'NETWORK',
    explain: (c) => `${server(c)} cannot check the login right now${said(c)}`,
    hint: () => 'try again later',
  },
  NO_AUTH_MECHANISM: {
    errorCode: 'UNSUPPORTED',
    explain: (c) => `${server(c)} offers no login method for a password (it offers: ${fact(c, 'mechanisms', 'none')})`,
    hint: (c) =>
      /XOAUTH2|OAUTHBEARER/i.test(fact(c, 'mechanisms', ''))
        ? 'the server takes OAuth only: use --provider gmail or --provider outlook'
        : `the server may offer logins only over TLS: use ${flag(c, 'tls')} starttls or implicit`,
  },
  AUTH_REQUIRED: {
    errorCode: 'SEND_FAILED',
    explain: (c) => `${server(c)} wants a login before it accepts mail${said(c)}`,
    hint: () => 'connect with a user and password (the submission ports 587 and 465 take logins)',
  },
  RELAY_DENIED: {
    errorCode: 'SEND_FAILED',
    explain: (c) => `${server(c)} refuses to relay mail to ${fact(c, 'recipient', 'that recipient')}${said(c)}`,
    hint: () => 'log in before sending (servers relay only for their own users), use the submission port (587 or 465) instead of 25, and check the recipient address',
  },
  SENDER_NOT_ALLOWED: {
    errorCode: 'SEND_FAILED',
    explain: (c) => `${server(c)} does not let ${c.user ?? 'this login'} send as ${fact(c, 'sender', 'this address')}${said(c)}`,
    hint: () => 'send from an address this login owns (--email), or ask the administrator for send-as rights',
  },
  RECIPIENT_REJECTED: {
    errorCode: 'SEND_FAILED',
    explain: (c) => `${server(c)} refused the recipient ${fact(c, 'recipient', '')}${said(c)}`,
    hint: () => 'check the recipient address',
  },
  THROTTLED: {
    errorCode: 'NETWORK',
    explain: (c) => `${server(c)} is throttling this account or address${said(c)}`,
    hint: () => 'wait and try again later: too many logins, connections or messages in a short time',
  },
  FOLDER_NOT_FOUND: {
    errorCode: 'FOLDER_NOT_FOUND',
    explain: (c) => `${server(c)} has no folder ${fact(c, 'folder', 'of that name')}${said(c)}`,
    hint: () => 'folder names are full paths as mailops folders prints them',
  },
  COMMAND_FAILED: {
    errorCode: 'FAILED',
    explain: (c) => `${server(c)} refused ${fact(c, 'command', 'a command')}${said(c)}`,
    hint: () => 'run again with --trace to see the conversation',
  },
} satisfies Record<string, Knowledge>;

export type FailureCode = keyof typeof KNOWLEDGE;

/** Every code, for the README table and its test. */
export const FAILURE_CODES = Object.keys(KNOWLEDGE) as FailureCode[];

export function describeFailure(code: FailureCode, c: FailureContext): Failure {
  const k: Knowledge = KNOWLEDGE[code];
  return { code, errorCode: k.errorCode, message: k.explain(c), hint: k.hint(c) };
}

// ---------------------------------------------------------------------------
// Recognizers: from what was said to a code.

const DNS_NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA', 'NXDOMAIN']);
const DNS_TEMPORARY = new Set(['EAI_AGAIN', 'EAI_FAIL', 'ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'ECANCELLED']);

/** A failed DNS query, by the code Node's resolver or getaddrinfo gave it. */
export function recognizeDnsError(code: string | undefined): FailureCode {
  return code && DNS_NOT_FOUND.has(code) ? 'HOST_NOT_FOUND' : code && DNS_TEMPORARY.has(code) ? 'DNS_TEMPORARY' : 'HOST_NOT_FOUND';
}

/** A failed TCP connect, by its errno code. */
export function recognizeConnectError(code: string | undefined, protocol: CheckedProtocol, port: number): FailureCode {
  switch (code) {
    case 'ECONNREFUSED':
      return 'CONNECTION_REFUSED';
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return protocol === 'smtp' && port === 25 ? 'PORT_25_BLOCKED' : 'TIMEOUT';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'NETWORK_UNREACHABLE';
    default:
      return 'CONNECTION_CLOSED';
  }
}

/**
 * OpenSSL's ways of saying "the other side did not answer in TLS", in its messages
 * ("wrong version number") and in Node's codes (ERR_SSL_WRONG_VERSION_NUMBER), so
 * that a caller may pass either or both.
 */
const NOT_TLS = /wrong[ _]version[ _]number|packet[ _]length[ _]too[ _]long|unknown[ _]protocol|record[ _]layer[ _]failure|http[ _]request/i;

/** Whether an error's codes and messages say the server answered a TLS handshake in plain text. */
export function looksLikeNotTls(text: string): boolean {
  return NOT_TLS.test(text);
}

/** Node's certificate verification codes (tls.TLSSocket#authorizationError). */
export function recognizeCertificateError(code: string): FailureCode {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'CERT_EXPIRED';
    case 'CERT_NOT_YET_VALID':
      return 'CERT_NOT_YET_VALID';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'CERT_SELF_SIGNED';
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'CERT_UNTRUSTED':
      return 'CERT_UNKNOWN_CA';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
      return 'CERT_WRONG_HOST';
    default:
      return 'CERT_UNTRUSTED';
  }
}

/** Host names of Microsoft's mail services, which answer a disabled basic login like a wrong password. */
const MICROSOFT_HOST = /(^|\.)(office365\.com|outlook\.com|hotmail\.com|live\.com|office\.com|microsoft\.com)$/i;

export interface AuthReply {
  protocol: MailProtocol;
  /** The reply without the IMAP tag (e.g. "NO [AUTHENTICATIONFAILED] Invalid credentials") or the SMTP reply with its code. */
  text: string;
  host: string;
  /** The greeting, when known: "Microsoft Exchange" in it identifies Exchange on any host name. */
  greeting?: string | undefined;
}

/**
 * A refused login, by the reply's words. Provider-specific answers first
 * (Google's app passwords, Microsoft's disabled basic authentication), then
 * throttling, then the protocol's generic codes.
 */
export function recognizeAuthReply(reply: AuthReply): FailureCode {
  const text = reply.text;
  if (/application-specific password|InvalidSecondFactor/i.test(text)) return 'APP_PASSWORD_REQUIRED';
  if (/log ?in via your web browser|WEBALERT|ContinueSignIn/i.test(text)) return 'WEB_LOGIN_REQUIRED';
  if (/basic authentication is disabled|SmtpClientAuthentication is disabled|basic auth(entication)? (is )?(not supported|blocked|disabled)/i.test(text)) {
    return 'BASIC_AUTH_DISABLED';
  }
  if (/too many (login|authentication|failed)? ?attempts|too many (simultaneous )?connections|rate limit|throttl|exceeded .*limit|try again later/i.test(text)) {
    return 'THROTTLED';
  }
  if (reply.protocol === 'imap') {
    if (/\[PRIVACYREQUIRED\]/i.test(text)) return 'LOGIN_DISABLED';
    if (/\[UNAVAILABLE\]/i.test(text)) return 'AUTH_TEMPORARY';
    const microsoft = MICROSOFT_HOST.test(reply.host) || /Microsoft Exchange/i.test(reply.greeting ?? '');
    if (microsoft && /^(NO )?(AUTHENTICATE|LOGIN) failed\.?$/i.test(text.trim())) return 'BASIC_AUTH_DISABLED';
    return 'AUTH_FAILED';
  }
  const code = /^(\d{3})/.exec(text.trim())?.[1] ?? '';
  if (/^(530|538)$/.test(code) && /STARTTLS|TLS|encrypt/i.test(text)) return 'STARTTLS_REQUIRED';
  if (code === '538') return 'STARTTLS_REQUIRED';
  if (/^50[234]$/.test(code)) return 'NO_AUTH_MECHANISM';
  if (code.startsWith('4')) return 'AUTH_TEMPORARY';
  return 'AUTH_FAILED';
}

/** A refused MAIL FROM or RCPT TO, by the reply. */
export function recognizeEnvelopeReply(stage: 'mail' | 'rcpt', text: string): FailureCode {
  if (/relay(ing)? (access )?(denied|not permitted|prohibited)|unable to relay|relay not permitted|5\.7\.54|not permitted to relay/i.test(text)) return 'RELAY_DENIED';
  if (/too many|rate|quota|try again later|4\.3\.2|5\.4\.5|4\.7\.28|exceeded|throttl/i.test(text)) return 'THROTTLED';
  if (/^530\b|authentication required|auth(entication)? (is )?required|must (be authenticated|authenticate)|5\.7\.57/i.test(text)) return 'AUTH_REQUIRED';
  if (/sender address rejected|not owned by|send ?as|5\.7\.60|sender (is )?not (allowed|authorized|permitted)|not authorized to send|5\.7\.1 .*sender/i.test(text)) {
    return 'SENDER_NOT_ALLOWED';
  }
  if (/STARTTLS|must issue/i.test(text)) return 'STARTTLS_REQUIRED';
  return stage === 'mail' ? 'SENDER_NOT_ALLOWED' : 'RECIPIENT_REJECTED';
}

/** A server's greeting that turns the client away (IMAP `* BYE`, SMTP 421/554). */
export function recognizeRefusedGreeting(text: string): FailureCode {
  return /too many|throttl|rate|try again later|exceeded/i.test(text) ? 'THROTTLED' : 'SERVER_BYE';
}
