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

/** Runs mailops with the module log on (its own fresh log); returns the run and the modules it loaded. */
async function runLogged(args: string[], env: Record<string, string> = {}) {
  const log = join(mkdtempSync(join(tmpdir(), 'mailops-modules-')), 'modules.log');
  const run = await runCli(args, { env: { ...env, MAILOPS_MODULE_LOG: log, NODE_OPTIONS: `--import ${MODULE_LOG}` } });
  const modules = readFileSync(log, 'utf8');
  // The log really was written by this run (the launcher itself is in it), so an absent
  // main.js means the program was not loaded, not that nothing was recorded.
  expect(modules).toContain('/bin/mailops');
  return { run, loadedProgram: modules.includes('/dist/cli/main.js') };
}

describe('help and version from the prepared texts', () => {
  for (const args of FORMS) {
    it(`mailops ${args.join(' ')} prints what commander prints, exit 0`, async () => {
      const prepared = await runLogged(args);
      // FORCE_COLOR=0 keeps colour off but takes the program's own way (commander).
      const commander = await runLogged(args, { FORCE_COLOR: '0' });
      // The prepared answer did not load the program; the other run really went through it.
      expect(prepared.loadedProgram).toBe(false);
      expect(commander.loadedProgram).toBe(true);
      expect(prepared.run.code).toBe(0);
      expect(commander.run.code).toBe(0);
      expect(prepared.run.stdout).toBe(commander.run.stdout);
      expect(prepared.run.stdout.length).toBeGreaterThan(args.some((a) => a.startsWith('-V') || a === '--version') ? 4 : 200);
      expect(prepared.run.stderr).toBe('');
    });
  }

  it('answers without loading the program; anything else loads it', async () => {
    const loaded = async (args: string[]) => (await runLogged(args)).loadedProgram;
    expect(await loaded(['ls', '--help'])).toBe(false);
    expect(await loaded(['--version'])).toBe(false);
    // An unknown command, a usage error, a real command: the program answers.
    expect(await loaded(['nosuch', '--help'])).toBe(true);
    expect(await loaded(['ls', 'INBOX', '--help'])).toBe(true);
    expect(await loaded(['--frobnicate'])).toBe(true);
    expect(await loaded(['status', '--offline'])).toBe(true);
  });
});

describe('what a command loads', () => {
  it('an --offline command loads no secret store, nor node:crypto with it', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'mailops-modules-')), 'modules.log');
    const run = await runCli(['status', '--offline', '--json'], { env: { MAILOPS_MODULE_LOG: log, NODE_OPTIONS: `--import ${MODULE_LOG}` } });
    expect(run.code).toBe(0);
    const modules = readFileSync(log, 'utf8');
    // The session was opened (its module is in the log), and its secrets were not needed.
    expect(modules).toContain('/dist/core/session.js');
    expect(modules).not.toContain('/dist/secrets/');
    expect(modules).not.toContain('node:crypto');
  });
});
