/** `mailops mark`: its options as the run part receives them, and its flags and help. */
import { FOLDER_FLAG, type CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folder: string;
  read?: boolean;
  unread?: boolean;
  flagged?: boolean;
  unflagged?: boolean;
  query?: string;
}

export const spec: CommandSpec = {
  name: 'mark',
  description: 'change flags: read, unread, flagged, unflagged',
  arguments: [{ name: '[ids...]', help: 'message ids' }],
  flags: [
    { flags: '--read', help: 'mark read' },
    { flags: '--unread', help: 'mark unread' },
    { flags: '--flagged', help: 'flag' },
    { flags: '--unflagged', help: 'remove the flag' },
    { flags: '--query <query>', help: 'act on the messages this search finds in --folder' },
    FOLDER_FLAG,
  ],
  server: true,
};
