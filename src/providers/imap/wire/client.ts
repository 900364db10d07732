/**
 * A small IMAP client for `sync`: connect (implicit TLS, STARTTLS or plain), log in
 * (LOGIN, AUTHENTICATE PLAIN, OAUTHBEARER or XOAUTH2), ENABLE QRESYNC, then commands,
 * pipelined as the caller sends them, each command's untagged responses handed to its
 * caller as they come (to the oldest command still running: see stream's take()).
 *
 * Why not imapflow here: a cron sync that finds nothing new should cost a login and
 * one LIST-STATUS, and loading imapflow (with pino, iconv-lite, libmime, socks...)
 * alone took longer than that; its response handling was most of the CPU time of a
 * first sync too. Every other command still uses imapflow (session.ts).
 *
 * Failures are thrown in the shapes imapflow uses (authenticationFailed,
 * responseStatus/responseText, code NoConnection, socket errno codes), so
 * mapImapError in errors.ts explains both the same way.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Credentials, ProviderRuntime } from '../../../domain/provider.js';
import type { ServerEndpoint } from '../../../domain/types.js';
import { connectTls } from '../../../net/connect.js';
import { capabilitiesOf } from '../../../net/imap/capabilities.js';
import { ResponseReader, parseValues, text, type Response, type Tagged, type Untagged } from '../../../net/imap/response.js';
import { quoteString } from '../../../net/imap/utf7.js';
import { SASL_OAUTH_ABORT, saslOauthBearer, saslPlain, saslXoauth2 } from '../../../net/sasl.js';
import { openSocket, type ConnectionAhead } from './ahead.js';
import { loadCa, startTlsInjection, tlsOptions } from '../../../net/tls.js';

export interface WireSettings {
  endpoint: ServerEndpoint;
  credentials: Credentials;
  insecure: boolean;
  caFile: string | null;
  runtime: ProviderRuntime;
  /** A connection begun before the credentials were unlocked (connectAhead), taken instead of a new one. */
  ahead?: ConnectionAhead | null;
}

/**
 * Untagged responses held before the socket is paused (a FETCH of large bodies, read slower than it
 * arrives). 512 KB, with sync's 1 MB batches, measured 10-17 MB less peak RSS than 2 MB, no slower.
 */
const HIGH_WATER_BYTES = 512 * 1024;

interface Pending {
  tag: string;
  onUntagged: (response: Untagged) => void;
  onContinuation: ((text: string) => void) | null;
  resolve: (response: Tagged) => void;
  reject: (error: unknown) => void;
}

/** An error in the shape imapflow gives a command the server refused. */
function commandError(command: string, response: Tagged): Error {
  return Object.assign(new Error(`Command failed: ${command}`), {
    responseStatus: response.status,
    responseText: response.text,
    serverResponseCode: response.code?.split(' ')[0] ?? undefined,
    response: `${response.tag} ${response.status} ${response.code ? `[${response.code}] ` : ''}${response.text}`,
  });
}

/** imapflow's shape for a lost connection; `reason` is the server's BYE text when it said one. */
function closedError(reason: string): Error {
  return Object.assign(new Error(`Connection closed${reason ? `: ${reason}` : ''}`), { code: 'NoConnection', reason });
}

export class WireClient {
  capabilities = new Set<string>();
  readonly enabled = new Set<string>();
  /** Whether the server has said anything (a silent port is told apart from a slow server by this). */
  greeted = false;

  private socket: Socket | TLSSocket | null = null;
  private reader = new ResponseReader();
  private queue: Pending[] = [];
  private nextTag = 1;
  private failure: unknown = null;
  private closed = false;
  private greeting: ((response: Response) => void) | null = null;
  /** What the server said in its BYE, for the error when it then closes. */
  private bye = '';

  constructor(private readonly settings: WireSettings) {}

  /** Connects and logs in, with QRESYNC (or CONDSTORE) enabled where offered. */
  async open(signal: AbortSignal): Promise<void> {
    const onAbort = () => this.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.connect();
      await this.login(false);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Runs one command; its untagged responses go to onUntagged. NO and BAD reject. */
  command(line: string, onUntagged: (response: Untagged) => void = () => {}, trace: string = line): Promise<Tagged> {
    return this.send(line, trace, onUntagged, null);
  }

  /**
   * Runs a command and yields its untagged responses as they arrive, pausing the
   * socket while more than HIGH_WATER_BYTES of them wait to be read. The command is sent
   * now, not when reading starts, so it can follow others without waiting for them; one
   * that is not to be read after all is given up with `abandon()` (its answers dropped).
   * `take(response)` hands it an answer that reached another command: untagged answers carry
   * no tag, and a server may run two pipelined FETCHes at once and mix them (Dovecot does), so
   * the other command's handler tells this one's answers apart and passes them on.
   */
  stream(line: string): AsyncGenerator<Untagged> & { abandon(): Promise<void>; take(response: Untagged): void } {
    const waiting: Untagged[] = [];
    let held = 0;
    let wake: (() => void) | null = null;
    let finished = false;
    let abandoned = false;
    let failed: { error: unknown } | null = null;
    const size = (response: Untagged) => response.segments.reduce((sum, s) => sum + s.length, 0);
    const take = (response: Untagged) => {
      // The reader stopped early: the rest of the command's output is dropped, never held.
      if (abandoned) return;
      waiting.push(response);
      held += size(response);
      if (held > HIGH_WATER_BYTES) this.socket?.pause();
      wake?.();
    };
    const done = this.send(line, line, take, null).then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        failed = { error };
        wake?.();
      },
    );
    const abandon = async () => {
      abandoned = true;
      waiting.length = 0;
      this.socket?.resume();
      await done;
    };
    const socket = () => this.socket;
    async function* read(): AsyncGenerator<Untagged> {
      try {
        for (;;) {
          const next = waiting.shift();
          if (next) {
            held -= size(next);
            if (held <= HIGH_WATER_BYTES / 2) socket()?.resume();
            yield next;
            continue;
          }
          if (failed) throw (failed as { error: unknown }).error;
          if (finished) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      } finally {
        await abandon();
      }
    }
    return Object.assign(read(), { abandon, take });
  }

  /** LOGOUT, waiting a second at most for the server's answer: a cron run never hangs on a goodbye. */
  async logout(): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      // Best effort: the server may close first.
      this.command('LOGOUT').catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 1000))),
    ]);
    clearTimeout(timer);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.failAll(this.failure ?? closedError('closed by mailops'));
  }

  private get trace() {
    return this.settings.runtime.trace;
  }

  private send(line: string, traced: string, onUntagged: (response: Untagged) => void, onContinuation: ((text: string) => void) | null): Promise<Tagged> {
    if (this.closed || !this.socket) return Promise.reject(this.failure ?? closedError('not connected'));
    const tag = `W${this.nextTag++}`;
    this.trace?.('imap', 'C', `${tag} ${traced}`);
    return new Promise<Tagged>((resolve, reject) => {
      this.queue.push({
        tag,
        onUntagged,
        onContinuation,
        resolve: (response) => (response.status === 'OK' ? resolve(response) : reject(commandError(traced, response))),
        reject,
      });
      this.socket!.write(`${tag} ${line}\r\n`);
    });
  }

  private write(line: string, traced: string): void {
    this.trace?.('imap', 'C', traced);
    this.socket?.write(`${line}\r\n`);
  }

  private async connect(): Promise<void> {
    const { endpoint, insecure, caFile } = this.settings;
    const socket = await (this.settings.ahead?.take() ?? openSocket(this.settings));
    if (this.closed) {
      socket.destroy();
      throw this.failure ?? closedError('closed by mailops');
    }
    this.attach(socket);
    this.trace?.('imap', '*', `Established ${endpoint.tls === 'implicit' ? 'secure ' : ''}connection to ${endpoint.host}:${endpoint.port}`);

    const greeting = await this.readGreeting();
    if (greeting.type === 'untagged' && greeting.kind === 'BYE') throw closedError(greeting.text);
    this.readCapabilities(greeting);
    if (this.capabilities.size === 0) await this.capability();

    if (endpoint.tls === 'starttls') {
      if (!this.capabilities.has('STARTTLS')) {
        throw Object.assign(new Error('Server does not support STARTTLS'), { tlsFailed: true });
      }
      await this.command('STARTTLS');
      // Nothing said before the handshake may count after it: a server, or a man in the
      // middle, that sent more than the OK is refused; its capabilities are forgotten.
      const injected = startTlsInjection(this.reader.buffered);
      if (injected) throw Object.assign(new Error(injected), { tlsFailed: true });
      this.reader = new ResponseReader();
      this.enabled.clear();
      await this.upgrade(tlsOptions(endpoint.host, insecure, await loadCa(caFile)));
      this.capabilities.clear();
      await this.capability();
    }
  }

  private readGreeting(): Promise<Response> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket?.destroy(Object.assign(new Error('Greeting never received'), { code: 'GREETING_TIMEOUT' }));
      }, this.settings.runtime.timeoutMs);
      this.greeting = (response) => {
        clearTimeout(timer);
        this.greeting = null;
        resolve(response);
      };
      this.queue.push({
        tag: '',
        onUntagged: () => {},
        onContinuation: null,
        resolve: () => {},
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    }).finally(() => {
      this.queue = this.queue.filter((p) => p.tag !== '');
    }) as Promise<Response>;
  }

  /** Swaps the plain socket for TLS over it (after STARTTLS). */
  private async upgrade(options: ReturnType<typeof tlsOptions>): Promise<void> {
    const plain = this.socket!;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.removeAllListeners('timeout');
    const secure = await connectTls({ ...options, socket: plain }, { timeoutMs: this.settings.runtime.timeoutMs, timeoutCode: 'UPGRADE_TIMEOUT' });
    this.attach(secure);
    this.trace?.('imap', '*', `TLS established (${secure.getProtocol() ?? 'TLS'})`);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.settings.runtime.timeoutMs);
    socket.on('timeout', () => socket.destroy(Object.assign(new Error('Socket timed out'), { code: 'ETIMEDOUT' })));
    socket.on('error', (error) => {
      this.failure ??= error;
    });
    socket.on('close', () => {
      this.closed = true;
      this.failAll(this.failure ?? closedError(this.bye));
    });
    socket.on('data', (chunk: Buffer) => {
      let responses: Response[];
      try {
        responses = this.reader.push(chunk);
      } catch (error) {
        // A response over the limits (net/imap/limits.ts): the connection is given up, and every
        // command waiting on it fails with this error.
        this.failure ??= error;
        socket.destroy();
        return;
      }
      try {
        for (const response of responses) this.dispatch(response);
      } catch (error) {
        // A command's handler refused an answer (MalformedResponse): the same as above, never an
        // exception out of a socket event (that would end the process without a word).
        this.failure ??= error;
        socket.destroy();
      }
    });
  }

  private dispatch(response: Response): void {
    this.greeted = true;
    if (this.trace) this.traceResponse(response);
    if (this.greeting) {
      this.greeting(response);
      return;
    }
    const head = this.queue[0];
    if (response.type === 'continuation') {
      head?.onContinuation?.(response.text);
      return;
    }
    if (response.type === 'untagged') {
      this.readCapabilities(response);
      if (response.kind === 'BYE') this.bye = response.text;
      else if (response.kind === 'ENABLED') for (const name of response.text.split(' ')) this.enabled.add(name.toUpperCase());
      head?.onUntagged(response);
      return;
    }
    const index = this.queue.findIndex((p) => p.tag === response.tag);
    if (index === -1) return;
    const [pending] = this.queue.splice(index, 1);
    this.readCapabilities(response);
    pending!.resolve(response);
  }

  private traceResponse(response: Response): void {
    if (response.type === 'continuation') this.trace!('imap', 'S', `+ ${response.text}`);
    else if (response.type === 'untagged') {
      const literals = response.segments.filter((s) => typeof s !== 'string').length;
      const first = response.segments[0] as string;
      this.trace!('imap', 'S', `* ${response.number !== null ? `${response.number} ` : ''}${response.kind} ${first}${literals ? ` ... (${literals} literal${literals > 1 ? 's' : ''})` : ''}`);
    } else this.trace!('imap', 'S', `${response.tag} ${response.status} ${response.code ? `[${response.code}] ` : ''}${response.text}`);
  }

  private failAll(error: unknown): void {
    const pending = this.queue.splice(0);
    for (const p of pending) p.reject(error);
  }

  /** Where a response states capabilities, they replace the ones known. */
  private readCapabilities(response: Response): void {
    const stated = capabilitiesOf(response);
    if (stated) this.capabilities = new Set(stated.map((c) => c.toUpperCase()));
  }

  private async capability(): Promise<void> {
    await this.command('CAPABILITY');
  }

  private async login(forceRefresh: boolean): Promise<void> {
    const { credentials } = this.settings;
    try {
      let response: Tagged;
      if (credentials.kind === 'password') response = await this.loginWithPassword(credentials.user, credentials.password);
      else response = await this.loginWithToken(credentials.user, await credentials.accessToken({ forceRefresh }));
      this.trace?.('imap', '*', `Authenticated as ${credentials.user}`);
      if (!response.code?.startsWith('CAPABILITY ')) {
        this.capabilities.clear();
        await this.capability();
      }
    } catch (error) {
      const refused = (error as { authenticationFailed?: boolean }).authenticationFailed === true;
      // OAuth: a token that looked valid may have been revoked or replaced; one retry with a fresh one.
      if (refused && credentials.kind === 'oauth2' && !forceRefresh && !this.closed) return this.login(true);
      throw error;
    }
    const wanted = ['QRESYNC', 'CONDSTORE'].filter((name) => this.capabilities.has(name));
    if (wanted.length && this.capabilities.has('ENABLE')) {
      // Not waited for: the caller's first command (the folder list) goes right behind it, a
      // round trip saved. The server answers ENABLE before it, so `enabled` is settled by the
      // time any later answer is read. A refusal ends the connection, failing what follows
      // with it, as an awaited ENABLE failed the login.
      this.command(`ENABLE ${wanted.join(' ')}`).then(
        () => {
          // QRESYNC implies CONDSTORE (RFC 7162 3.2.3).
          if (this.enabled.has('QRESYNC')) this.enabled.add('CONDSTORE');
        },
        (error: unknown) => {
          this.failure ??= error;
          this.close();
        },
      );
    } else if (wanted.includes('CONDSTORE')) {
      // A server without ENABLE turns CONDSTORE on by its first use.
      this.enabled.add('CONDSTORE');
    }
  }

  /**
   * Whether CONDSTORE is on, or will be once the ENABLE in flight is answered: what a command
   * sent before that answer may rely on (HIGHESTMODSEQ in STATUS needs only the capability).
   */
  get condstore(): boolean {
    return this.enabled.has('CONDSTORE') || this.capabilities.has('CONDSTORE');
  }

  private async loginWithPassword(user: string, password: string): Promise<Tagged> {
    const plainOk = /^[\x20-\x7e]*$/.test(user) && /^[\x20-\x7e]*$/.test(password);
    if (!this.capabilities.has('LOGINDISABLED') && plainOk) {
      return this.authenticated(this.command(`LOGIN ${quoteString(user)} ${quoteString(password)}`, undefined, `LOGIN ${quoteString(user)} [REDACTED]`));
    }
    if (this.capabilities.has('AUTH=PLAIN')) {
      return this.authenticated(this.saslExchange('PLAIN', saslPlain(user, password)));
    }
    throw new Error(this.capabilities.has('LOGINDISABLED') ? 'Login is disabled' : 'Unsupported authentication mechanism');
  }

  private async loginWithToken(user: string, token: string): Promise<Tagged> {
    const { endpoint } = this.settings;
    if (this.capabilities.has('AUTH=OAUTHBEARER')) {
      return this.authenticated(this.saslExchange('OAUTHBEARER', saslOauthBearer(user, token, endpoint.host, endpoint.port), SASL_OAUTH_ABORT.OAUTHBEARER));
    }
    if (this.capabilities.has('AUTH=XOAUTH2') || this.capabilities.has('AUTH=XOAUTH')) {
      return this.authenticated(this.saslExchange('XOAUTH2', saslXoauth2(user, token), SASL_OAUTH_ABORT.XOAUTH2));
    }
    throw new Error('Unsupported authentication mechanism');
  }

  /**
   * AUTHENTICATE with the initial response inline (SASL-IR) or after the first "+".
   * A second "+" is the server's error report (OAuth): answered with `breaker` to end the exchange.
   */
  private saslExchange(mechanism: string, payload: string, breaker = '*'): Promise<Tagged> {
    const inline = this.capabilities.has('SASL-IR');
    let sent = inline;
    let oauthError: unknown = null;
    const onContinuation = (challenge: string) => {
      if (!sent) {
        sent = true;
        this.write(payload, '[REDACTED]');
        return;
      }
      try {
        oauthError = JSON.parse(Buffer.from(challenge, 'base64').toString('utf8'));
      } catch {
        // Not JSON: nothing more to report than the tagged NO.
      }
      this.write(breaker, breaker);
    };
    const line = `AUTHENTICATE ${mechanism}${inline ? ` ${payload}` : ''}`;
    return this.send(line, `AUTHENTICATE ${mechanism}${inline ? ' [REDACTED]' : ''}`, () => {}, onContinuation).catch((error: unknown) => {
      throw oauthError ? Object.assign(error as Error, { oauthError }) : error;
    });
  }

  /** A refused login in imapflow's shape: authenticationFailed, with the server's code and words. */
  private async authenticated(login: Promise<Tagged>): Promise<Tagged> {
    try {
      return await login;
    } catch (error) {
      if ((error as { responseStatus?: string }).responseStatus) {
        throw Object.assign(new Error('Authentication failed'), error as object, { authenticationFailed: true });
      }
      throw error;
    }
  }
}

/** `* LIST (\HasNoChildren \Sent) "/" "Sent"` → flags, delimiter, raw name. */
export function listEntry(response: Untagged): { flags: string[]; delimiter: string | null; name: string } | null {
  const [flags, delimiter, name] = parseValues(response.segments);
  const raw = text(name);
  if (raw === null) return null;
  return { flags: Array.isArray(flags) ? flags.map((f) => text(f) ?? '') : [], delimiter: text(delimiter), name: raw };
}
