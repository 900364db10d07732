/**
 * Errors every layer can throw. Each carries a stable code (printed in JSON
 * output, relied on by scripts) and the process exit code the contract assigns
 * to it (../shared/spec/cli.md, "Exit codes").
 */

export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  AUTH: 3,
  NETWORK: 4,
  NOT_FOUND: 5,
  UNSUPPORTED: 6,
  BUSY: 75,
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable error codes. Add new ones here; never rename one (scripts match on them). */
const CODE_TO_EXIT = {
  FAILED: ExitCode.FAILED,
  PARTIAL_FAILURE: ExitCode.FAILED,
  SEND_FAILED: ExitCode.FAILED,
  SECRET_STORE_UNAVAILABLE: ExitCode.FAILED,
  USAGE: ExitCode.USAGE,
  MISSING_INPUT: ExitCode.USAGE,
  INVALID_VALUE: ExitCode.USAGE,
  QUERY_SYNTAX: ExitCode.USAGE,
  AUTH_FAILED: ExitCode.AUTH,
  NEEDS_REAUTH: ExitCode.AUTH,
  PASSWORD_COMMAND_FAILED: ExitCode.AUTH,
  SECRET_MISSING: ExitCode.AUTH,
  // OAuth (src/auth): every failure to get or keep a grant asks for `connect` again, hence exit 3.
  CONSENT_DENIED: ExitCode.AUTH,
  OAUTH_CLIENT_INVALID: ExitCode.AUTH,
  OAUTH_NOT_CONFIGURED: ExitCode.AUTH,
  OAUTH_STATE_MISMATCH: ExitCode.AUTH,
  OAUTH_TIMEOUT: ExitCode.AUTH,
  REDIRECT_URI_MISMATCH: ExitCode.AUTH,
  SCOPE_NOT_GRANTED: ExitCode.AUTH,
  TOKEN_EXPIRED: ExitCode.AUTH,
  TOKEN_REVOKED: ExitCode.AUTH,
  /** The grant lacks the scope a command needs (an account connected --read-only, or without --scope-full). */
  INSUFFICIENT_SCOPE: ExitCode.AUTH,
  DNS_FAILED: ExitCode.NETWORK,
  CONNECTION_REFUSED: ExitCode.NETWORK,
  TIMEOUT: ExitCode.NETWORK,
  TLS_FAILED: ExitCode.NETWORK,
  TLS_CERT_UNTRUSTED: ExitCode.NETWORK,
  TLS_MODE_MISMATCH: ExitCode.NETWORK,
  NETWORK: ExitCode.NETWORK,
  /** An API's quota or throttling outlasted the time budget (--timeout, --max-time). */
  THROTTLED: ExitCode.NETWORK,
  /** connect without hosts: autoconfig, DNS SRV, MX and the probed host names found no server. */
  DISCOVERY_FAILED: ExitCode.NETWORK,
  ACCOUNT_NOT_FOUND: ExitCode.NOT_FOUND,
  FOLDER_NOT_FOUND: ExitCode.NOT_FOUND,
  MESSAGE_NOT_FOUND: ExitCode.NOT_FOUND,
  /** read --offline of a message cached without its content (over the size limit, or --headers-only). */
  NOT_CACHED: ExitCode.NOT_FOUND,
  NOT_FOUND: ExitCode.NOT_FOUND,
  UNSUPPORTED: ExitCode.UNSUPPORTED,
  BUSY: ExitCode.BUSY,
  INTERRUPTED: ExitCode.INTERRUPTED,
} as const satisfies Record<string, ExitCodeValue>;

export type ErrorCode = keyof typeof CODE_TO_EXIT;

export function exitCodeFor(code: ErrorCode): ExitCodeValue {
  return CODE_TO_EXIT[code];
}

export interface MailopsErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class MailopsError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: MailopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailopsError';
    this.code = code;
    this.hint = options.hint;
  }

  get exitCode(): ExitCodeValue {
    return exitCodeFor(this.code);
  }
}

export function usageError(message: string, hint?: string): MailopsError {
  return new MailopsError('USAGE', message, hint === undefined ? {} : { hint });
}

export function isMailopsError(error: unknown): error is MailopsError {
  return error instanceof MailopsError;
}
