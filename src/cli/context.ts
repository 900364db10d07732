/**
 * What a command runs with: its I/O streams and what they are (TTY or not),
 * the environment, the output mode, colour, prompting, timeouts and tracing.
 * Commands receive it instead of touching process.* so tests and scripts see
 * one consistent behaviour.
 */
import type { Readable, Writable } from 'node:stream';
import { Redactor } from '../core/redact.js';
import { resolveHome } from '../store/home.js';
import type { ProviderRuntime } from '../domain/provider.js';

export interface IOStreams {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export type OutputMode = 'json' | 'ndjson' | 'table' | 'tsv';

export interface GlobalFlags {
  account?: string;
  json?: boolean;
  ndjson?: boolean;
  color?: boolean;
  input?: boolean;
  timeout?: number;
  trace?: boolean;
  passphraseFile?: string;
}

export class CliContext {
  readonly redactor = new Redactor();
  readonly abort = new AbortController();
  readonly home: string;

  constructor(
    readonly io: IOStreams,
    readonly env: NodeJS.ProcessEnv,
    readonly flags: GlobalFlags,
  ) {
    this.home = resolveHome(env);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get output(): OutputMode {
    if (this.flags.json) return 'json';
    if (this.flags.ndjson) return 'ndjson';
    return this.io.stdout.isTTY ? 'table' : 'tsv';
  }

  get isMachineOutput(): boolean {
    return this.flags.json === true || this.flags.ndjson === true;
  }

  /** Prompts only with a person at both ends, and never in CI or with --no-input. */
  get canPrompt(): boolean {
    return (
      this.io.stdin.isTTY === true &&
      this.io.stdout.isTTY === true &&
      this.flags.input !== false &&
      !this.env.CI
    );
  }

  /** Colour on a TTY only; never with NO_COLOR or --no-color; FORCE_COLOR forces it. */
  colorFor(stream: 'stdout' | 'stderr'): boolean {
    if (this.flags.color === false) return false;
    if (this.env.NO_COLOR !== undefined && this.env.NO_COLOR !== '') return false;
    if (this.env.FORCE_COLOR !== undefined && this.env.FORCE_COLOR !== '0' && this.env.FORCE_COLOR !== 'false') return true;
    return this.io[stream].isTTY === true && this.env.TERM !== 'dumb';
  }

  get timeoutMs(): number {
    return Math.round((this.flags.timeout ?? 30) * 1000);
  }

  /** Writes data to stdout. */
  out(text: string): void {
    this.io.stdout.write(text);
  }

  /** A line for people, on stderr. */
  note(message: string): void {
    this.io.stderr.write(this.redactor.redact(message) + '\n');
  }

  warn(message: string): void {
    this.note(`${this.colorFor('stderr') ? '\u001b[33mwarning:\u001b[39m' : 'warning:'} ${message}`);
  }

  /** What providers need from the CLI: timeouts, tracing through the redactor, warnings. */
  runtime(): ProviderRuntime {
    const trace = this.flags.trace
      ? (source: string, direction: string, line: string) => {
          this.io.stderr.write(`[${source}] ${direction}: ${this.redactor.redact(line.replace(/\r?\n$/, ''))}\n`);
        }
      : null;
    // MAILOPS_DNS_SERVERS: connections go to the address those servers give (split-horizon DNS, tests).
    const resolveHost = this.env.MAILOPS_DNS_SERVERS
      ? async (host: string) => (await import('../net/dns.js')).hostResolverFromEnv(this.env, this.timeoutMs)!(host)
      : null;
    return { timeoutMs: this.timeoutMs, trace, warn: (m) => this.warn(m), resolveHost, env: this.env };
  }
}
