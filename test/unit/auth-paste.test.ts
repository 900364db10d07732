// --no-browser: the address pasted back is checked like a loopback redirect.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { parsePastedRedirect, readPastedLine } from '../../src/auth/paste.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as MailopsError).code;
  }
  return 'none';
}

describe('parsePastedRedirect', () => {
  it('takes the whole address, or just its query string', () => {
    expect(parsePastedRedirect('http://127.0.0.1:4000/?code=abc&state=s1&scope=x', 's1', 'gmail').get('code')).toBe('abc');
    expect(parsePastedRedirect('  ?code=abc&state=s1\n', 's1', 'gmail').get('code')).toBe('abc');
  });

  it('refuses another state, an address without a code, and reports a refusal', () => {
    expect(code(() => parsePastedRedirect('http://127.0.0.1:4000/?code=abc&state=s2', 's1', 'gmail'))).toBe('OAUTH_STATE_MISMATCH');
    expect(code(() => parsePastedRedirect('http://127.0.0.1:4000/', 's1', 'gmail'))).toBe('INVALID_VALUE');
    expect(code(() => parsePastedRedirect('http://localhost:4000/?error=access_denied&state=s1', 's1', 'outlook'))).toBe('CONSENT_DENIED');
  });
});

describe('readPastedLine', () => {
  it('returns the first non-empty line', async () => {
    const input = new PassThrough();
    const line = readPastedLine(input, { timeoutMs: 2000, provider: 'gmail' });
    input.write('\n  \n');
    input.end('http://127.0.0.1:1/?code=x&state=y\n');
    expect(await line).toBe('http://127.0.0.1:1/?code=x&state=y');
  });

  it('input that ends first is MISSING_INPUT; no input in time is OAUTH_TIMEOUT', async () => {
    const ended = new PassThrough();
    const a = readPastedLine(ended, { timeoutMs: 2000, provider: 'gmail' });
    ended.end();
    await expect(a).rejects.toMatchObject({ code: 'MISSING_INPUT' });
    await expect(readPastedLine(new PassThrough(), { timeoutMs: 50, provider: 'gmail' })).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
  });
});
