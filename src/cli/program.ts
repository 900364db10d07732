/**
 * The command-line surface: every command, flag and help text, and nothing else, built from the
 * static specs beside each command's Options (src/cli/commands/<name>.spec.ts). Completions
 * (completions/) and the pre-rendered help texts are generated from this definition.
 */
import type { Command } from 'commander';
import type { CommandSpec } from './command-spec.js';
import { spec as connect } from './commands/connect.spec.js';
import { spec as disconnect } from './commands/disconnect.spec.js';
import { spec as folders } from './commands/folders.spec.js';
import { spec as ls } from './commands/ls.spec.js';
import { spec as mark } from './commands/mark.spec.js';
import { spec as move } from './commands/move.spec.js';
import { spec as read } from './commands/read.spec.js';
import { spec as search } from './commands/search.spec.js';
import { spec as send } from './commands/send.spec.js';
import { spec as status } from './commands/status.spec.js';
import { spec as sync } from './commands/sync.spec.js';
import { buildProgramFrom, type Runner } from './program-builder.js';

export type { CommandRunner } from './program-builder.js';

/** Every command in the order of `mailops --help`; specs are data, the run parts load on use. */
export const COMMAND_SPECS: readonly CommandSpec[] = [connect, disconnect, status, folders, ls, read, send, mark, move, search, sync];

export function buildProgram(run: Runner): Command {
  return buildProgramFrom(COMMAND_SPECS, run);
}
