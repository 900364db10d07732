/**
 * The frame of a staged diagnosis: each step timed and recorded, the first
 * failure explained and the rest skipped; the steps every protocol shares
 * (DNS, TCP, TLS) and the retry in the other TLS mode that turns "TLS failed"
 * into "port 587 speaks STARTTLS, not implicit TLS".
 */
import type { TLSSocket } from 'node:tls';
import { MailopsError } from '../domain/errors.js';
import type { Credentials } from '../domain/provider.js';
import type { ServerEndpoint, TlsMode } from '../domain/types.js';
import type { DnsClient, DnsError, ResolvedHost } from '../net/dns.js';
import {
  describeFailure,
  looksLikeNotTls,
  recognizeConnectError,
  recognizeDnsError,
  type Failure,
  type FailureCode,
  type CheckedProtocol,
  type FailureContext,
  type MailProtocol,
} from '../net/failures.js';
import { NetError, connectTcp } from '../net/connect.js';
import { capabilitiesOf, hasCapability } from '../net/imap/capabilities.js';
import { tlsOptions } from '../net/tls.js';
import { judgeTls, type TrustSettings } from './tls-report.js';
import type { DiagnosticStep, TlsReport } from './types.js';
import { Wire, handshake, type WireTrace } from './wire.js';

export type TraceSink = (source: 'imap' | 'smtp' | 'http' | 'dns', direction: 'C' | 'S' | '*', line: string) => void;

export interface DiagnoseSettings {
  email: string;
  /** Null: stop before the login (connect --diagnose without a password). */
  credentials: Credentials | null;
  trust: TrustSettings;
  timeoutMs: number;
  dns: DnsClient;
  trace: TraceSink | null;
  signal: AbortSignal;
  /** IMAP: the folder of the first command (EXAMINE). */
  folder: string;
  /** IMAP: count unseen messages and the age of the oldest (status --nagios). */
  metrics: boolean;
  /** SMTP: RCPT TO of the dry run. */
  recipient: string;
}

/** A step's failure, before it is explained. */
export class StepFailure extends Error {
  constructor(
    readonly code: FailureCode,
    readonly extra: Partial<FailureContext> = {},
    readonly data?: Record<string, unknown>,
  ) {
    super(code);
    this.name = 'StepFailure';
  }
}

/** Thrown once a step failed and was recorded: the diagnosis of this protocol ends there. */
export class Stopped extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = 'Stopped';
  }
}

export interface StepOutcome<T> {
  value: T;
  detail: string;
  data?: Record<string, unknown>;
}

export class Stages {
  readonly steps: DiagnosticStep[] = [];
  failure: Failure | null = null;
  address: string | null = null;
  tls: TlsReport | null = null;
  readonly startedAt = Date.now();

  constructor(
    readonly protocol: CheckedProtocol,
    readonly endpoint: ServerEndpoint,
    readonly settings: DiagnoseSettings,
  ) {}

  get context(): FailureContext {
    return { protocol: this.protocol, ...this.endpoint, user: this.settings.credentials?.user, timeoutMs: this.settings.timeoutMs };
  }

  get wireTrace(): WireTrace | null {
    const sink = this.settings.trace;
    return sink ? (direction, line) => sink(this.traceSource, direction, line) : null;
  }

  note(line: string): void {
    this.settings.trace?.(this.traceSource, '*', line);
  }

  private get traceSource(): 'imap' | 'smtp' | 'http' {
    return this.protocol === 'https' ? 'http' : this.protocol;
  }

  async step<T>(name: string, work: () => Promise<StepOutcome<T>>): Promise<T> {
    const started = Date.now();
    try {
      const outcome = await work();
      this.steps.push({ step: name, ok: true, ms: Date.now() - started, detail: outcome.detail, ...(outcome.data ? { data: outcome.data } : {}) });
      return outcome.value;
    } catch (err) {
      const { failure, data } = this.explain(err);
      this.failure = failure;
      this.steps.push({ step: name, ok: false, ms: Date.now() - started, detail: failure.message, code: failure.code, hint: failure.hint, ...(data ? { data } : {}) });
      throw new Stopped(failure);
    }
  }

  /** A step that did not run because there was nothing to run it with. */
  skip(name: string, why: string): void {
    this.steps.push({ step: name, ok: true, ms: 0, detail: `skipped: ${why}`, data: { skipped: true } });
  }

  fail(code: FailureCode, extra: Partial<FailureContext> = {}, data?: Record<string, unknown>): never {
    throw new StepFailure(code, extra, data);
  }

  private explain(err: unknown): { failure: Failure; data?: Record<string, unknown> } {
    if (err instanceof StepFailure) return { failure: describeFailure(err.code, { ...this.context, ...err.extra }), ...(err.data ? { data: err.data } : {}) };
    if (err instanceof NetError) {
      if (err.code === 'ABORTED') throw new MailopsError('INTERRUPTED', 'interrupted');
      const code: FailureCode = err.code === 'TIMEOUT' ? 'TIMEOUT' : 'CONNECTION_CLOSED';
      return { failure: describeFailure(code, { ...this.context, said: err.code === 'TIMEOUT' || err.code === 'CLOSED' ? undefined : err.message }) };
    }
    if (err instanceof MailopsError) throw err;
    return { failure: describeFailure('COMMAND_FAILED', { ...this.context, said: err instanceof Error ? err.message : String(err) }) };
  }

  /**
   * A greeting that did not come: in plain text, the port may wait for a TLS
   * handshake (try it); with TLS up, the server is simply silent.
   */
  async noGreeting(err: unknown): Promise<never> {
    if (!(err instanceof NetError) || err.code !== 'TIMEOUT') throw err;
    if (this.endpoint.tls === 'implicit') return this.fail('NO_GREETING');
    const works = await this.tryMode('implicit', this.endpoint.port);
    return this.fail(works ? 'PLAIN_TO_TLS_PORT' : 'NO_GREETING', { works });
  }

  /** DNS, TCP and, for implicit TLS, the handshake: a connection ready for the greeting. */
  async open(): Promise<Wire> {
    const { host, port, tls } = this.endpoint;
    const resolved = await this.step('dns', async () => {
      const found = await this.settings.dns.resolveHost(host).catch((err: DnsError) => this.fail(recognizeDnsError(err.code), { said: err.code }));
      return { value: found, detail: dnsDetail(found), data: { a: found.a, aaaa: found.aaaa, via: found.via } };
    });
    const socket = await this.step('tcp', async () => {
      const tried: string[] = [];
      let last: NetError | null = null;
      for (const { address } of resolved.addresses) {
        try {
          const connected = await connectTcp(address, port, { timeoutMs: this.settings.timeoutMs, signal: this.settings.signal });
          this.address = address;
          const others = tried.length ? ` (after ${tried.join(', ')} failed)` : '';
          this.note(`connected to ${address}:${port}`);
          return { value: connected, detail: `connected to ${address}:${port}${others}`, data: { address, tried } };
        } catch (err) {
          if (!(err instanceof NetError)) throw err;
          if (err.code === 'ABORTED') throw err;
          last = err;
          tried.push(`${address} (${err.code})`);
        }
      }
      return this.fail(recognizeConnectError(last?.code, this.protocol, port), { said: resolved.addresses.length > 1 ? tried.join(', ') : undefined });
    });
    if (tls !== 'implicit') return new Wire(socket, this.settings.timeoutMs, this.settings.signal, this.wireTrace);
    const secure = await this.tlsStep(() => handshake(socket, trustOptions(host, this.settings.trust), this.settings.timeoutMs, this.settings.signal)).catch((err: unknown) => {
      socket.destroy();
      throw err;
    });
    return new Wire(secure, this.settings.timeoutMs, this.settings.signal, this.wireTrace);
  }

  /**
   * Runs a handshake and judges it: version, cipher, certificate. A server that
   * answers in plain text is a TLS-mode mismatch, and the other mode is tried.
   */
  async tlsStep(run: () => Promise<TLSSocket>): Promise<TLSSocket> {
    const { host, port, tls } = this.endpoint;
    return this.step('tls', async () => {
      let secure: TLSSocket;
      try {
        secure = await run();
      } catch (err) {
        if (!(err instanceof NetError) || err.code === 'ABORTED') throw err;
        if (tls === 'implicit' && (looksLikeNotTls(`${err.code} ${err.message}`) || err.code === 'ECONNRESET' || err.code === 'CLOSED')) {
          const works = await this.tryMode('starttls', port);
          if (works || looksLikeNotTls(`${err.code} ${err.message}`)) this.fail('TLS_TO_PLAIN_PORT', { works, said: err.message });
        }
        if (err.code === 'TIMEOUT') this.fail('TIMEOUT');
        this.fail('TLS_HANDSHAKE_FAILED', { said: err.message });
      }
      const judged = await judgeTls(secure, host, this.settings.trust, { timeoutMs: this.settings.timeoutMs, lookup: this.settings.dns.lookup, trace: this.settings.trace, signal: this.settings.signal });
      this.tls = judged.report;
      const r = judged.report;
      const detail = `${r.version ?? 'TLS'}, ${r.cipher ?? 'unknown cipher'}; certificate ${r.subject}${r.sans.length ? ` (${r.sans.join(', ')})` : ''}, issued by ${r.issuer}, valid until ${r.not_after.slice(0, 10)} (${r.days_left} days left); chain: ${r.verdict}`;
      if (judged.problem) this.fail(judged.problem, { facts: judged.facts }, { ...r });
      return { value: secure, detail, data: { ...r } };
    });
  }

  /**
   * Whether `mode` works on `port` of the same server: a short second
   * connection that goes as far as the greeting (and, for STARTTLS, the
   * capability that offers it). Returns what works, or null.
   */
  async tryMode(mode: TlsMode, port: number): Promise<{ tls: TlsMode; port: number } | null> {
    // An HTTPS host is not a mail server: there is no other mode to try.
    if (!this.address || this.protocol === 'https') return null;
    this.note(`trying ${mode === 'implicit' ? 'implicit TLS' : 'plain text / STARTTLS'} on port ${port}`);
    const found = await probeEndpoint({ protocol: this.protocol as MailProtocol, host: this.endpoint.host, address: this.address, port, mode, trust: this.settings.trust, timeoutMs: this.settings.timeoutMs, signal: this.settings.signal, trace: this.wireTrace });
    return found ? { tls: found, port } : null;
  }

  result() {
    return {
      protocol: this.protocol,
      endpoint: this.endpoint,
      steps: this.steps,
      failure: this.failure,
      address: this.address,
      tls: this.tls,
      total_ms: Date.now() - this.startedAt,
    };
  }
}

function dnsDetail(found: ResolvedHost): string {
  if (found.via === 'literal') return `${found.host} is an address: no lookup`;
  const chosen = found.addresses[0]?.address ?? 'none';
  return `${found.host}: A ${found.a.join(' ') || 'none'}, AAAA ${found.aaaa.join(' ') || 'none'}; using ${chosen}`;
}

export interface EndpointProbe {
  protocol: MailProtocol;
  host: string;
  address: string;
  port: number;
  /** implicit: TLS from the first byte; anything else: plain text first. */
  mode: TlsMode;
  trust: TrustSettings;
  timeoutMs: number;
  signal: AbortSignal;
  trace: WireTrace | null;
}

/**
 * Whether a mail server answers on a port in a TLS mode: connects, greets
 * and, in plain text, asks whether STARTTLS is offered. The certificate is
 * not judged here (that is the diagnosis' job). Returns the mode that works
 * ("none" when plain text works without STARTTLS), or null.
 */
export async function probeEndpoint(p: EndpointProbe): Promise<TlsMode | null> {
  const budget = Math.min(p.timeoutMs, 5_000);
  let wire: Wire | null = null;
  try {
    let socket: import('node:net').Socket = await connectTcp(p.address, p.port, { timeoutMs: budget, signal: p.signal });
    if (p.mode === 'implicit') socket = await handshake(socket, trustOptions(p.host, p.trust), budget, p.signal);
    wire = new Wire(socket, budget, p.signal, p.trace);
    const found = await (p.protocol === 'imap' ? probeImap(wire) : probeSmtp(wire));
    if (!found.greeted) return null;
    if (p.mode === 'implicit') return 'implicit';
    return found.starttls ? 'starttls' : 'none';
  } catch {
    return null;
  } finally {
    wire?.close();
  }
}

async function probeImap(wire: Wire): Promise<{ greeted: boolean; starttls: boolean }> {
  const greeting = await wire.readImapResponse();
  if (greeting.type !== 'untagged' || (greeting.kind !== 'OK' && greeting.kind !== 'PREAUTH')) return { greeted: false, starttls: false };
  let caps = capabilitiesOf(greeting);
  if (!caps) {
    wire.write('p1 CAPABILITY');
    for (let r = await wire.readImapResponse(); r.type !== 'tagged' || r.tag !== 'p1'; r = await wire.readImapResponse()) caps = capabilitiesOf(r) ?? caps;
  }
  wire.write('p2 LOGOUT');
  return { greeted: true, starttls: hasCapability(caps ?? [], 'STARTTLS') };
}

/** TLS options for a diagnosis' handshakes: SNI and --ca-file as every connection has them. */
export function trustOptions(host: string, trust: TrustSettings) {
  return tlsOptions(host, trust.insecure, trust.ca);
}

async function probeSmtp(wire: Wire): Promise<{ greeted: boolean; starttls: boolean }> {
  const greeting = await readSmtpReply(wire);
  if (greeting.code !== 220) return { greeted: false, starttls: false };
  wire.write('EHLO [127.0.0.1]');
  const ehlo = await readSmtpReply(wire);
  wire.write('QUIT');
  return { greeted: true, starttls: ehlo.lines.some((l) => /^STARTTLS\b/i.test(l)) };
}

export interface SmtpReply {
  code: number;
  /** Text of each line without the code. */
  lines: string[];
  /** The whole reply as the server sent it, lines joined with a space. */
  text: string;
}

/** One SMTP reply, all its lines (250-... 250 ...). */
export async function readSmtpReply(wire: Wire, timeoutMs?: number): Promise<SmtpReply> {
  const lines: string[] = [];
  const raw: string[] = [];
  for (;;) {
    const line = await wire.readLine(timeoutMs);
    raw.push(line);
    const match = /^(\d{3})([ -]?)(.*)$/.exec(line);
    if (!match) return { code: 0, lines: [line], text: raw.join(' ') };
    lines.push(match[3]!);
    if (match[2] !== '-') return { code: Number(match[1]), lines, text: raw.join(' ') };
  }
}
