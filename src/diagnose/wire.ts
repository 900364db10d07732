/**
 * The socket work of a diagnosis, one visible step at a time: the TLS handshake
 * (from the first byte or after STARTTLS; connecting is net/connect.ts), and
 * reading replies with a timeout: SMTP line by line, IMAP through the protocol
 * kit's response reader (the sync client's). Every line in and out goes to the trace.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { NetError, connectTls } from '../net/connect.js';
import { ResponseReader, type Response } from '../net/imap/response.js';

export type WireTrace = (direction: 'C' | 'S' | '*', line: string) => void;

/**
 * A TLS handshake over a connected socket. Verification is never enforced
 * here (rejectUnauthorized: false) so that the certificate can be shown and
 * judged afterwards; the caller decides what an unverified chain means.
 */
export function handshake(socket: Socket, options: ConnectionOptions, timeoutMs: number, signal: AbortSignal): Promise<TLSSocket> {
  return connectTls({ ...options, socket, rejectUnauthorized: false }, { timeoutMs, signal });
}

/** Reading from a socket, SMTP lines or IMAP responses, with a timeout per read. */
export class Wire {
  private buffer = Buffer.alloc(0);
  /** IMAP: the reader takes over the bytes once the first response is read. */
  private reader: ResponseReader | null = null;
  private responses: Response[] = [];
  private lastLine = '';
  private failure: NetError | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.notify();
  };
  private readonly onError = (err: NodeJS.ErrnoException) => {
    this.failure ??= new NetError(err.code ?? 'ECONNRESET', err.message, err);
    this.notify();
  };
  private readonly onEnd = () => {
    this.failure ??= new NetError('CLOSED', 'the server closed the connection');
    this.notify();
  };

  constructor(
    private socket: Socket,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
    private readonly trace: WireTrace | null,
  ) {
    this.attach(socket);
  }

  get current(): Socket {
    return this.socket;
  }

  /** What the server sent that nobody read yet, bytes and responses read ahead (before STARTTLS, that is an injection); 0 when none. */
  get pending(): number {
    return this.buffer.length + (this.reader?.buffered ?? 0) + this.responses.length;
  }

  /** The last line the server sent, as sent (a greeting that is not IMAP is shown as it came). */
  get lastServerLine(): string {
    return this.lastLine;
  }

  write(line: string, shown: string = line): void {
    this.trace?.('C', shown);
    this.socket.write(line + '\r\n');
  }

  note(line: string): void {
    this.trace?.('*', line);
  }

  async readLine(timeoutMs = this.timeoutMs): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf('\n');
      if (end >= 0) {
        const line = this.buffer.subarray(0, end).toString('utf8').replace(/\r$/, '');
        this.buffer = this.buffer.subarray(end + 1);
        this.trace?.('S', line);
        return line;
      }
      await this.more(timeoutMs);
    }
  }

  /** The next IMAP response, literals and all (net/imap/response.ts). */
  async readImapResponse(): Promise<Response> {
    this.reader ??= new ResponseReader((line) => {
      if (typeof line === 'number') this.trace?.('S', `(${line} bytes)`);
      else {
        this.lastLine = line;
        this.trace?.('S', line);
      }
    });
    for (;;) {
      const next = this.responses.shift();
      if (next) return next;
      if (this.buffer.length > 0) {
        this.responses.push(...this.reader.push(this.buffer));
        this.buffer = Buffer.alloc(0);
        continue;
      }
      await this.more(this.timeoutMs);
    }
  }

  /** Hands the socket to TLS (STARTTLS) and goes on reading from the encrypted one. */
  async upgrade(options: ConnectionOptions): Promise<TLSSocket> {
    this.detach(this.socket);
    const secure = await handshake(this.socket, options, this.timeoutMs, this.signal);
    // Nothing read before the handshake counts after it (the callers refused a server that sent any).
    this.reader = null;
    this.responses = [];
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  close(): void {
    this.detach(this.socket);
    this.socket.on('error', () => {});
    this.socket.end();
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  private detach(socket: Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('error', this.onError);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('close', this.onEnd);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private more(timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.signal.aborted) return Promise.reject(new NetError('ABORTED', 'interrupted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => finish(new NetError('ABORTED', 'interrupted'));
      const timer = setTimeout(() => finish(new NetError('TIMEOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err: NetError | null) => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', onAbort);
        this.wake = null;
        if (err) reject(err);
        else if (this.failure && this.buffer.indexOf('\n') < 0) reject(this.failure);
        else resolve();
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      this.wake = () => finish(null);
    });
  }
}
