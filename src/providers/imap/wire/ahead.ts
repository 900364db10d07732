/**
 * The sync client's connection up to the login (TCP, or TLS from the first byte), and the same
 * begun ahead of the credentials. A module of its own, light (no response parser, no SASL): the
 * backend starts the connection with it before the rest of the client has loaded.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { connectTcp, connectTls } from '../../../net/connect.js';
import { loadCa, tlsOptions } from '../../../net/tls.js';
import type { WireSettings } from './client.js';

/** Where a connection goes and how it is checked: all a connection needs before the login. */
export type Reach = Omit<WireSettings, 'credentials' | 'ahead'>;

/** TCP, or TLS from the first byte: what a login goes over. Needs nothing secret. */
export async function openSocket({ endpoint, runtime, insecure, caFile }: Reach): Promise<Socket | TLSSocket> {
  const ca = await loadCa(caFile);
  const host = (await runtime.resolveHost?.(endpoint.host)) ?? endpoint.host;
  // ETIMEDOUT, as imapflow says it, so that mapImapError explains both clients' timeouts the same way.
  const deadline = { timeoutMs: runtime.timeoutMs, timeoutCode: 'ETIMEDOUT' };
  return endpoint.tls === 'implicit'
    ? connectTls({ ...tlsOptions(endpoint.host, insecure, ca), host, port: endpoint.port }, deadline)
    : connectTcp(host, endpoint.port, deadline);
}

/**
 * A connection begun while the credentials are still being unlocked (the secret file's key
 * derivation, a password command): its TCP and TLS handshakes and the greeting overlap that
 * wait instead of following it. Taken once, by the first client; one left waiting longer than
 * MAX_AHEAD_MS is closed and a new one made (a server may drop a silent client before its login).
 */
export class ConnectionAhead {
  private socket: Promise<Socket | TLSSocket> | null;
  private readonly started = Date.now();

  constructor(reach: Reach) {
    // Nothing reads the socket until a client attaches to it (no 'data' listener, so it stays
    // paused): the greeting waits in its buffer. A listener added here would lose it.
    this.socket = openSocket(reach);
    // Its failure is the taker's to report; one never taken is not an unhandled rejection.
    this.socket.catch(() => undefined);
  }

  take(): Promise<Socket | TLSSocket> | null {
    if (Date.now() - this.started > MAX_AHEAD_MS) this.discard();
    const socket = this.socket;
    this.socket = null;
    return socket;
  }

  discard(): void {
    void this.socket?.then((socket) => socket.destroy(), () => undefined);
    this.socket = null;
  }
}

/** How long a connection made ahead may wait for its login (well inside servers' pre-login idle limits). */
const MAX_AHEAD_MS = 10_000;
