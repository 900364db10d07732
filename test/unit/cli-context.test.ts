// src/cli/context.ts: who may be asked a question, when output is coloured, which output form
// a command prints, and the default timeout, from the streams, the flags and the environment.
import { describe, expect, it } from 'vitest';
import { fakeContext } from '../support/fake-io.js';

const bothTty = { stdin: true, stdout: true };

describe('canPrompt', () => {
  it('only with a person at both ends', () => {
    expect(fakeContext({ tty: bothTty }).ctx.canPrompt).toBe(true);
    expect(fakeContext({ tty: { stdin: true } }).ctx.canPrompt).toBe(false);
    expect(fakeContext({ tty: { stdout: true } }).ctx.canPrompt).toBe(false);
    expect(fakeContext().ctx.canPrompt).toBe(false);
  });

  it('never with --no-input or CI set, even on a terminal', () => {
    expect(fakeContext({ tty: bothTty, flags: { input: false } }).ctx.canPrompt).toBe(false);
    expect(fakeContext({ tty: bothTty, env: { CI: '1' } }).ctx.canPrompt).toBe(false);
    expect(fakeContext({ tty: bothTty, env: { CI: 'true' } }).ctx.canPrompt).toBe(false);
  });
});

describe('colorFor', () => {
  it('colours a terminal, not a pipe', () => {
    const { ctx } = fakeContext({ tty: { stdout: true } });
    expect(ctx.colorFor('stdout')).toBe(true);
    expect(ctx.colorFor('stderr')).toBe(false);
  });

  it('never with NO_COLOR (any non-empty value) or --no-color', () => {
    expect(fakeContext({ tty: { stdout: true }, env: { NO_COLOR: '1' } }).ctx.colorFor('stdout')).toBe(false);
    expect(fakeContext({ tty: { stdout: true }, env: { NO_COLOR: 'yes' } }).ctx.colorFor('stdout')).toBe(false);
    expect(fakeContext({ tty: { stdout: true }, flags: { color: false } }).ctx.colorFor('stdout')).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(fakeContext({ tty: { stdout: true }, env: { NO_COLOR: '' } }).ctx.colorFor('stdout')).toBe(true);
  });

  it('FORCE_COLOR forces it on a pipe, except when turned off explicitly', () => {
    expect(fakeContext({ env: { FORCE_COLOR: '1' } }).ctx.colorFor('stdout')).toBe(true);
    expect(fakeContext({ env: { FORCE_COLOR: '0' } }).ctx.colorFor('stdout')).toBe(false);
    expect(fakeContext({ env: { FORCE_COLOR: '1' }, flags: { color: false } }).ctx.colorFor('stdout')).toBe(false);
    expect(fakeContext({ env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).ctx.colorFor('stdout')).toBe(false);
  });

  it('not on a dumb terminal', () => {
    expect(fakeContext({ tty: { stdout: true }, env: { TERM: 'dumb' } }).ctx.colorFor('stdout')).toBe(false);
  });
});

describe('output and timeout', () => {
  it('JSON and NDJSON on request, else a table on a terminal and TSV in a pipe', () => {
    expect(fakeContext({ tty: { stdout: true }, flags: { json: true } }).ctx.output).toBe('json');
    expect(fakeContext({ flags: { ndjson: true } }).ctx.output).toBe('ndjson');
    expect(fakeContext({ tty: { stdout: true } }).ctx.output).toBe('table');
    // A terminal on stdin alone does not make a table: the data goes into a pipe.
    expect(fakeContext({ tty: { stdin: true, stderr: true } }).ctx.output).toBe('tsv');
  });

  it('--timeout in seconds, 30 by default', () => {
    expect(fakeContext().ctx.timeoutMs).toBe(30_000);
    expect(fakeContext({ flags: { timeout: 2.5 } }).ctx.timeoutMs).toBe(2500);
  });
});
