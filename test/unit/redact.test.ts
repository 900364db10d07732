import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/core/redact.js';

describe('Redactor', () => {
  it('masks registered secrets and their base64 forms, SASL PLAIN included', () => {
    const r = new Redactor();
    r.add('s3cret-pw');
    expect(r.redact('password is s3cret-pw, ok')).toBe('password is [REDACTED], ok');
    expect(r.redact(Buffer.from('s3cret-pw').toString('base64'))).toBe('[REDACTED]');
    const plain = Buffer.from('\u0000bob@example.org\u0000s3cret-pw').toString('base64');
    expect(r.redact(`AUTH PLAIN ${plain}`)).toBe('AUTH PLAIN [REDACTED]');
    expect(r.redact(`334 ${plain}`)).toBe('334 [REDACTED]');
  });

  it('masks credentials in protocol lines even when the secret was never registered', () => {
    const r = new Redactor();
    expect(r.redact('A1 LOGIN "bob" "hunter2"')).toBe('A1 LOGIN "bob" [REDACTED]');
    expect(r.redact('A2 AUTHENTICATE XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXIgeHl6AQE=')).toBe('A2 AUTHENTICATE XOAUTH2 [REDACTED]');
    expect(r.redact('Authorization: Bearer ya29.abc.def')).toBe('Authorization: Bearer [REDACTED]');
    expect(r.redact('{"access_token":"ya29.abc","refresh_token":"1//xyz","expires_in":3599}')).toBe(
      '{"access_token":"[REDACTED]","refresh_token":"[REDACTED]","expires_in":3599}',
    );
    expect(r.redact('code=abc&client_secret=shh&code_verifier=vvv')).toBe('code=abc&client_secret=[REDACTED]&code_verifier=[REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    const r = new Redactor();
    r.add('pw');
    expect(r.redact('* OK [CAPABILITY IMAP4rev1] Dovecot ready.')).toBe('* OK [CAPABILITY IMAP4rev1] Dovecot ready.');
    // Very short secrets would mask ordinary words; they only mask a line that is nothing else.
    expect(r.redact('upward')).toBe('upward');
    expect(r.redact('pw')).toBe('[REDACTED]');
  });
});
