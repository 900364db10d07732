// What --trace may show of an OAuth exchange: everything but the credentials.
import { describe, expect, it } from 'vitest';
import { maskCredentials } from '../../src/net/http.js';

describe('maskCredentials', () => {
  it('masks credential fields of a form body and keeps the rest', () => {
    expect(maskCredentials('grant_type=refresh_token&refresh_token=1%2F%2Fabc&client_id=id.apps&client_secret=GOCSPX-x')).toBe(
      'grant_type=refresh_token&refresh_token=[REDACTED]&client_id=id.apps&client_secret=[REDACTED]',
    );
    expect(maskCredentials('?code=4%2F0A&state=s&code_verifier=v')).toBe('?code=[REDACTED]&state=s&code_verifier=[REDACTED]');
    expect(maskCredentials('grant_type=device_code&device_code=DAQ')).toBe('grant_type=device_code&device_code=[REDACTED]');
  });

  it('masks credential fields of a JSON answer, at any depth', () => {
    const masked = JSON.parse(maskCredentials(JSON.stringify({ access_token: 'ya29.x', expires_in: 3599, refresh_token: '1//y', id_token: 'e.y.z', scope: 'https://mail.google.com/' })));
    expect(masked).toEqual({ access_token: '[REDACTED]', expires_in: 3599, refresh_token: '[REDACTED]', id_token: '[REDACTED]', scope: 'https://mail.google.com/' });
    expect(maskCredentials('{"error":"invalid_grant","error_description":"Token has been expired or revoked."}')).toBe(
      '{"error":"invalid_grant","error_description":"Token has been expired or revoked."}',
    );
  });
});
