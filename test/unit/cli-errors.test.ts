// src/cli/errors.ts and the exit codes of src/domain/errors.ts: every failure becomes one line
// for people, or {"error": {"code", "message", "hint"}} with --json, and the contract's exit code.
import { describe, expect, it } from 'vitest';
import { ExitCode, MailopsError, exitCodeFor, type ErrorCode } from '../../src/domain/errors.js';
import { reportError, toMailopsError } from '../../src/cli/errors.js';
import { fakeContext } from '../support/fake-io.js';

const ESC = '\u001b[';

/** Each code's class, as the contract's exit code table names them. */
const CLASSES: Record<number, ErrorCode[]> = {
  1: ['FAILED', 'PARTIAL_FAILURE', 'SEND_FAILED', 'SECRET_STORE_UNAVAILABLE'],
  2: ['USAGE', 'MISSING_INPUT', 'INVALID_VALUE', 'QUERY_SYNTAX'],
  3: ['AUTH_FAILED', 'NEEDS_REAUTH', 'PASSWORD_COMMAND_FAILED', 'SECRET_MISSING'],
  4: ['DNS_FAILED', 'CONNECTION_REFUSED', 'TIMEOUT', 'TLS_FAILED', 'TLS_CERT_UNTRUSTED', 'TLS_MODE_MISMATCH', 'NETWORK'],
  5: ['ACCOUNT_NOT_FOUND', 'FOLDER_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'NOT_FOUND'],
  6: ['UNSUPPORTED'],
  75: ['BUSY'],
  130: ['INTERRUPTED'],
};

describe('exit codes', () => {
  for (const [exit, codes] of Object.entries(CLASSES)) {
    for (const code of codes) {
      it(`${code} exits ${exit}, with --json and without`, () => {
        expect(exitCodeFor(code)).toBe(Number(exit));
        const error = new MailopsError(code, 'something happened');
        expect(reportError(fakeContext().ctx, error)).toBe(Number(exit));
        const json = fakeContext({ flags: { json: true } });
        expect(reportError(json.ctx, error)).toBe(Number(exit));
        expect(JSON.parse(json.stderr()).error.code).toBe(code);
      });
    }
  }

  it('the table matches the contract', () => {
    expect(ExitCode).toEqual({ OK: 0, FAILED: 1, USAGE: 2, AUTH: 3, NETWORK: 4, NOT_FOUND: 5, UNSUPPORTED: 6, BUSY: 75, INTERRUPTED: 130 });
  });
});

describe('reportError', () => {
  it('with --json writes exactly {"error": {"code", "message", "hint"}} on one stderr line, and nothing on stdout', () => {
    const { ctx, stdout, stderr } = fakeContext({ flags: { json: true } });
    reportError(ctx, new MailopsError('AUTH_FAILED', 'the server rejected the login', { hint: 'check the password' }));
    expect(stdout()).toBe('');
    expect(stderr().endsWith('\n')).toBe(true);
    expect(stderr().trimEnd().split('\n')).toHaveLength(1);
    const body = JSON.parse(stderr());
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error)).toEqual(['code', 'message', 'hint']);
    expect(body).toEqual({ error: { code: 'AUTH_FAILED', message: 'the server rejected the login', hint: 'check the password' } });
  });

  it('keeps the same shape without a hint (hint: null), and with --ndjson', () => {
    const { ctx, stderr } = fakeContext({ flags: { ndjson: true } });
    reportError(ctx, new MailopsError('FAILED', 'no luck'));
    expect(JSON.parse(stderr())).toEqual({ error: { code: 'FAILED', message: 'no luck', hint: null } });
  });

  it('for people: "mailops: error: ..." and a hint line, in red only when stderr is a coloured terminal', () => {
    const plain = fakeContext();
    reportError(plain.ctx, new MailopsError('FOLDER_NOT_FOUND', 'no folder named "X"', { hint: 'see mailops folders' }));
    expect(plain.stderr()).toBe('mailops: error: no folder named "X"\nhint: see mailops folders\n');

    const tty = fakeContext({ tty: { stderr: true } });
    reportError(tty.ctx, new MailopsError('FAILED', 'boom'));
    expect(tty.stderr()).toBe(`mailops: ${ESC}31merror:${ESC}39m boom\n`);

    const noColor = fakeContext({ tty: { stderr: true }, env: { NO_COLOR: '1' } });
    reportError(noColor.ctx, new MailopsError('FAILED', 'boom'));
    expect(noColor.stderr()).toBe('mailops: error: boom\n');
  });

  it('masks registered secrets in the message and the hint, in both forms', () => {
    const secret = 'hunter2-very-secret';
    for (const flags of [{}, { json: true }]) {
      const { ctx, stderr } = fakeContext({ flags });
      ctx.redactor.add(secret);
      reportError(ctx, new MailopsError('AUTH_FAILED', `login with ${secret} failed`, { hint: `not ${secret}` }));
      expect(stderr()).not.toContain(secret);
      expect(stderr()).toContain('[REDACTED]');
    }
  });
});

describe('toMailopsError', () => {
  it('passes MailopsErrors through', () => {
    const error = new MailopsError('TIMEOUT', 'slow');
    expect(toMailopsError(error)).toBe(error);
  });

  it('turns aborts and a closed prompt into INTERRUPTED (130)', () => {
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(toMailopsError(abort)).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    const prompt = new Error('User force closed the prompt with SIGINT');
    prompt.name = 'ExitPromptError';
    expect(toMailopsError(prompt)).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
  });

  it('turns anything else into FAILED (1) with its message', () => {
    expect(toMailopsError(new TypeError('x is not a function'))).toMatchObject({ code: 'FAILED', exitCode: 1, message: 'x is not a function' });
    expect(toMailopsError('a string')).toMatchObject({ code: 'FAILED', message: 'a string' });
  });
});
