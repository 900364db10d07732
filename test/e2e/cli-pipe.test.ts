// The real executable writing into a pipe whose reader has gone (`mailops ls | head -1`): Node
// ignores SIGPIPE, so without a listener the write's EPIPE ended the process with a stack trace.
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../support/cli.js';

describe('a stdout whose reader has gone', () => {
  it('ends quietly with 141 (128 + SIGPIPE), as a shell shows for a program SIGPIPE ended', async () => {
    const { child, result } = startCli(['status', '--json']);
    // Our end of the pipe is closed before the program has written anything (it takes 100 ms
    // or more to start), so its write fails with EPIPE.
    child.stdout!.destroy();
    const run = await result;
    expect(run.code).toBe(141);
    expect(run.stderr).toBe('');
  });

  it('a reader that stays prints the same command, exit 0', async () => {
    const run = await runCli(['status', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ accounts: [] });
  });
});
