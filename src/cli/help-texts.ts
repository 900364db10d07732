/**
 * The help and version texts as commander prints them to a pipe (80 columns, no colour),
 * rendered at build time into dist/cli/help-texts.json. bin/mailops answers `--help`,
 * `CMD --help`, `help [CMD]` and `--version` from that file when its output goes to a
 * pipe, without loading the program: scripts and completion helpers ask for help often,
 * and loading commander and the program definition costs more than Node's own start.
 * test/e2e/cli-help.test.ts checks that both ways print the same bytes.
 */
import type { Command } from 'commander';
import { VERSION } from './version.js';

export interface HelpTexts {
  version: string;
  /** '' is the program's own help; every other key a command's. */
  help: Record<string, string>;
}

function render(command: Command): string {
  // What commander uses when stdout is not a terminal: its default width (80), no colour.
  command.configureOutput({ getOutHelpWidth: () => 80, getOutHasColors: () => false });
  return command.helpInformation();
}

export function helpTexts(program: Command): HelpTexts {
  const help: Record<string, string> = { '': render(program) };
  for (const command of program.commands) help[command.name()] = render(command);
  return { version: `${VERSION}\n`, help };
}
