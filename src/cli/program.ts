/**
 * The command-line surface: every command, flag and help text, and nothing
 * else, built from the static specs beside each command's Options
 * (src/cli/commands/<name>.spec.ts). Actions load their command module with import() only when they run,
 * so `mailops --help` never loads imapflow, nodemailer, mailparser or SQLite.
 * Completions (completions/) are generated from this definition.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from './version.js';
import type { CommandSpec, FlagParser, FlagSpec } from './command-spec.js';
import { spec as connect } from './commands/connect.spec.js';
import { spec as disconnect } from './commands/disconnect.spec.js';
import { spec as folders } from './commands/folders.spec.js';
import { spec as ls } from './commands/ls.spec.js';
import { spec as mark } from './commands/mark.spec.js';
import { spec as move } from './commands/move.spec.js';
import { spec as read } from './commands/read.spec.js';
import { spec as search } from './commands/search.spec.js';
import { spec as send } from './commands/send.spec.js';
import { spec as status } from './commands/status.spec.js';
import { spec as sync } from './commands/sync.spec.js';

/** What every command's run function receives from commander. */
export type CommandRunner = (args: unknown[], options: Record<string, unknown>) => Promise<void>;

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
    }
    return Number(value);
  };
}

function nonNegativeInt(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface CommonOptions {
  /** Talks to a server: --timeout and --trace apply. */
  server?: boolean;
  /** Streams a list: --ndjson applies. */
  stream?: boolean;
}

function common(cmd: Command, opts: CommonOptions = {}): Command {
  cmd.option('-a, --account <name>', 'account to use (default: $MAILOPS_ACCOUNT, else the default account)');
  cmd.option('--json', 'print JSON on stdout');
  if (opts.stream) cmd.option('--ndjson', 'print one JSON object a line on stdout');
  cmd.option('--no-color', 'never colour the output');
  cmd.option('--no-input', 'never prompt; a missing value is a usage error');
  if (opts.server) {
    cmd.option('--timeout <seconds>', 'network timeout in seconds', seconds, 30);
    cmd.option('--trace', 'write the protocol conversation to stderr, credentials redacted');
    cmd.option('--passphrase-file <file>', 'passphrase of the encrypted secret file (else $MAILOPS_PASSPHRASE)');
  }
  return cmd;
}

/** Every command in the order of `mailops --help`; specs are data, the run parts load on use. */
const COMMANDS: readonly CommandSpec[] = [connect, disconnect, status, folders, ls, read, send, mark, move, search, sync];

const PARSERS: Record<FlagParser, (flag: FlagSpec) => (value: string, previous: never) => unknown> = {
  positiveInt: (flag) => positiveInt(longName(flag)),
  nonNegativeInt: () => nonNegativeInt,
  seconds: () => seconds,
  collect: () => collect,
};

function longName(flag: FlagSpec): string {
  return /--[a-z-]+/.exec(flag.flags)![0];
}

function optionOf(flag: FlagSpec): Option {
  const option = new Option(flag.flags, flag.help);
  if (flag.choices) option.choices(flag.choices);
  // Each parser knows its own value type; commander only stores what it returns.
  if (flag.parse) option.argParser(PARSERS[flag.parse](flag) as (value: string, previous: unknown) => unknown);
  if (flag.default !== undefined) option.default(flag.default);
  return option;
}

/**
 * Builds the program. `run` is called with the command's name, its positional
 * arguments and its options; main.ts maps it to a lazily imported module.
 */
export function buildProgram(run: (name: string, args: unknown[], options: Record<string, unknown>) => Promise<void>): Command {
  const program = new Command('mailops')
    .description('Mail operations from the command line: check, list, read, send, search and sync mail.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false });

  const action = (name: string) =>
    async function (this: Command, ...all: unknown[]): Promise<void> {
      // commander passes (...positionals, options, command)
      const args = all.slice(0, -2);
      await run(name, args, this.opts());
    };

  for (const spec of COMMANDS) {
    const cmd = program.command(spec.name);
    for (const arg of spec.arguments ?? []) cmd.argument(arg.name, arg.help);
    cmd.description(spec.description);
    for (const flag of spec.flags) cmd.addOption(optionOf(flag));
    cmd.action(action(spec.name));
    common(cmd, { server: spec.server, stream: spec.stream });
  }

  return program;
}
