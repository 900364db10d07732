/** `mailops ls`: its options as the run part receives them, and its flags and help. */
import { PAGING_FLAGS, type CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folder?: string;
  limit: number;
  page: number;
  unread?: boolean;
  since?: string;
  before?: string;
  from?: string;
  offline?: boolean;
}

export const spec: CommandSpec = {
  name: 'ls',
  description: 'messages of one folder, newest first',
  arguments: [{ name: '[folder]', help: 'folder (default: INBOX)' }],
  flags: [
    { flags: '-f, --folder <path>', help: 'folder, same as the argument' },
    ...PAGING_FLAGS,
    { flags: '--unread', help: 'only unread messages' },
    { flags: '--since <date>', help: 'on or after DATE (YYYY-MM-DD, today, yesterday, 7d, 2w, 6m, 1y)' },
    { flags: '--before <date>', help: 'before DATE' },
    { flags: '--from <text>', help: 'sender contains TEXT' },
    { flags: '--offline', help: 'read the cache that mailops sync fills; do not connect' },
  ],
  server: true,
  stream: true,
};
