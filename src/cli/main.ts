/**
 * Entry point: parse the command line, run one command, exit with its code.
 * Only commander and the program definition load here; each command's module
 * (and with it imapflow, SQLite, ...) is imported when that command runs.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { CliContext, type GlobalFlags, type IOStreams } from './context.js';
import { ExitCode, reportError } from './errors.js';
import { MailopsError } from '../domain/errors.js';

export type CommandModule = {
  // Each command declares the shape of its own options; commander's opts() is untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  run(ctx: CliContext, args: unknown[], options: any): Promise<number>;
};

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  connect: () => import('./commands/connect.js'),
  disconnect: () => import('./commands/disconnect.js'),
  status: () => import('./commands/status.js'),
  folders: () => import('./commands/folders.js'),
  ls: () => import('./commands/ls.js'),
  read: () => import('./commands/read.js'),
  send: () => import('./commands/send.js'),
  mark: () => import('./commands/mark.js'),
  move: () => import('./commands/move.js'),
  search: () => import('./commands/search.js'),
  sync: () => import('./commands/sync.js'),
};

export async function main(argv: string[], io: IOStreams, env: NodeJS.ProcessEnv): Promise<number> {
  let exitCode: number = ExitCode.OK;
  let ctx: CliContext | null = null;
  const wantsJson = argv.includes('--json') || argv.includes('--ndjson');

  const program = buildProgram(async (name, args, options) => {
    ctx = new CliContext(io, env, options as GlobalFlags);
    const current = ctx;
    // A sync logs in at once (cron runs it every few minutes): the secret file's key is derived
    // while the command's modules load (src/secrets/unlock-early.ts).
    if (name === 'sync') {
      void import('../secrets/unlock-early.js').then((m) => m.unlockEarly(current.home, env, current.flags.passphraseFile));
    }
    const onSigint = () => current.abort.abort();
    process.once('SIGINT', onSigint);
    try {
      const load = COMMANDS[name];
      if (!load) throw new MailopsError('USAGE', `unknown command ${name}`);
      const mod = await load();
      exitCode = await mod.run(current, args, options);
      if (current.signal.aborted) exitCode = ExitCode.INTERRUPTED;
    } catch (error) {
      exitCode = current.signal.aborted ? reportError(current, new MailopsError('INTERRUPTED', 'interrupted')) : reportError(current, error);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
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
