/** `mailops send`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  subject?: string;
  body?: string;
  bodyFile?: string;
  html?: string;
  htmlFile?: string;
  attach?: string[];
  from?: string;
  replyTo?: string;
  header?: string[];
  raw?: string;
  dryRun?: boolean;
  save: boolean;
}

export const spec: CommandSpec = {
  name: 'send',
  description: 'send a message over SMTP (body from --body, --body-file or stdin)',
  flags: [
    { flags: '--to <address>', help: 'recipient (repeatable, or comma-separated)', parse: 'collect' },
    { flags: '--cc <address>', help: 'copy recipient (repeatable, or comma-separated)', parse: 'collect' },
    { flags: '--bcc <address>', help: 'blind copy recipient (repeatable, or comma-separated)', parse: 'collect' },
    { flags: '--subject <text>', help: 'subject' },
    { flags: '--body <text>', help: 'text body' },
    { flags: '--body-file <file>', help: 'text body from a file' },
    { flags: '--html <html>', help: 'HTML body (with a text body: multipart/alternative)' },
    { flags: '--html-file <file>', help: 'HTML body from a file' },
    { flags: '--attach <file>', help: 'attach a file (repeatable)', parse: 'collect' },
    { flags: '--from <address>', help: 'sender (default: the account address)' },
    { flags: '--reply-to <address>', help: 'Reply-To address' },
    { flags: '--header <line>', help: "extra header 'Name: value' (repeatable)", parse: 'collect' },
    { flags: '--raw <file>', help: "send a prepared RFC 5322 message as it is ('-' for stdin)" },
    { flags: '--dry-run', help: 'print the message that would be sent; send nothing' },
    { flags: '--no-save', help: 'do not save a copy in Sent' },
  ],
  server: true,
};
