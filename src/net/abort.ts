/**
 * The error for an operation cut short by its AbortSignal: the reason itself when it is
 * one of ours, TIMEOUT for a deadline (AbortSignal.timeout), else Ctrl-C. Shared by the
 * IMAP/SMTP provider and the HTTP pacer, so a cut-short operation reads the same everywhere.
 */
import { MailopsError } from '../domain/errors.js';

export function abortError(signal: AbortSignal | undefined): MailopsError {
  const reason: unknown = signal?.reason;
  if (reason instanceof MailopsError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new MailopsError('TIMEOUT', 'the operation took too long and was stopped', { hint: 'raise --timeout', cause: reason });
  }
  return new MailopsError('INTERRUPTED', 'interrupted', { cause: reason });
}

/** Waits `ms`, or less when the signal fires (the abort error then). */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
