/** `mailops search`: its options as the run part receives them, and its flags and help. */
import { FOLDER_FLAG, PAGING_FLAGS, type CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folder: string;
  allFolders?: boolean;
  limit: number;
  page: number;
  explain?: boolean;
  offline?: boolean;
}

export const spec: CommandSpec = {
  name: 'search',
  description: 'search messages with the query language (see README)',
  arguments: [{ name: '<query...>', help: 'query, e.g. from:alice is:unread since:7d "quarterly report"' }],
  flags: [
    { flags: '--all-folders', help: 'search every folder' },
    ...PAGING_FLAGS,
    { flags: '--explain', help: 'print the provider-native query; search nothing' },
    { flags: '--offline', help: 'search the cache that mailops sync fills; do not connect' },
    FOLDER_FLAG,
  ],
  server: true,
  stream: true,
};
