// bin/mailops answers help and version for a pipe from texts rendered at build time
// (src/cli/help-texts.ts), without loading the program: the bytes must be commander's own.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const MODULE_LOG = fileURLToPath(new URL('../../scripts/bench/module-log.mjs', import.meta.url));

const FORMS = [['--help'], ['-h'], ['help'], ['--version'], ['-V'], ['ls', '--help'], ['help', 'sync'], ['sync', '-h'], ['connect', '--help'], ['status', '-h']];

describe('help and version from the prepared texts', () => {
  for (const args of FORMS) {
    it(`mailops ${args.join(' ')} prints what commander prints, exit 0`, async () => {
      const log = join(mkdtempSync(join(tmpdir(), 'mailops-modules-')), 'modules.log');
      const prepared = await runCli(args);
      // FORCE_COLOR=0 keeps colour off but takes the program's own way (commander).
      const commander = await runCli(args, { env: { FORCE_COLOR: '0', MAILOPS_MODULE_LOG: log, NODE_OPTIONS: `--import ${MODULE_LOG}` } });
      // It really went through the program.
      expect(readFileSync(log, 'utf8')).toContain('/dist/cli/main.js');
      expect(prepared.code).toBe(0);
      expect(commander.code).toBe(0);
      expect(prepared.stdout).toBe(commander.stdout);
      expect(prepared.stdout.length).toBeGreaterThan(args.some((a) => a.startsWith('-V') || a === '--version') ? 4 : 200);
      expect(prepared.stderr).toBe('');
    });
  }

  it('answers without loading the program; anything else loads it', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'mailops-modules-')), 'modules.log');
    const loaded = async (args: string[]) => {
      await runCli(args, { env: { MAILOPS_MODULE_LOG: log, NODE_OPTIONS: `--import ${MODULE_LOG}` } });
      const modules = readFileSync(log, 'utf8');
      return modules.includes('/dist/cli/main.js');
    };
    expect(await loaded(['ls', '--help'])).toBe(false);
    expect(await loaded(['--version'])).toBe(false);
    // An unknown command, a usage error, a real command: the program answers.
    expect(await loaded(['nosuch', '--help'])).toBe(true);
  });
});
