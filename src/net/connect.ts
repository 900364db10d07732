/**
 * Opening a connection: TCP, TLS from the first byte, or TLS over a connected socket
 * (STARTTLS), each bounded by a timeout and an AbortSignal. The sync client and diagnose
 * both connect through these; what a failure means is theirs to say (providers/imap/errors.ts,
 * net/failures.ts), so a failure keeps the socket's own code and message.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/**
 * Why a connection or a read did not complete. `code` is the socket's (ECONNREFUSED,
 * ERR_SSL_WRONG_VERSION_NUMBER, CERT_HAS_EXPIRED...), the caller's timeout code
 * (TIMEOUT unless it asked for another), ABORTED, or CLOSED.
 */
export class NetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'NetError';
  }
}

export interface Deadline {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The code a timeout fails with: TIMEOUT by default; the sync client uses the codes imapflow uses. */
  timeoutCode?: string;
}

export function connectTcp(host: string, port: number, deadline: Deadline): Promise<Socket> {
  return settle(tcpConnect({ host, port }), 'connect', 'no TCP connection', deadline);
}

/**
 * A TLS handshake: to host:port, or over `options.socket` (after STARTTLS), which then
 * closing fails it as CLOSED. Whether an unverified certificate fails it is
 * options.rejectUnauthorized's business (diagnose turns it off to show the certificate).
 */
export function connectTls(options: ConnectionOptions, deadline: Deadline): Promise<TLSSocket> {
  return settle(tlsConnect(options), 'secureConnect', 'no TLS handshake', deadline, options.socket as Socket | undefined);
}

function settle<T extends Socket>(socket: T, event: 'connect' | 'secureConnect', what: string, deadline: Deadline, under?: Socket): Promise<T> {
  const { timeoutMs, signal } = deadline;
  return new Promise((resolve, reject) => {
    const done = (err: NetError | null) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener(event, onReady);
      socket.removeListener('error', onError);
      under?.removeListener('close', onClose);
      if (err) {
        socket.destroy();
        under?.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onReady = () => done(null);
    const onError = (err: NodeJS.ErrnoException) => done(new NetError(err.code ?? (event === 'connect' ? 'ECONNRESET' : 'TLS'), err.message, err));
    const onAbort = () => done(new NetError('ABORTED', 'interrupted'));
    const onClose = () => done(new NetError('CLOSED', 'the server closed the connection during the TLS handshake'));
    const timer = setTimeout(() => done(new NetError(deadline.timeoutCode ?? 'TIMEOUT', `${what} within ${timeoutMs} ms`)), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    under?.once('close', onClose);
    socket.once(event, onReady);
    socket.once('error', onError);
  });
}
