/** `mailops disconnect`: its options as the run part receives them, and its flags and help. */
import type { CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
}

export const spec: CommandSpec = {
  name: 'disconnect',
  description: 'remove an account, its secrets and its cache',
  arguments: [{ name: '<name>', help: 'account name' }],
  flags: [],
  server: true,
};
