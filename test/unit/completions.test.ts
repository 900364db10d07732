import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { COMPLETION_FILES } from '../../src/cli/completions.js';

const program = buildProgram(async () => {});

describe('completions', () => {
  for (const [file, generate] of Object.entries(COMPLETION_FILES)) {
    it(`completions/${file} is in step with the command definitions (npm run completions)`, () => {
      const onDisk = readFileSync(new URL(`../../completions/${file}`, import.meta.url), 'utf8');
      expect(onDisk).toBe(generate(program));
    });
  }

  it('offers every command and every flag of every command', () => {
    const bash = COMPLETION_FILES['mailops.bash'](program);
    for (const cmd of program.commands) {
      expect(bash).toContain(`    ${cmd.name()})`);
      for (const option of cmd.options) expect(bash).toContain(option.long!);
    }
    expect(bash).toContain('compgen -W "implicit starttls none"');
  });

  it('offers the @role names for folder flags, and not for send --to (addresses)', () => {
    const bash = COMPLETION_FILES['mailops.bash'](program);
    const roles = '@inbox @sent @drafts @trash @junk @archive @all @flagged';
    expect(bash).toContain(`-f|--folder) COMPREPLY=($(compgen -W "${roles}" -- "$cur")); return ;;`);
    expect(bash).toContain(`--to) COMPREPLY=($(compgen -W "${roles}" -- "$cur")); return ;;`);
    expect(bash).toContain(`--folders) COMPREPLY=($(compgen -W "${roles}" -- "$cur")); return ;;`);
    const send = bash.slice(bash.indexOf('    send)'), bash.indexOf(';;', bash.indexOf('    send)') + 10));
    expect(send).not.toContain('@inbox');
    expect(COMPLETION_FILES['_mailops'](program)).toContain(`:value:(${roles})`);
    expect(COMPLETION_FILES['mailops.fish'](program)).toContain(`-x -a '${roles}'`);
  });
});
