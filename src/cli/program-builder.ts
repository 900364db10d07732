/**
 * Turns command specs (src/cli/commands/<name>.spec.ts) into the commander program: flags, help
 * texts and actions. Actions load their command module with import() only when they run, so
 * `mailops --help` never loads imapflow, nodemailer, mailparser or SQLite. program.ts builds it
 * from every spec; main.ts, running one command, from that command's spec alone.
 */
import { Command, InvalidArgumentError, Option } from './commander.js';
import { VERSION } from './version.js';
import type { CommandSpec, FlagParser, FlagSpec } from './command-spec.js';

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

/** What an action calls with the command's name, its positional arguments and its options. */
export type Runner = (name: string, args: unknown[], options: Record<string, unknown>) => Promise<void>;

/**
 * Builds the program from `specs`. `run` is called with the command's name, its positional
 * arguments and its options; main.ts maps it to a lazily imported module.
 */
export function buildProgramFrom(specs: readonly CommandSpec[], run: Runner): Command {
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

  for (const spec of specs) {
    const cmd = program.command(spec.name);
    for (const arg of spec.arguments ?? []) cmd.argument(arg.name, arg.help);
    cmd.description(spec.description);
    for (const flag of spec.flags) cmd.addOption(optionOf(flag));
    cmd.action(action(spec.name));
    common(cmd, { server: spec.server, stream: spec.stream });
  }

  return program;
}
