/**
 * One IMAP connection per provider, opened on first use. imapflow never
 * reconnects, so a connection that drops (or is closed because an operation
 * was aborted) is forgotten and the next operation opens a new one.
 */
import { createRequire } from 'node:module';
import type { ImapFlow, ImapFlowOptions, MailboxObject } from 'imapflow';
import type { Credentials, ProviderRuntime } from '../../domain/provider.js';
import type { ServerEndpoint } from '../../domain/types.js';
import { MailopsError } from '../../domain/errors.js';
import { MalformedResponse } from '../../net/imap/response.js';
import { abortError, folderNotFound, imapServerText, mapImapError, type EndpointContext } from './errors.js';
import { loadCa, tlsOptions } from '../../net/tls.js';
import { ImapProtocolLog } from './trace.js';
import { IMAP_LIMITS } from '../../net/imap/limits.js';

export interface ImapSessionSettings {
  endpoint: ServerEndpoint;
  credentials: Credentials;
  insecure: boolean;
  caFile: string | null;
  runtime: ProviderRuntime;
}

interface ConnectionState {
  /** Null until the CA file and the token are loaded. */
  client: ImapFlow | null;
  log: ImapProtocolLog;
  /** When connect() was called, for verify's step times. */
  startedAt: number;
  /** Set when the connection is given up (abort, close) so a client still being built is never connected. */
  dropped: boolean;
}

interface Connection extends ConnectionState {
  ready: Promise<ImapFlow>;
}

export class ImapSession {
  private current: Connection | null = null;

  constructor(private readonly settings: ImapSessionSettings) {}

  get context(): EndpointContext {
    return { protocol: 'IMAP', ...this.settings.endpoint, user: this.settings.credentials.user };
  }

  /** The current connection (its log holds milestones and the last failed command). */
  get connection(): Readonly<Pick<Connection, 'client' | 'log' | 'startedAt'>> | null {
    return this.current;
  }

  /**
   * Runs `work` on a logged-in client. Every failure comes out as a
   * MailopsError; an abort closes the connection and rejects at once.
   */
  async run<T>(signal: AbortSignal, work: (client: ImapFlow) => Promise<T>): Promise<T> {
    if (signal.aborted) throw abortError(signal);
    let onAbort: () => void = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.drop();
        reject(abortError(signal));
      };
    });
    signal.addEventListener('abort', onAbort, { once: true });
    const connection = this.connect();
    try {
      const result = await Promise.race([connection.ready.then(work), aborted]);
      const unreadable = this.unreadableAnswer(connection);
      if (unreadable) throw unreadable;
      return result;
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      // A failure concluded from an answer imapflow skipped ("no such message") is not believed either.
      const cause = this.unreadableAnswer(connection) ?? err;
      throw mapImapError(cause, { ...this.context, greeted: connection.log.greeted }, this.settings.runtime.timeoutMs);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * imapflow skips an answer its parser refuses, so what a command returns lacks it (a message
   * missing from a listing, a count of nothing): the command fails instead, and the connection,
   * whose server broke the protocol, is dropped.
   */
  private unreadableAnswer(connection: Connection): MalformedResponse | null {
    const line = connection.log.unreadable;
    if (line === null) return null;
    connection.log.unreadable = null;
    this.drop();
    return new MalformedResponse('an answer', line);
  }

  async close(): Promise<void> {
    const connection = this.current;
    this.current = null;
    if (!connection) return;
    try {
      const client = await connection.ready;
      await client.logout();
    } catch {
      // Best effort: a connection that never opened or already dropped has nothing to log out of.
      connection.dropped = true;
      connection.client?.close();
    }
  }

  private connect(): Connection {
    this.current ??= this.open();
    return this.current;
  }

  private drop(): void {
    const connection = this.current;
    this.current = null;
    if (!connection) return;
    connection.dropped = true;
    connection.client?.close();
  }

  private open(): Connection {
    const state: ConnectionState = { client: null, log: new ImapProtocolLog(this.settings.runtime.trace), startedAt: Date.now(), dropped: false };
    const connection: Connection = Object.assign(state, { ready: this.loginWithRetry(state) });
    connection.ready.catch(() => {
      // A failed login is reported to whoever awaited it; the next operation starts afresh.
      if (this.current === connection) this.current = null;
    });
    return connection;
  }

  /**
   * OAuth: a server may refuse a token that looked valid (revoked or replaced early). One retry
   * with a token refreshed on the spot tells that apart from a grant that is gone, whose refresh
   * then fails with NEEDS_REAUTH ("run mailops connect NAME again").
   */
  private async loginWithRetry(connection: ConnectionState): Promise<ImapFlow> {
    try {
      return await this.login(connection, false);
    } catch (err) {
      // imapflow keeps the socket of a refused login open; it would hold the process for seconds.
      // Detached first: its 'close' must not make the session forget the connection the retry
      // opens (the retried client would then never be logged out, and the next operation would
      // log in once more).
      const refusedClient = connection.client;
      connection.client = null;
      refusedClient?.close();
      const refused = (err as { authenticationFailed?: unknown }).authenticationFailed === true;
      if (this.settings.credentials.kind !== 'oauth2' || !refused || connection.dropped) throw err;
      return this.login(connection, true);
    }
  }

  private async login(connection: ConnectionState, forceRefresh: boolean): Promise<ImapFlow> {
    const { endpoint, credentials, runtime } = this.settings;
    const settling = Promise.all([
      loadCa(this.settings.caFile),
      credentials.kind === 'password'
        ? { user: credentials.user, pass: credentials.password }
        : credentials.accessToken({ forceRefresh }).then((accessToken) => ({ user: credentials.user, accessToken })),
    ]);
    // Required once those are under way (a token refresh's request is out): imported as an ES
    // module, imapflow (CommonJS) loaded through the ES module loader, 148 against 122 ms in a
    // fresh process (median of 10).
    const { ImapFlow: Client } = createRequire(import.meta.url)('imapflow') as typeof import('imapflow');
    const [ca, auth] = await settling;
    const options: ImapFlowOptions = {
      // With MAILOPS_DNS_SERVERS, the address those servers give; TLS still checks endpoint.host.
      host: (await runtime.resolveHost?.(endpoint.host)) ?? endpoint.host,
      port: endpoint.port,
      secure: endpoint.tls === 'implicit',
      tls: tlsOptions(endpoint.host, this.settings.insecure, ca),
      auth,
      logger: connection.log,
      disableAutoIdle: true,
      connectionTimeout: runtime.timeoutMs,
      greetingTimeout: runtime.timeoutMs,
      socketTimeout: runtime.timeoutMs,
      // Memory stays bounded whatever the server sends (imapflow's defaults are 1-2 GB).
      maxLineLength: IMAP_LIMITS.maxLine,
      maxLiteralSize: IMAP_LIMITS.maxLiteral,
      maxResponseSize: IMAP_LIMITS.maxResponse,
    };
    // Left unset, imapflow upgrades when STARTTLS is offered; "none" must mean none.
    if (endpoint.tls !== 'implicit') options.doSTARTTLS = endpoint.tls === 'starttls';
    const client = new Client(options);
    connection.client = client;
    // Without a listener an 'error' event would crash the process; the failing command reports it.
    client.on('error', () => {});
    client.on('close', () => {
      if (this.current?.client === client) this.current = null;
    });
    if (connection.dropped) throw new Error('connection dropped before it was opened');
    connection.startedAt = Date.now();
    await client.connect();
    return client;
  }
}

/**
 * Runs `work` with `folder` selected (EXAMINE when read-only) and locked
 * against other commands of this client.
 */
export async function withMailbox<T>(
  client: ImapFlow,
  folder: string,
  access: { readOnly: boolean },
  work: (mailbox: MailboxObject) => Promise<T>,
): Promise<T> {
  let lock;
  try {
    lock = await client.getMailboxLock(folder, { readOnly: access.readOnly });
  } catch (err) {
    const failure = err as { mailboxMissing?: boolean; responseStatus?: string };
    if (failure.mailboxMissing) throw folderNotFound(folder);
    if (failure.responseStatus === 'NO') {
      // It exists but cannot be opened: a \Noselect parent, or no right to read it.
      const said = imapServerText(err);
      throw new MailopsError('FAILED', `cannot open folder "${folder}"${said ? `: ${said}` : ''}`, {
        hint: 'mailops folders shows which folders hold messages',
        cause: err,
      });
    }
    throw err;
  }
  try {
    if (!client.mailbox) throw folderNotFound(folder);
    return await work(client.mailbox);
  } finally {
    lock.release();
  }
}
