// In-memory I/O streams for unit tests of the CLI layer: each stream says whether it is a TTY
// (and how wide), and records what was written to it.
import { PassThrough, Writable } from 'node:stream';
import { CliContext, type GlobalFlags, type IOStreams } from '../../src/cli/context.js';

export interface FakeIo {
  io: IOStreams;
  stdout(): string;
  stderr(): string;
}

export interface FakeIoOptions {
  /** Which streams are terminals (default: none, as in a pipe). */
  tty?: { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** Terminal width of stdout. */
  columns?: number;
  /** Every write to stdout fails with this errno code (EPIPE: its reader has gone). */
  stdoutFails?: string;
}

function recorder(isTTY: boolean, columns?: number, fails?: string): Writable & { isTTY: boolean; columns?: number; text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (fails !== undefined) return done(Object.assign(new Error(`write ${fails}`), { code: fails, syscall: 'write' }));
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(stream, { isTTY, ...(columns === undefined ? {} : { columns }), text: () => chunks.join('') });
}

export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty?.stdin === true });
  const stdout = recorder(options.tty?.stdout === true, options.columns, options.stdoutFails);
  const stderr = recorder(options.tty?.stderr === true);
  return { io: { stdin, stdout, stderr }, stdout: () => stdout.text(), stderr: () => stderr.text() };
}

/** A CliContext over fake streams; env defaults to a bare one (no NO_COLOR, CI, FORCE_COLOR...). */
export function fakeContext(options: FakeIoOptions & { env?: NodeJS.ProcessEnv; flags?: GlobalFlags } = {}): FakeIo & { ctx: CliContext } {
  const fake = fakeIo(options);
  const ctx = new CliContext(fake.io, { MAILOPS_HOME: '/nonexistent/mailops-unit', ...options.env }, options.flags ?? {});
  return { ...fake, ctx };
}
