/**
 * The socket work of a diagnosis, one visible step at a time: TCP connect,
 * TLS handshake (from the first byte or after STARTTLS), and reading replies
 * line by line with a timeout. Every line in and out goes to the trace.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** Why a read or a connect did not complete. `code` is an errno (ECONNREFUSED...), TIMEOUT or CLOSED. */
export class WireError extends Error {
  constructor(
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WireError';
  }
}

export type WireTrace = (direction: 'C' | 'S' | '*', line: string) => void;

export function connectTcp(address: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address, port });
    const done = (err: Error | null) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onAbort = () => done(new WireError('ABORTED', 'interrupted'));
    const timer = setTimeout(() => done(new WireError('TIMEOUT', `no TCP connection within ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(new WireError(err.code ?? 'ECONNRESET', err.message, err)));
  });
}

/**
 * A TLS handshake over a connected socket. Verification is never enforced
 * here (rejectUnauthorized: false) so that the certificate can be shown and
 * judged afterwards; the caller decides what an unverified chain means.
 */
export function handshake(socket: Socket, options: ConnectionOptions, timeoutMs: number, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ ...options, socket, rejectUnauthorized: false });
    const done = (err: Error | null) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      secure.removeAllListeners('secureConnect');
      secure.removeAllListeners('error');
      socket.removeListener('close', onClose);
      if (err) {
        secure.destroy();
        socket.destroy();
        reject(err);
      } else resolve(secure);
    };
    const onAbort = () => done(new WireError('ABORTED', 'interrupted'));
    const onClose = () => done(new WireError('CLOSED', 'the server closed the connection during the TLS handshake'));
    const timer = setTimeout(() => done(new WireError('TIMEOUT', `no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', onClose);
    secure.once('secureConnect', () => done(null));
    secure.once('error', (err: NodeJS.ErrnoException) => done(new WireError(err.code ?? 'TLS', err.message, err)));
  });
}

/** Line-oriented reading from a socket, with IMAP literals and a timeout per read. */
export class Wire {
  private buffer = Buffer.alloc(0);
  private failure: WireError | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.notify();
  };
  private readonly onError = (err: NodeJS.ErrnoException) => {
    this.failure ??= new WireError(err.code ?? 'ECONNRESET', err.message, err);
    this.notify();
  };
  private readonly onEnd = () => {
    this.failure ??= new WireError('CLOSED', 'the server closed the connection');
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

  /** Whether the server has sent bytes nobody read yet (before STARTTLS, that is an injection). */
  get pending(): boolean {
    return this.buffer.length > 0;
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

  /** An IMAP response line with its literals ({n} followed by n bytes) inlined as quoted text. */
  async readImapLine(): Promise<string> {
    let line = await this.readLine();
    for (let literal = /\{(\d+)\+?\}$/.exec(line); literal; literal = /\{(\d+)\+?\}$/.exec(line)) {
      const size = Number(literal[1]);
      while (this.buffer.length < size) await this.more(this.timeoutMs);
      const bytes = this.buffer.subarray(0, size).toString('utf8');
      this.buffer = this.buffer.subarray(size);
      this.trace?.('S', `(${size} bytes)`);
      line = line.slice(0, literal.index) + JSON.stringify(bytes) + (await this.readLine());
    }
    return line;
  }

  /** Hands the socket to TLS (STARTTLS) and goes on reading from the encrypted one. */
  async upgrade(options: ConnectionOptions): Promise<TLSSocket> {
    this.detach(this.socket);
    const secure = await handshake(this.socket, options, this.timeoutMs, this.signal);
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
    if (this.signal.aborted) return Promise.reject(new WireError('ABORTED', 'interrupted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => finish(new WireError('ABORTED', 'interrupted'));
      const timer = setTimeout(() => finish(new WireError('TIMEOUT', `no answer within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err: WireError | null) => {
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
