/**
 * Loggers handed to imapflow and nodemailer. They are silent unless --trace
 * is on; then they pass protocol lines to the runtime's trace sink with every
 * credential masked here already (the sink masks again, but it only knows the
 * secrets it was told about; these know the protocol). Both libraries mask the
 * password themselves too; we do not rely on that.
 *
 * They also watch the conversation for what the libraries do not expose:
 * when the connection and login finished (verify's step times), the reason
 * a command failed (imapflow logs it and returns false), SMTP's EHLO keywords.
 */
import { format } from 'node:util';
import type { ProviderRuntime } from '../../domain/provider.js';

const MASK = '[REDACTED]';

type TraceSink = NonNullable<ProviderRuntime['trace']>;

interface ImapLogEntry {
  src?: string;
  msg?: string;
  err?: unknown;
  version?: string;
  secure?: boolean;
}

export interface ConnectionMilestones {
  /** TCP connected (and TLS established, for implicit TLS). */
  connectedAt: number | null;
  /** STARTTLS finished. */
  tlsAt: number | null;
  tlsVersion: string | null;
  authenticatedAt: number | null;
}

/** Client lines of IMAP: the LOGIN password and every AUTHENTICATE payload go. */
export class ImapProtocolLog {
  readonly milestones: ConnectionMilestones = { connectedAt: null, tlsAt: null, tlsVersion: null, authenticatedAt: null };
  /** Whether the server has sent anything yet (its greeting comes first). */
  greeted = false;
  /** The server said 354 to DATA: from then on the message may be taken, whatever follows. */
  dataStarted = false;
  /** The server's answer to the message's final dot came (accepted or refused). */
  dataAnswered = false;
  /** The last error imapflow logged for a command it then reported as a bare `false`. */
  lastCommandError: unknown = null;
  /** A server line imapflow's parser refused (it logs and skips it): session.ts fails the command. */
  unreadable: string | null = null;
  private authTag: string | null = null;

  constructor(private readonly sink: TraceSink | null) {}

  // imapflow calls every level by name; all six must exist.
  trace = (entry: ImapLogEntry): void => this.protocol(entry);
  debug = (entry: ImapLogEntry): void => this.protocol(entry);
  info = (entry: ImapLogEntry): void => this.event(entry);
  warn = (entry: ImapLogEntry): void => this.problem(entry);
  error = (entry: ImapLogEntry): void => this.problem(entry);
  fatal = (entry: ImapLogEntry): void => this.problem(entry);

  private protocol(entry: ImapLogEntry): void {
    if (entry.src === 'c' && typeof entry.msg === 'string') this.sink?.('imap', 'C', this.maskClient(entry.msg));
    else if (entry.src === 's' && typeof entry.msg === 'string') {
      this.greeted = true;
      if (this.authTag && entry.msg.startsWith(`${this.authTag} `)) this.authTag = null;
      this.sink?.('imap', 'S', entry.msg);
    }
  }

  private maskClient(line: string): string {
    const authenticate = /^(\S+) (AUTHENTICATE \S+)/i.exec(line);
    if (authenticate) {
      this.authTag = authenticate[1] ?? null;
      return line.length > authenticate[0].length ? `${authenticate[0]} ${MASK}` : line;
    }
    // Continuation lines of an AUTHENTICATE exchange carry the SASL response.
    if (this.authTag) return MASK;
    const login = /^(\S+ LOGIN (?:"(?:[^"\\]|\\.)*"|\S+)) /i.exec(line);
    if (login) return `${login[1]} ${MASK}`;
    return line;
  }

  private event(entry: ImapLogEntry): void {
    const now = Date.now();
    if (entry.src === 'connection' && entry.msg?.startsWith('Established')) {
      this.milestones.connectedAt = now;
      if (entry.secure && entry.version) this.milestones.tlsVersion = entry.version;
    } else if (entry.src === 'tls') {
      this.milestones.tlsAt = now;
      this.milestones.tlsVersion = entry.version ?? null;
    } else if (entry.src === 'auth') {
      this.milestones.authenticatedAt = now;
    }
    if (entry.msg) this.sink?.('imap', '*', entry.msg + (entry.version ? ` (${entry.version})` : ''));
  }

  private problem(entry: ImapLogEntry): void {
    if (entry.err) this.lastCommandError = entry.err;
    if (entry.err && entry.src === 's' && typeof entry.msg === 'string') this.unreadable ??= entry.msg;
    const detail = entry.err instanceof Error ? entry.err.message : '';
    const text = [entry.msg, detail].filter(Boolean).join(': ');
    if (text) this.sink?.('imap', '*', text);
  }
}

/** nodemailer's logger (bunyan style: an entry object, then a format string and its arguments). */
export class SmtpProtocolLog {
  /** EHLO keywords of the last EHLO answer (the one after STARTTLS, where there is one). */
  extensions: string[] = [];
  /** Whether the server has sent anything yet (its greeting comes first). */
  greeted = false;
  /** The server said 354 to DATA: from then on the message may be taken, whatever follows. */
  dataStarted = false;
  /** The server's answer to the message's final dot came (accepted or refused). */
  dataAnswered = false;
  private inAuth = false;
  private awaitingEhlo = false;

  constructor(private readonly sink: TraceSink | null) {}

  trace = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);
  debug = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);
  info = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);
  warn = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);
  error = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);
  fatal = (entry: { tnx?: string }, ...args: unknown[]): void => this.write(entry, args);

  private write(entry: { tnx?: string }, args: unknown[]): void {
    const text = args.length > 0 ? format(...(args as [unknown, ...unknown[]])) : '';
    if (entry.tnx === 'client') this.client(text);
    else if (entry.tnx === 'server') this.server(text);
    else if (text) this.sink?.('smtp', '*', text);
  }

  private client(line: string): void {
    let shown = line;
    const auth = /^AUTH \S+/i.exec(line);
    if (auth) {
      this.inAuth = true;
      if (line.length > auth[0].length) shown = `${auth[0]} ${MASK}`;
    } else if (this.inAuth) {
      shown = MASK;
    }
    this.awaitingEhlo = /^(?:EHLO|LHLO) /i.test(line);
    this.sink?.('smtp', 'C', shown);
  }

  private server(text: string): void {
    this.greeted = true;
    const lines = text.split(/\r?\n/);
    if (/^354[ -]/.test(lines[0] ?? '')) this.dataStarted = true;
    else if (this.dataStarted && /^\d{3}/.test(lines[0] ?? '')) this.dataAnswered = true;
    if (this.inAuth && !/^334[ -]/.test(lines[0] ?? '')) this.inAuth = false;
    if (this.awaitingEhlo && /^250[ -]/.test(lines[0] ?? '')) {
      // The first line greets by host name; the rest are the keywords.
      this.extensions = lines.slice(1).map((l) => l.slice(4).trim()).filter(Boolean);
      this.awaitingEhlo = false;
    }
    for (const line of lines) this.sink?.('smtp', 'S', line);
  }
}
