/**
 * SASL initial responses, base64 as IMAP AUTHENTICATE and SMTP AUTH send them. One copy
 * for the sync client and diagnose (IMAP and SMTP); the callers trace them as [REDACTED].
 */

/** RFC 4616 PLAIN: no authorization identity, the user, the password. */
export function saslPlain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
}

/** Google's and Microsoft's XOAUTH2: `user=U ^A auth=Bearer T ^A ^A`. */
export function saslXoauth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
}

/** RFC 7628 OAUTHBEARER: a GS2 header naming the user, then host, port and the bearer token. */
export function saslOauthBearer(user: string, token: string, host: string, port: number): string {
  return Buffer.from(`n,a=${user},\x01host=${host}\x01port=${port}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
}

/**
 * What a client answers when an OAuth exchange gets a second challenge (the server's error
 * report, JSON in base64): RFC 7628 3.2.3 wants a lone ^A for OAUTHBEARER; XOAUTH2 an empty line.
 */
export const SASL_OAUTH_ABORT = { OAUTHBEARER: 'AQ==', XOAUTH2: '' } as const;
