/** `mailops connect`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';
import type { ProviderName, SecretStoreKind, TlsMode } from '../../domain/types.js';

export interface Options {
  account?: string;
  provider?: ProviderName;
  email?: string;
  user?: string;
  imapHost?: string;
  imapPort?: number;
  imapTls?: TlsMode;
  smtpHost?: string;
  smtpPort?: number;
  smtpTls?: TlsMode;
  passwordEnv?: string;
  passwordFile?: string;
  passwordStdin?: boolean;
  passwordCmd?: string;
  insecure?: boolean;
  caFile?: string;
  secretStore?: SecretStoreKind;
  default?: boolean;
  priority?: number;
  diagnose?: boolean;
  explain?: boolean;
  backend?: 'api' | 'imap';
  readOnly?: boolean;
  scopeFull?: boolean;
}

export const spec: CommandSpec = {
  name: 'connect',
  description: 'add an account, or repair one with the same name; tests the login before saving',
  arguments: [{ name: '[name]', help: 'account name (default: the address)' }],
  flags: [
    { flags: '--provider <provider>', help: 'provider (default: guessed from the address)', choices: ['imap', 'gmail', 'outlook'] },
    { flags: '--email <address>', help: 'email address (gmail api: optional, the signed-in profile says it)' },
    { flags: '--user <login>', help: 'login name (default: the address)' },
    { flags: '--imap-host <host>', help: 'IMAP server' },
    { flags: '--imap-port <port>', help: 'IMAP port', parse: 'positiveInt' },
    { flags: '--imap-tls <mode>', help: 'IMAP TLS mode', choices: ['implicit', 'starttls', 'none'] },
    { flags: '--smtp-host <host>', help: 'SMTP server' },
    { flags: '--smtp-port <port>', help: 'SMTP port', parse: 'positiveInt' },
    { flags: '--smtp-tls <mode>', help: 'SMTP TLS mode', choices: ['implicit', 'starttls', 'none'] },
    { flags: '--password-env <var>', help: 'read the password from this environment variable' },
    { flags: '--password-file <file>', help: 'read the password from the first line of this file' },
    { flags: '--password-stdin', help: 'read the password from standard input' },
    { flags: '--password-cmd <command>', help: 'run this command at each use; its output is the password (only the command is stored)' },
    { flags: '--insecure', help: 'do not verify TLS certificates (stored, and warned about at each use)' },
    { flags: '--ca-file <pem>', help: 'trust this private CA' },
    { flags: '--secret-store <kind>', help: 'where secrets live', choices: ['keychain', 'file'] },
    { flags: '--client-id <id>', help: 'OAuth client id of your app registration (gmail, outlook)' },
    { flags: '--client-secret <secret>', help: 'OAuth client secret (gmail; stored in the secret store)' },
    { flags: '--client-secrets <file>', help: "Google's downloaded OAuth client JSON (\"installed\" or \"web\")" },
    { flags: '--tenant <tenant>', help: 'Microsoft tenant: common, organizations, consumers, or an id (default: common)' },
    { flags: '--no-browser', help: 'OAuth: print the sign-in URL and read back the address the browser ends on' },
    { flags: '--device-code', help: 'OAuth: sign in with a code on another device (outlook)' },
    { flags: '--port <n>', help: 'OAuth: fixed loopback port for the sign-in redirect (e.g. for ssh -L)', parse: 'positiveInt' },
    { flags: '--backend <backend>', help: "gmail, outlook: the provider's API (api, the default for new accounts: the Gmail API, Microsoft Graph) or IMAP and SMTP with the token (imap)", choices: ['api', 'imap'] },
    { flags: '--read-only', help: 'api backend: ask only for read access (gmail.readonly, Graph Mail.Read); commands that change or send mail then exit 3' },
    { flags: '--scope-full', help: 'gmail api: ask for https://mail.google.com/ (needed by move --expunge)' },
    { flags: '--default', help: 'make this the default account' },
    { flags: '--priority <n>', help: 'sync order: lower runs first', parse: 'nonNegativeInt' },
    { flags: '--diagnose', help: 'check these settings step by step like status --diagnose; save nothing' },
    { flags: '--explain', help: 'show every discovery source (autoconfig, DNS SRV, MX, probed names) and what it said; save nothing' },
  ],
  server: true,
};
