/**
 * The declarative shape of a command's surface: its arguments, flags and help, kept beside the
 * command's Options type in src/cli/commands/<name>.spec.ts. Specs are plain data (no command code,
 * no heavy import), so program.ts can turn all of them into commander calls for `--help` and
 * completions while each command's run part stays lazily imported.
 */
export type FlagParser = 'positiveInt' | 'nonNegativeInt' | 'seconds' | 'collect';

export interface FlagSpec {
  /** As commander writes it: '-f, --folder <path>'. */
  flags: string;
  help: string;
  parse?: FlagParser;
  choices?: readonly string[];
  default?: string | number;
}

export interface ArgumentSpec {
  /** As commander writes it: '<id>', '[names...]'. */
  name: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  arguments?: readonly ArgumentSpec[];
  flags: readonly FlagSpec[];
  /** Talks to a server: --timeout, --trace and --passphrase-file apply. */
  server?: boolean;
  /** Streams a list: --ndjson applies. */
  stream?: boolean;
}

/** The -f/--folder flag of the commands that act inside one folder. */
export const FOLDER_FLAG: FlagSpec = { flags: '-f, --folder <path>', help: 'folder, by its full path as `mailops folders` prints it', default: 'INBOX' };

/** Paging of the commands that list messages (ls, search). */
export const PAGING_FLAGS: readonly FlagSpec[] = [
  { flags: '--limit <n>', help: 'messages per page', parse: 'positiveInt', default: 50 },
  { flags: '--page <p>', help: 'page number, from 1', parse: 'positiveInt', default: 1 },
];
