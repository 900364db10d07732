/** `mailops status`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  offline?: boolean;
  diagnose?: boolean;
  nagios?: boolean;
  probe?: boolean;
  probeTo?: string;
}

export const spec: CommandSpec = {
  name: 'status',
  description: 'account state, with a live login check and its round-trip time',
  arguments: [{ name: '[names...]', help: 'accounts (default: all)' }],
  flags: [
    { flags: '--offline', help: 'report stored state only; do not connect' },
    { flags: '--diagnose', help: 'the connection step by step (DNS, TCP, TLS, greeting, login, first command); the first failure explained' },
    { flags: '--nagios', help: 'one monitoring-plugins line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN' },
    { flags: '-w, --warning <metric=range>', help: 'with --nagios: warning threshold, e.g. time=2, cert_days=30: (repeatable)', parse: 'collect' },
    { flags: '-c, --critical <metric=range>', help: 'with --nagios: critical threshold, e.g. unseen=100, unseen_age=3600 (repeatable)', parse: 'collect' },
    { flags: '-f, --folder <path>', help: 'folder for the first command and the message counts', default: 'INBOX' },
    { flags: '--probe', help: 'send a tagged message to the account itself, time its arrival, then delete it' },
    { flags: '--probe-to <address>', help: 'send the probe to ADDRESS and watch for it through the account that has that address' },
    { flags: '--probe-wait <seconds>', help: 'how long to wait for the probe to arrive (default 120)', parse: 'seconds' },
  ],
  server: true,
  stream: true,
};
