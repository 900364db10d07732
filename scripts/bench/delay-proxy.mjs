#!/usr/bin/env node
// A round-trip delay in user space, for the round-trip benchmark (scripts/bench/rtt.mjs).
//
// The issue asks for Dovecot in a network namespace behind a veth pair with `tc netem` delay.
// This machine's kernel has no netem (`tc qdisc add dev X root netem delay 10ms` answers
// "Specified qdisc kind is unknown"; no modprobe, no /lib/modules), so the delay is made here
// instead: a TCP proxy on 127.0.0.1 in front of Dovecot's port that holds every chunk for RTT/2
// in each direction, in order (one time-stamped queue a direction, a timer for the head's due
// time). TLS passes through unchanged, as bytes. What it models, and what it does not:
//
//   - the TCP handshake: the connection to the server is opened 1.5 RTT after the client's
//     connect (SYN, SYN-ACK, ACK), and the client's first bytes reach the server no earlier;
//   - a window: a direction stops reading from its source (pause) while more than WINDOW bytes
//     are in flight in it, or while the destination's write() returns false (until 'drain'), so a
//     bulk transfer runs at most WINDOW / (RTT/2) (4 MB: 400 MB/s at 20 ms, 100 MB/s at 80 ms);
//   - no loss, no jitter, no bandwidth limit besides that, and Nagle/delayed ACK play no part.
//
// It also counts ROUND TRIPS ("turns"): one for each connection's handshake, and one each time
// the client sends after the server last delivered something to it (so a client that waits for
// an answer before its next command pays one turn per command; one that pipelines pays one per
// batch). A turn costs at least one RTT of wall time.
//
//   node scripts/bench/delay-proxy.mjs            self-check (exit 0 when it holds)
//   node scripts/bench/delay-proxy.mjs PORT RTT   proxy 127.0.0.1:<printed port> -> 127.0.0.1:PORT
import { Socket, createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const WINDOW = 4 * 1024 * 1024;

/**
 * Starts the proxy: resolves with { host, port, rttMs (settable), stats(), close() }.
 * stats(): { turns, connections, up, down } since the start (bytes client->server, server->client);
 * take the difference of two calls for one run.
 */
export async function startDelayProxy({ targetHost = HOST, targetPort, rttMs }) {
  const totals = { turns: 0, connections: 0, up: 0, down: 0 };
  const sockets = new Set();
  const proxy = {
    host: HOST,
    port: 0,
    rttMs,
    stats: () => ({ ...totals }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const half = proxy.rttMs / 2;
    totals.connections++;
    totals.turns++; // the handshake
    const upstream = new Socket({ allowHalfOpen: true });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    // Whether the server has delivered something to the client since the client's last turn.
    // The handshake's SYN-ACK is no such thing: the first data rides on the ACK, no new turn.
    let serverSpoke = false;
    const up = new Direction({
      source: client,
      dest: upstream,
      delay: half,
      ready: false,
      onData: (chunk) => {
        totals.up += chunk.length;
        if (serverSpoke) {
          totals.turns++;
          serverSpoke = false;
        }
      },
    });
    new Direction({
      source: upstream,
      dest: client,
      delay: half,
      ready: true,
      onData: (chunk) => (totals.down += chunk.length),
      onDelivered: () => (serverSpoke = true),
    });
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
    // A side that closes takes the other with it once what it sent has crossed (an end of
    // stream travels in order through the queue, so this only matters after a reset).
    client.on('close', () => setTimeout(() => upstream.destroy(), half + 50));
    upstream.on('close', () => setTimeout(() => client.destroy(), half + 50));
    // The server accepts once the SYN and the ACK have crossed: 1.5 RTT after the client's
    // connect; the client's first bytes (sent at once, on the ACK) wait for that.
    setTimeout(() => {
      if (client.destroyed) return;
      upstream.connect(targetPort, targetHost, () => {
        upstream.setNoDelay(true);
        up.open();
      });
    }, 3 * half);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  proxy.port = server.address().port;
  return proxy;
}

/**
 * One direction of a connection: chunks read from `source` are queued with their due time
 * (arrival + delay) and written to `dest` in order when due, once the direction is open.
 */
class Direction {
  constructor({ source, dest, delay, ready, onData, onDelivered = () => {} }) {
    this.source = source;
    this.dest = dest;
    this.delay = delay;
    this.ready = ready;
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.timer = null;
    this.blocked = false; // dest's write() returned false: wait for 'drain'
    this.paused = false;
    this.onDelivered = onDelivered;
    source.on('data', (chunk) => {
      onData(chunk);
      this.push(chunk);
    });
    source.on('end', () => this.push(null));
    dest.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  open() {
    this.ready = true;
    this.flush();
  }

  push(chunk) {
    this.queue.push({ chunk, due: Date.now() + this.delay });
    if (chunk) this.queued += chunk.length;
    this.throttle();
    this.schedule();
  }

  /** Pauses the source while the window is full or the destination is blocked. */
  throttle() {
    const full = this.queued > WINDOW || this.blocked;
    if (full && !this.paused) {
      this.paused = true;
      this.source.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.source.resume();
    }
  }

  schedule() {
    if (this.timer || this.blocked || !this.ready || this.head >= this.queue.length) return;
    const wait = this.queue[this.head].due - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  flush() {
    if (!this.ready || this.dest.destroyed) return;
    const now = Date.now();
    let delivered = false;
    while (this.head < this.queue.length && !this.blocked && this.queue[this.head].due <= now) {
      const { chunk } = this.queue[this.head];
      this.queue[this.head++] = null;
      if (chunk === null) {
        this.dest.end();
        continue;
      }
      this.queued -= chunk.length;
      delivered = true;
      if (this.dest.write(chunk) === false) this.blocked = true;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (delivered) this.onDelivered();
    this.throttle();
    this.schedule();
  }
}

/**
 * Checks the proxy against an echo server: one exchange takes >= RTT (plus the handshake's
 * 1.5 RTT for the first), bytes come back whole and in order under load, a pipelined batch is
 * one turn and a lock-step exchange one turn per message. Resolves with a list of failures.
 */
export async function selfCheck({ rttMs = 40, log = () => {} } = {}) {
  const failures = [];
  const check = (ok, text) => {
    log(`  ${ok ? 'ok  ' : 'FAIL'} ${text}`);
    if (!ok) failures.push(text);
  };
  const echo = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await new Promise((resolve) => echo.listen(0, HOST, resolve));
  const proxy = await startDelayProxy({ targetPort: echo.address().port, rttMs });
  try {
    const started = Date.now();
    const socket = connect({ port: proxy.port, host: HOST, noDelay: true });
    await new Promise((resolve) => socket.once('connect', resolve));
    // What came back: chunks and their total (concatenated once, at the end).
    const chunks = [];
    const received = { length: 0 };
    let waiter = null;
    socket.on('data', (c) => {
      chunks.push(c);
      received.length += c.length;
      waiter?.();
    });
    const until = (n) =>
      new Promise((resolve) => {
        waiter = () => received.length >= n && resolve();
        waiter();
      });

    // One echo, the first on the connection: handshake (1.5 RTT before the server sees it) + RTT/2 back.
    socket.write('ping');
    await until(4);
    const first = Date.now() - started;
    check(first >= 2 * rttMs - 2, `first echo took ${first} ms (>= 2 RTT = ${2 * rttMs} ms: handshake + one trip)`);

    // Lock-step: 5 exchanges, each waits for its answer: >= 5 RTT, 5 turns.
    let before = proxy.stats();
    let t = Date.now();
    for (let i = 0; i < 5; i++) {
      const want = received.length + 4;
      socket.write('ping');
      await until(want);
    }
    let took = Date.now() - t;
    let turns = proxy.stats().turns - before.turns;
    check(took >= 5 * rttMs - 2, `5 lock-step echoes took ${took} ms (>= 5 RTT = ${5 * rttMs} ms)`);
    check(took < 5 * rttMs + 5 * 15, `5 lock-step echoes took ${took} ms (< 5 RTT + 75 ms: no extra delay)`);
    check(turns === 5, `5 lock-step echoes counted ${turns} turns (5)`);

    // Pipelined: 5 messages at once, then wait: one RTT, one turn.
    before = proxy.stats();
    t = Date.now();
    const want = received.length + 20;
    for (let i = 0; i < 5; i++) socket.write('ping');
    await until(want);
    took = Date.now() - t;
    turns = proxy.stats().turns - before.turns;
    check(took >= rttMs - 2 && took < 2 * rttMs, `5 pipelined echoes took ${took} ms (one RTT, ${rttMs} ms)`);
    check(turns === 1, `5 pipelined echoes counted ${turns} turn(s) (1)`);

    // Bulk, past the window: 32 MB of a known pattern comes back whole and in order.
    const size = 32 * 1024 * 1024;
    const pattern = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) pattern.writeUInt32LE(i / 4, i);
    const base = received.length;
    t = Date.now();
    socket.write(pattern);
    await until(base + size);
    took = Date.now() - t;
    check(Buffer.concat(chunks).subarray(base, base + size).equals(pattern), `32 MB came back whole and in order (${took} ms, ${(size / 1e6 / (took / 1000)).toFixed(0)} MB/s)`);
    check(proxy.stats().connections === 1, `one connection counted (${proxy.stats().connections})`);

    // Half-close passes through: the echo server ends when we end.
    const closed = new Promise((resolve) => socket.once('end', resolve));
    socket.end();
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('no end')), 10 * rttMs + 1000))]).then(
      () => check(true, 'end of stream passed through both ways'),
      () => check(false, 'end of stream passed through both ways'),
    );
    socket.destroy();
  } finally {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  }
  return failures;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port, rtt] = process.argv.slice(2).map(Number);
  if (port) {
    const proxy = await startDelayProxy({ targetPort: port, rttMs: rtt || 20 });
    console.log(`delay proxy: ${proxy.host}:${proxy.port} -> ${HOST}:${port}, RTT ${proxy.rttMs} ms (user space: this kernel has no netem)`);
    setInterval(() => console.log(JSON.stringify(proxy.stats())), 10_000).unref();
  } else {
    console.log('delay-proxy self-check (RTT 40 ms)');
    const failures = await selfCheck({ rttMs: 40, log: console.log });
    process.exitCode = failures.length ? 1 : 0;
  }
}
