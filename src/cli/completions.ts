/**
 * Shell completion scripts generated from the commander definition, so they
 * cannot drift from the flags: `npm run completions` writes completions/, and
 * test/unit/completions.test.ts fails when the files are out of date.
 */
import type { Command, Option } from 'commander';
import { FOLDER_ROLES } from '../core/folder-resolver.js';

interface CommandSpec {
  name: string;
  description: string;
  options: Array<{ flags: string[]; description: string; takesValue: boolean; choices: string[] | undefined }>;
}

/**
 * Flags that take a folder: the @role names work on every account, so they are offered (a
 * path can still be typed). `send --to` takes addresses, hence the command in the key.
 */
const FOLDER_FLAGS = new Set(['--folder', 'move --to', 'sync --folders']);
const ROLE_NAMES = FOLDER_ROLES.map((role) => `@${role}`);

function specOf(program: Command): CommandSpec[] {
  return program.commands.map((cmd) => ({
    name: cmd.name(),
    description: cmd.description(),
    options: (cmd.options as Option[]).map((o) => ({
      flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
      description: o.description,
      takesValue: o.required || o.optional,
      choices: o.argChoices ?? (FOLDER_FLAGS.has(o.long ?? '') || FOLDER_FLAGS.has(`${cmd.name()} ${o.long}`) ? ROLE_NAMES : undefined),
    })),
  }));
}

export function bashCompletion(program: Command): string {
  const specs = specOf(program);
  const cases = specs
    .map((s) => {
      const flags = s.options.flatMap((o) => o.flags).concat('--help').join(' ');
      const choiceCases = s.options
        .filter((o) => o.choices)
        .map((o) => `        ${o.flags.join('|')}) COMPREPLY=($(compgen -W "${o.choices!.join(' ')}" -- "$cur")); return ;;`)
        .join('\n');
      const fileFlags = s.options.filter((o) => o.takesValue && /file|dir|pem/i.test(o.flags.join(' ') + o.description)).flatMap((o) => o.flags);
      const fileCase = fileFlags.length ? `        ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;` : '';
      return `    ${s.name})
      case "$prev" in
${[choiceCases, fileCase].filter(Boolean).join('\n')}
      esac
      COMPREPLY=($(compgen -W "${flags}" -- "$cur")) ;;`;
    })
    .join('\n');
  return `# bash completion for mailops (generated from the command definitions; do not edit)
_mailops() {
  local cur prev cmd
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${specs.map((s) => s.name).join(' ')} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
}
complete -F _mailops mailops
`;
}

function zshEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');
}

export function zshCompletion(program: Command): string {
  const specs = specOf(program);
  const commands = specs.map((s) => `    '${s.name}:${zshEscape(s.description)}'`).join('\n');
  const functions = specs
    .map((s) => {
      const args = s.options
        .map((o) => {
          const names = o.flags.length > 1 ? `{${o.flags.join(',')}}` : o.flags[0];
          const value = o.takesValue ? (o.choices ? `:value:(${o.choices.join(' ')})` : ':value:_files') : '';
          return `    ${o.flags.length > 1 ? "'(" + o.flags.join(' ') + ")'" : ''}${names}'[${zshEscape(o.description)}]${value}'`;
        })
        .join(' \\\n');
      return `_mailops_${s.name}() {\n  _arguments \\\n${args}\n}`;
    })
    .join('\n\n');
  return `#compdef mailops
# zsh completion for mailops (generated from the command definitions; do not edit)

${functions}

_mailops() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  else
    local cmd=\${words[2]}
    shift words; (( CURRENT-- ))
    (( $+functions[_mailops_$cmd] )) && _mailops_$cmd
  fi
}

_mailops "$@"
`;
}

function fishEscape(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}

export function fishCompletion(program: Command): string {
  const specs = specOf(program);
  const lines = [
    '# fish completion for mailops (generated from the command definitions; do not edit)',
    'complete -c mailops -f',
    ...specs.map((s) => `complete -c mailops -n '__fish_use_subcommand' -a ${s.name} -d '${fishEscape(s.description)}'`),
  ];
  for (const s of specs) {
    for (const o of s.options) {
      const parts = [`complete -c mailops -n '__fish_seen_subcommand_from ${s.name}'`];
      for (const f of o.flags) parts.push(f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
      if (o.takesValue) parts.push(o.choices ? `-x -a '${o.choices.join(' ')}'` : '-r -F');
      parts.push(`-d '${fishEscape(o.description)}'`);
      lines.push(parts.join(' '));
    }
  }
  return lines.join('\n') + '\n';
}

export const COMPLETION_FILES = {
  'mailops.bash': bashCompletion,
  '_mailops': zshCompletion,
  'mailops.fish': fishCompletion,
} as const;
