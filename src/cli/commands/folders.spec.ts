/** `mailops folders`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  offline?: boolean;
}

export const spec: CommandSpec = {
  name: 'folders',
  description: 'folders with their role, unread and total counts',
  flags: [
    { flags: '--offline', help: 'read the folder list cached by the last live run' },
  ],
  server: true,
  stream: true,
};
