// Port helpers for the test servers, all on 127.0.0.1.
import { createConnection, createServer } from 'node:net';

export const HOST = '127.0.0.1';

/**
 * A port that was free a moment ago. Another process can take it before the caller binds it, so
 * servers that cannot bind port 0 themselves (Dovecot) retry their start on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port of a probe listener'));
      });
    });
  });
}

/** Resolves once `port` accepts a TCP connection; rejects after `timeoutMs` or when `abort()` says so. */
export async function waitForPort(port: number, timeoutMs: number, abort: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(port)) return;
    const reason = abort();
    if (reason) throw new Error(reason);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
