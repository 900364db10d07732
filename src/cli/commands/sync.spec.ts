/** `mailops sync`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folders?: string;
  full?: boolean;
  since?: string;
  headersOnly?: boolean;
  maxBody: string;
  wait?: boolean;
  maxTime?: number;
  onNew?: string;
  unreadOnly?: boolean;
  markRead?: boolean;
  rebuildCache?: boolean;
}

export const spec: CommandSpec = {
  name: 'sync',
  description: 'bring the local cache up to date (incremental, safe to kill, one run per account at a time)',
  arguments: [{ name: '[names...]', help: 'accounts (default: all, in priority order)' }],
  flags: [
    { flags: '--folders <list>', help: 'only these folders, comma-separated full paths (default: all)' },
    { flags: '--full', help: 'ignore what is cached and fetch everything again' },
    { flags: '--since <date>', help: 'first sync of a folder: only mail that arrived on or after DATE' },
    { flags: '--headers-only', help: 'envelopes and flags only, no bodies' },
    { flags: '--max-body <size>', help: 'store bodies up to SIZE; bigger ones are read live', default: '2M' },
    { flags: '--wait', help: 'wait for a running sync of the same account instead of exiting 75' },
    { flags: '--max-time <seconds>', help: 'wall-clock budget; work done by then is kept', parse: 'seconds' },
    { flags: '--on-new <command>', help: 'run COMMAND for each new message (raw message on stdin, MAILOPS_* variables)' },
    { flags: '--unread-only', help: 'with --on-new: only unread messages' },
    { flags: '--mark-read', help: 'with --on-new: mark messages read once COMMAND succeeded' },
    { flags: '--rebuild-cache', help: 'set the database aside and start a new one (accounts and secrets kept), then sync: the way back from a damaged mailops.db' },
  ],
  server: true,
  stream: true,
};
