/**
 * Pacing calls to a rate-limited API, after rclone's lib/pacer: at most `concurrency`
 * calls in flight; a call the server turned away (429, 503) is tried again after the
 * wait the server asked for (Retry-After), else after an exponential backoff with full
 * jitter; and the server's wait holds back every call of the pacer, not only the one
 * that was told (a quota is per user, not per request). All of it is bounded by the
 * caller's deadline and AbortSignal: a wait that would end past the deadline is not
 * begun, and the error says why.
 *
 * The Gmail API and Graph backends' throughput is bounded by their quota (Graph: 4
 * requests in flight per mailbox), so pacing well is their performance.
 */
import { MailopsError } from '../domain/errors.js';
import { abortError } from './abort.js';

export interface PacerOptions {
  /** Calls in flight at most. */
  concurrency?: number;
  /** Attempts at most, the first included. */
  attempts?: number;
  /** The first backoff (before jitter); it doubles with each attempt. */
  baseDelayMs?: number;
  /** No backoff, and no server-asked wait, is longer than this; a longer Retry-After ends the retries. */
  maxDelayMs?: number;
  /** For tests: the jitter's random source, in [0, 1). */
  random?: () => number;
  /**
   * The code of the error when a wait the server asked for would end past the deadline:
   * TIMEOUT by default; THROTTLED for an API whose quota is the limit (both exit 4).
   */
  throttledCode?: 'TIMEOUT' | 'THROTTLED';
}

/** What one attempt came to: a value, or a failure that may be tried again. */
export type Attempt<T> =
  | { done: true; value: T }
  | {
      done: false;
      /** What to say (and, when no retry is left, return or throw). */
      outcome: { value: T } | { error: unknown };
      /** Whether trying again can help (429, 503, a reset connection). */
      retry: boolean;
      /** The server's Retry-After, in ms from now; null when it gave none. */
      retryAfterMs: number | null;
      /** For the error and the trace: "HTTP 429 from gmail.googleapis.com". */
      why: string;
    };

export interface PaceOptions {
  signal?: AbortSignal | undefined;
  /** Epoch ms after which no attempt starts and no wait runs. */
  deadline?: number | undefined;
  /** False for a call that must not be repeated (a POST the caller did not mark retryable). */
  retryable: boolean;
  /** Told before each wait: the reason, the wait and the attempt that follows. */
  onRetry?: (why: string, waitMs: number, attempt: number) => void;
}

export class Pacer {
  readonly concurrency: number;
  readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly throttledCode: 'TIMEOUT' | 'THROTTLED';
  private active = 0;
  private readonly queue: Array<() => void> = [];
  /** No call starts before this (epoch ms): the last Retry-After, for everyone. */
  private notBefore = 0;

  constructor(options: PacerOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? Number.POSITIVE_INFINITY);
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.random = options.random ?? Math.random;
    this.throttledCode = options.throttledCode ?? 'TIMEOUT';
  }

  /** Calls `attempt` until it is done, no retry is left or allowed, or the deadline or signal ends it. */
  async call<T>(attempt: (n: number) => Promise<Attempt<T>>, options: PaceOptions): Promise<T> {
    for (let n = 1; ; n++) {
      await this.waitUntil(this.notBefore, options, null);
      const result = await this.inSlot(() => attempt(n), options);
      if (result.done) return result.value;
      const last = () => {
        if ('error' in result.outcome) throw result.outcome.error;
        return result.outcome.value;
      };
      if (!result.retry || !options.retryable || n >= this.attempts) return last();
      let wait: number;
      if (result.retryAfterMs !== null) {
        // A server that asks for more than we would ever wait gets its answer back now.
        if (result.retryAfterMs > this.maxDelayMs) return last();
        wait = result.retryAfterMs;
        this.notBefore = Math.max(this.notBefore, Date.now() + wait);
      } else {
        // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): callers that failed together do not return together.
        wait = Math.round(this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (n - 1)));
      }
      options.onRetry?.(result.why, wait, n + 1);
      await this.waitUntil(Date.now() + wait, options, result.why);
    }
  }

  private async inSlot<T>(run: () => Promise<T>, options: PaceOptions): Promise<T> {
    if (this.active >= this.concurrency) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const index = this.queue.indexOf(start);
          if (index >= 0) this.queue.splice(index, 1);
          reject(abortError(options.signal));
        };
        const start = () => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        this.queue.push(start);
      });
    } else this.active++;
    try {
      return await run();
    } finally {
      // The slot passes straight to the next in line, so `active` never drops below what runs.
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** Sleeps until `until`, unless the deadline comes first (an error naming `why`) or the signal fires. */
  private waitUntil(until: number, options: PaceOptions, why: string | null): Promise<void> {
    const ms = until - Date.now();
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    if (ms <= 0) return Promise.resolve();
    if (options.deadline !== undefined && until > options.deadline) {
      const left = Math.max(0, options.deadline - Date.now());
      return Promise.reject(
        new MailopsError(why === null ? 'TIMEOUT' : this.throttledCode, `gave up: ${why ?? 'the server asked to slow down'}, and the next try (in ${seconds(ms)}) would end past the deadline (${seconds(left)} left)`, {
          hint: 'the service is limiting requests: try again later, or raise --timeout',
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(options.signal));
      };
      const timer = setTimeout(() => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * Retry-After (RFC 9110 10.2.3): seconds, or an HTTP date; ms from `now`, never negative.
 * Null when absent or unreadable.
 */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
