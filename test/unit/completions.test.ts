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
});
