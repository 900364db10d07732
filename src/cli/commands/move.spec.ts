/** `mailops move`: its options as the run part receives them, and its flags and help. */
import { FOLDER_FLAG, type CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folder: string;
  to?: string;
  trash?: boolean;
  expunge?: boolean;
  yes?: boolean;
  query?: string;
}

export const spec: CommandSpec = {
  name: 'move',
  description: 'move messages to a folder or the trash, or delete them for good',
  arguments: [{ name: '[ids...]', help: 'message ids' }],
  flags: [
    { flags: '--to <folder>', help: 'destination folder' },
    { flags: '--trash', help: "move to the account's trash folder" },
    { flags: '--expunge', help: 'delete for good (needs --yes)' },
    { flags: '--yes', help: 'confirm --expunge' },
    { flags: '--query <query>', help: 'act on the messages this search finds in --folder' },
    FOLDER_FLAG,
  ],
  server: true,
};
