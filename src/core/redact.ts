/**
 * Redaction for everything that may reach a person or a file: --trace
 * transcripts, error messages, logs. Known secrets (passwords, tokens) are
 * registered as they are resolved and replaced wherever they appear, together
 * with their base64 forms (SASL PLAIN and XOAUTH2 carry them encoded).
 */
const MASK = '[REDACTED]';

/** Protocol patterns that carry credentials even when we never saw the secret itself. */
const PATTERNS: Array<[RegExp, string]> = [
  // IMAP: a1 LOGIN user "password"  /  a1 LOGIN user password
  // Case-sensitive: imapflow sends commands in capitals, and "IMAP login ok" in a note is no command.
  [/^(\S+ LOGIN \S+ )(.+)$/, `$1${MASK}`],
  // IMAP/SMTP: AUTHENTICATE PLAIN <b64>, AUTH PLAIN <b64>, AUTH XOAUTH2 <b64>, OAUTHBEARER
  [/^((?:\S+ )?AUTH(?:ENTICATE)? (?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER) )\S+/i, `$1${MASK}`],
  // HTTP
  [/(authorization:\s*(?:bearer|basic)\s+)\S+/gi, `$1${MASK}`],
  // key=value (forms, URLs) and "key": "value" (JSON)
  [/((?:access|refresh|id)_token["']?\s*[=:]\s*["']?)[^"'&\s,}]+/gi, `$1${MASK}`],
  [/((?:client_secret|code_verifier|password)["']?\s*[=:]\s*["']?)[^"'&\s,}]+/gi, `$1${MASK}`],
];

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret; values shorter than 4 characters would mask ordinary text, so they only mask whole lines. */
  add(secret: string | null | undefined): void {
    if (!secret) return;
    this.secrets.add(secret);
    this.secrets.add(Buffer.from(secret, 'utf8').toString('base64'));
  }

  redact(text: string): string {
    let out = text;
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    for (const secret of this.secrets) {
      if (secret.length >= 4) out = out.split(secret).join(MASK);
      else if (out.trim() === secret) out = MASK;
    }
    // SASL PLAIN (\0user\0password) and XOAUTH2 wrap the secret before encoding, so its own
    // base64 does not appear: mask any base64 run that decodes to contain a secret.
    if (this.secrets.size > 0) {
      out = out.replace(/[A-Za-z0-9+/]{12,}={0,2}/g, (run) => {
        const decoded = Buffer.from(run, 'base64').toString('utf8');
        for (const secret of this.secrets) if (secret.length >= 4 && decoded.includes(secret)) return MASK;
        return run;
      });
    }
    return out;
  }
}
