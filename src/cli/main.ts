/**
 * Entry point: parse the command line, run one command, exit with its code.
 * Only commander and the program definition load here; each command's module
 * (and with it imapflow, SQLite, ...) is imported when that command runs.
 */
import { CommanderError, type Command } from './commander.js';
import type { CommandSpec } from './command-spec.js';
import { buildProgramFrom, type Runner } from './program-builder.js';
import { CliContext, type GlobalFlags, type IOStreams } from './context.js';
import { ExitCode, reportError } from './errors.js';
import { MailopsError } from '../domain/errors.js';

export type CommandModule = {
  // Each command declares the shape of its own options; commander's opts() is untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  run(ctx: CliContext, args: unknown[], options: any): Promise<number>;
};

/** Each command's spec (its flags, loaded alone when it runs) and its run module. */
const COMMANDS: Record<string, { spec: () => Promise<{ spec: CommandSpec }>; run: () => Promise<CommandModule> }> = {
  connect: { spec: () => import('./commands/connect.spec.js'), run: () => import('./commands/connect.js') },
  disconnect: { spec: () => import('./commands/disconnect.spec.js'), run: () => import('./commands/disconnect.js') },
  status: { spec: () => import('./commands/status.spec.js'), run: () => import('./commands/status.js') },
  folders: { spec: () => import('./commands/folders.spec.js'), run: () => import('./commands/folders.js') },
  ls: { spec: () => import('./commands/ls.spec.js'), run: () => import('./commands/ls.js') },
  read: { spec: () => import('./commands/read.spec.js'), run: () => import('./commands/read.js') },
  send: { spec: () => import('./commands/send.spec.js'), run: () => import('./commands/send.js') },
  mark: { spec: () => import('./commands/mark.spec.js'), run: () => import('./commands/mark.js') },
  move: { spec: () => import('./commands/move.spec.js'), run: () => import('./commands/move.js') },
  search: { spec: () => import('./commands/search.spec.js'), run: () => import('./commands/search.js') },
  sync: { spec: () => import('./commands/sync.spec.js'), run: () => import('./commands/sync.js') },
};

/**
 * Running one command needs its spec alone: a cron `sync` does not load the other ten (each
 * module costs about a millisecond). Without a known command (top-level help, a typo that gets
 * a suggestion, the help command) the whole program is built.
 */
async function programFor(argv: string[], run: Runner): Promise<Command> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  if (name !== undefined && Object.hasOwn(COMMANDS, name)) return buildProgramFrom([(await COMMANDS[name]!.spec()).spec], run);
  return (await import('./program.js')).buildProgram(run);
}

/** The exit code of a command stopped by SIGTERM: 128 + 15, as a shell reports a process it ended. */
const TERMINATED = 143;
/** The exit code of a command whose stdout reader went away: 128 + 13, as for a program SIGPIPE ended. */
const BROKEN_PIPE = 141;

export async function main(argv: string[], io: IOStreams, env: NodeJS.ProcessEnv): Promise<number> {
  // Node ignores SIGPIPE: a write to a pipe whose reader has gone (`mailops ls | head -1`) fails
  // with EPIPE, reported as an 'error' event that, unheard, ends the process with a stack trace.
  // Heard here, it aborts the command as Ctrl-C does (its work stops at a safe point, nothing
  // half-saved), and the exit code is 141, what a shell shows for a program SIGPIPE ended. Any
  // other failure to write stdout is said on stderr, exit 1. The listener stays: the event may
  // come after the command has returned.
  const stdoutFailed = new AbortController();
  const output: { failure: NodeJS.ErrnoException | null } = { failure: null };
  io.stdout.on('error', (error: NodeJS.ErrnoException) => {
    output.failure ??= error;
    stdoutFailed.abort();
  });
  // Messages for people that nobody reads (stderr's pipe closed) are no reason to stop.
  io.stderr.on('error', () => undefined);
  const exitCode = await runProgram(argv, io, env, stdoutFailed.signal);
  // Returns once the output is out, so the launcher may exit at once; a failed write is
  // reported a tick after it fails.
  await Promise.all([written(io.stdout), written(io.stderr)]);
  await new Promise((resolve) => setImmediate(resolve));
  const failure = output.failure;
  if (failure === null) return exitCode;
  if (failure.code === 'EPIPE') return BROKEN_PIPE;
  const json = argv.includes('--json') || argv.includes('--ndjson');
  return reportError(new CliContext(io, env, { json }), new MailopsError('FAILED', `could not write the output: ${failure.message}`));
}

/** Resolves once what was written to `stream` has been handed to the system, or has failed. */
function written(stream: IOStreams['stdout']): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

async function runProgram(argv: string[], io: IOStreams, env: NodeJS.ProcessEnv, stdoutFailed: AbortSignal): Promise<number> {
  let exitCode: number = ExitCode.OK;
  let ctx: CliContext | null = null;
  const wantsJson = argv.includes('--json') || argv.includes('--ndjson');

  const program = await programFor(argv, async (name, args, options) => {
    ctx = new CliContext(io, env, options as GlobalFlags);
    const current = ctx;
    // A sync logs in at once (cron runs it every few minutes): the secret file's key is derived
    // while the command's modules load (src/secrets/unlock-early.ts).
    if (name === 'sync') {
      void import('../secrets/unlock-early.js').then((m) => m.unlockEarly(current.home, env, current.flags.passphraseFile));
    }
    // Ctrl-C and SIGTERM (a service manager, `timeout`, a killed cron job) both stop the command
    // the same way: its signal aborts, what is open is rolled back or released (connect saves
    // nothing half-made, sync's lease and batch), and the exit code is 128 + the signal (130, 143).
    let terminated = false;
    const onSigint = () => current.abort.abort();
    const onSigterm = () => {
      terminated = true;
      current.abort.abort();
    };
    const onStdoutFailed = () => current.abort.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigterm);
    stdoutFailed.addEventListener('abort', onStdoutFailed);
    try {
      if (!Object.hasOwn(COMMANDS, name)) throw new MailopsError('USAGE', `unknown command ${name}`);
      const mod = await COMMANDS[name]!.run();
      exitCode = await mod.run(current, args, options);
      if (current.signal.aborted) exitCode = ExitCode.INTERRUPTED;
    } catch (error) {
      // Stopped for a broken stdout, the command says nothing: main gives the exit code.
      if (stdoutFailed.aborted) exitCode = ExitCode.FAILED;
      else exitCode = current.signal.aborted ? reportError(current, new MailopsError('INTERRUPTED', terminated ? 'terminated (SIGTERM)' : 'interrupted')) : reportError(current, error);
    } finally {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigterm);
      stdoutFailed.removeEventListener('abort', onStdoutFailed);
    }
    if (terminated) exitCode = TERMINATED;
  });

  // Usage errors: exit 2 (commander's default is 1), and JSON on stderr with --json.
  program.exitOverride();
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => {
      if (!wantsJson) io.stderr.write(s);
    },
  });
  for (const sub of program.commands) {
    sub.exitOverride();
    sub.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => { if (!wantsJson) io.stderr.write(s); } });
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return ExitCode.OK;
      }
      // A monitoring plugin exits 0-3 only: a bad argument is UNKNOWN (3), said on stdout.
      if (argv.find((arg) => !arg.startsWith('-')) === 'status' && argv.includes('--nagios')) {
        const { NagiosState, pluginLine } = await import('../diagnose/nagios/plugin.js');
        io.stdout.write(pluginLine(NagiosState.UNKNOWN, `bad arguments: ${error.message.replace(/^error: /, '')}`, '') + '\n');
        return NagiosState.UNKNOWN;
      }
      if (wantsJson) {
        const message = error.message.replace(/^error: /, '');
        io.stderr.write(JSON.stringify({ error: { code: 'USAGE', message, hint: 'see mailops --help' } }) + '\n');
      }
      return ExitCode.USAGE;
    }
    const fallback = ctx ?? new CliContext(io, env, {});
    return reportError(fallback, error);
  }
  return exitCode;
}
