/**
 * The command-line surface: every command, flag and help text, and nothing
 * else. Actions load their command module with import() only when they run,
 * so `mailops --help` never loads imapflow, nodemailer, mailparser or SQLite.
 * Completions (completions/) are generated from this definition.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from './version.js';

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

function folderOption(cmd: Command): Command {
  return cmd.option('-f, --folder <path>', 'folder, by its full path as `mailops folders` prints it', 'INBOX');
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

  common(
    program
      .command('connect')
      .argument('[name]', 'account name (default: the address)')
      .description('add an account, or repair one with the same name; tests the login before saving')
      .addOption(new Option('--provider <provider>', 'provider (default: guessed from the address)').choices(['imap', 'gmail', 'outlook']))
      .option('--email <address>', 'email address')
      .option('--user <login>', 'login name (default: the address)')
      .option('--imap-host <host>', 'IMAP server')
      .option('--imap-port <port>', 'IMAP port', positiveInt('--imap-port'))
      .addOption(new Option('--imap-tls <mode>', 'IMAP TLS mode').choices(['implicit', 'starttls', 'none']))
      .option('--smtp-host <host>', 'SMTP server')
      .option('--smtp-port <port>', 'SMTP port', positiveInt('--smtp-port'))
      .addOption(new Option('--smtp-tls <mode>', 'SMTP TLS mode').choices(['implicit', 'starttls', 'none']))
      .option('--password-env <var>', 'read the password from this environment variable')
      .option('--password-file <file>', 'read the password from the first line of this file')
      .option('--password-stdin', 'read the password from standard input')
      .option('--password-cmd <command>', 'run this command at each use; its output is the password (only the command is stored)')
      .option('--insecure', 'do not verify TLS certificates (stored, and warned about at each use)')
      .option('--ca-file <pem>', 'trust this private CA')
      .addOption(new Option('--secret-store <kind>', 'where secrets live').choices(['keychain', 'file']))
      .option('--client-id <id>', 'OAuth client id of your app registration (gmail, outlook)')
      .option('--client-secret <secret>', 'OAuth client secret (gmail; stored in the secret store)')
      .option('--client-secrets <file>', "Google's downloaded OAuth client JSON (\"installed\" or \"web\")")
      .option('--tenant <tenant>', 'Microsoft tenant: common, organizations, consumers, or an id (default: common)')
      .option('--no-browser', 'OAuth: print the sign-in URL and read back the address the browser ends on')
      .option('--device-code', 'OAuth: sign in with a code on another device (outlook)')
      .option('--port <n>', 'OAuth: fixed loopback port for the sign-in redirect (e.g. for ssh -L)', positiveInt('--port'))
      .option('--default', 'make this the default account')
      .option('--priority <n>', 'sync order: lower runs first', nonNegativeInt)
      .option('--diagnose', 'check these settings step by step like status --diagnose; save nothing')
      .option('--explain', 'show every discovery source (autoconfig, DNS SRV, MX, probed names) and what it said; save nothing')
      .action(action('connect')),
    { server: true },
  );

  common(
    program
      .command('disconnect')
      .argument('<name>', 'account name')
      .description('remove an account, its secrets and its cache')
      .action(action('disconnect')),
    { server: true },
  );

  common(
    program
      .command('status')
      .argument('[names...]', 'accounts (default: all)')
      .description('account state, with a live login check and its round-trip time')
      .option('--offline', 'report stored state only; do not connect')
      .option('--diagnose', 'the connection step by step (DNS, TCP, TLS, greeting, login, first command); the first failure explained')
      .option('--nagios', 'one monitoring-plugins line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
      .option('-w, --warning <metric=range>', 'with --nagios: warning threshold, e.g. time=2, cert_days=30: (repeatable)', collect)
      .option('-c, --critical <metric=range>', 'with --nagios: critical threshold, e.g. unseen=100, unseen_age=3600 (repeatable)', collect)
      .option('-f, --folder <path>', 'folder for the first command and the message counts', 'INBOX')
      .option('--probe', 'send a tagged message to the account itself, time its arrival, then delete it')
      .option('--probe-to <address>', 'send the probe to ADDRESS and watch for it through the account that has that address')
      .option('--probe-wait <seconds>', 'how long to wait for the probe to arrive (default 120)', seconds)
      .action(action('status')),
    { server: true, stream: true },
  );

  common(
    program
      .command('folders')
      .description('folders with their role, unread and total counts')
      .option('--offline', 'read the folder list cached by the last live run')
      .action(action('folders')),
    { server: true, stream: true },
  );

  common(
    program
      .command('ls')
      .argument('[folder]', 'folder (default: INBOX)')
      .description('messages of one folder, newest first')
      .option('-f, --folder <path>', 'folder, same as the argument')
      .option('--limit <n>', 'messages per page', positiveInt('--limit'), 50)
      .option('--page <p>', 'page number, from 1', positiveInt('--page'), 1)
      .option('--unread', 'only unread messages')
      .option('--since <date>', 'on or after DATE (YYYY-MM-DD, today, yesterday, 7d, 2w, 6m, 1y)')
      .option('--before <date>', 'before DATE')
      .option('--from <text>', 'sender contains TEXT')
      .option('--offline', 'read the cache that mailops sync fills; do not connect')
      .action(action('ls')),
    { server: true, stream: true },
  );

  common(
    folderOption(
      program
        .command('read')
        .argument('<id>', 'message id from ls or search (or a UID in --folder)')
        .description('show a message: headers, text body, attachments; does not mark it read')
        .option('--html', 'print the HTML body')
        .option('--headers', 'print all header lines')
        .option('--raw', 'print the RFC 5322 message exactly as stored')
        .option('--save-attachments <dir>', 'save the attachments into DIR')
        .option('--force', 'overwrite existing files when saving attachments')
        .option('--mark-read', 'mark the message read')
        .option('--offline', 'read the message from the cache that mailops sync fills; do not connect'),
    ).action(action('read')),
    { server: true },
  );

  common(
    program
      .command('send')
      .description('send a message over SMTP (body from --body, --body-file or stdin)')
      .option('--to <address>', 'recipient (repeatable, or comma-separated)', collect)
      .option('--cc <address>', 'copy recipient (repeatable, or comma-separated)', collect)
      .option('--bcc <address>', 'blind copy recipient (repeatable, or comma-separated)', collect)
      .option('--subject <text>', 'subject')
      .option('--body <text>', 'text body')
      .option('--body-file <file>', 'text body from a file')
      .option('--html <html>', 'HTML body (with a text body: multipart/alternative)')
      .option('--html-file <file>', 'HTML body from a file')
      .option('--attach <file>', 'attach a file (repeatable)', collect)
      .option('--from <address>', 'sender (default: the account address)')
      .option('--reply-to <address>', 'Reply-To address')
      .option('--header <line>', "extra header 'Name: value' (repeatable)", collect)
      .option('--raw <file>', "send a prepared RFC 5322 message as it is ('-' for stdin)")
      .option('--dry-run', 'print the message that would be sent; send nothing')
      .option('--no-save', 'do not save a copy in Sent')
      .action(action('send')),
    { server: true },
  );

  common(
    folderOption(
      program
        .command('mark')
        .argument('[ids...]', 'message ids')
        .description('change flags: read, unread, flagged, unflagged')
        .option('--read', 'mark read')
        .option('--unread', 'mark unread')
        .option('--flagged', 'flag')
        .option('--unflagged', 'remove the flag')
        .option('--query <query>', 'act on the messages this search finds in --folder'),
    ).action(action('mark')),
    { server: true },
  );

  common(
    folderOption(
      program
        .command('move')
        .argument('[ids...]', 'message ids')
        .description('move messages to a folder or the trash, or delete them for good')
        .option('--to <folder>', 'destination folder')
        .option('--trash', "move to the account's trash folder")
        .option('--expunge', 'delete for good (needs --yes)')
        .option('--yes', 'confirm --expunge')
        .option('--query <query>', 'act on the messages this search finds in --folder'),
    ).action(action('move')),
    { server: true },
  );

  common(
    folderOption(
      program
        .command('search')
        .argument('<query...>', 'query, e.g. from:alice is:unread since:7d "quarterly report"')
        .description('search messages with the query language (see README)')
        .option('--all-folders', 'search every folder')
        .option('--limit <n>', 'messages per page', positiveInt('--limit'), 50)
        .option('--page <p>', 'page number, from 1', positiveInt('--page'), 1)
        .option('--explain', 'print the provider-native query; search nothing')
        .option('--offline', 'search the cache that mailops sync fills; do not connect'),
    ).action(action('search')),
    { server: true, stream: true },
  );

  common(
    program
      .command('sync')
      .argument('[names...]', 'accounts (default: all, in priority order)')
      .description('bring the local cache up to date (incremental, safe to kill, one run per account at a time)')
      .option('--folders <list>', 'only these folders, comma-separated full paths (default: all)')
      .option('--full', 'ignore what is cached and fetch everything again')
      .option('--since <date>', 'first sync of a folder: only mail that arrived on or after DATE')
      .option('--headers-only', 'envelopes and flags only, no bodies')
      .option('--max-body <size>', 'store bodies up to SIZE; bigger ones are read live', '2M')
      .option('--wait', 'wait for a running sync of the same account instead of exiting 75')
      .option('--max-time <seconds>', 'wall-clock budget; work done by then is kept', seconds)
      .option('--on-new <command>', 'run COMMAND for each new message (raw message on stdin, MAILOPS_* variables)')
      .option('--unread-only', 'with --on-new: only unread messages')
      .option('--mark-read', 'with --on-new: mark messages read once COMMAND succeeded')
      .action(action('sync')),
    { server: true, stream: true },
  );

  return program;
}
