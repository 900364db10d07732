// Who may call what, and what it costs: the scopes each method accepts (Google's reference pages,
// "Authorization scopes") and its quota units (the Gmail API usage-limits table), plus the
// per-user meter that turns the units into 429s.
import { GoogleError } from './errors.js';

export type ApiMethod =
  | 'users.getProfile'
  | 'labels.list' | 'labels.get' | 'labels.create' | 'labels.update' | 'labels.patch' | 'labels.delete'
  | 'messages.list' | 'messages.get' | 'messages.insert' | 'messages.import' | 'messages.send'
  | 'messages.modify' | 'messages.batchModify' | 'messages.trash' | 'messages.untrash'
  | 'messages.delete' | 'messages.batchDelete' | 'messages.attachments.get'
  | 'history.list';

const G = 'https://www.googleapis.com/auth/gmail.';
export const SCOPES = {
  full: 'https://mail.google.com/',
  modify: `${G}modify`,
  readonly: `${G}readonly`,
  metadata: `${G}metadata`,
  labels: `${G}labels`,
  insert: `${G}insert`,
  send: `${G}send`,
  compose: `${G}compose`,
} as const;

const { full, modify, readonly, metadata, labels, insert, send, compose } = SCOPES;
const READ = [full, modify, readonly, metadata];

export const METHOD_SCOPES: Record<ApiMethod, readonly string[]> = {
  'users.getProfile': [...READ, compose, labels, insert, send],
  'labels.list': [...READ, labels],
  'labels.get': [...READ, labels],
  'labels.create': [full, modify, labels],
  'labels.update': [full, modify, labels],
  'labels.patch': [full, modify, labels],
  'labels.delete': [full, modify, labels],
  'messages.list': READ,
  'messages.get': READ,
  'messages.attachments.get': [full, modify, readonly],
  'messages.insert': [full, modify, insert],
  'messages.import': [full, modify, insert],
  'messages.send': [full, modify, compose, send],
  'messages.modify': [full, modify],
  'messages.batchModify': [full, modify],
  'messages.trash': [full, modify],
  'messages.untrash': [full, modify],
  // Permanent deletion is the one thing gmail.modify cannot do.
  'messages.delete': [full],
  'messages.batchDelete': [full],
  'history.list': READ,
};

/**
 * Units per call. messages.get is 20 in the table Google publishes for new projects (older
 * projects: 5), which is what makes a first sync slow; override per test with `quota.units`.
 */
export const DEFAULT_UNITS: Record<ApiMethod, number> = {
  'users.getProfile': 1,
  'labels.list': 1,
  'labels.get': 1,
  'labels.create': 5,
  'labels.update': 5,
  'labels.patch': 5,
  'labels.delete': 5,
  'messages.list': 5,
  'messages.get': 20,
  'messages.attachments.get': 5,
  'messages.insert': 25,
  'messages.import': 25,
  'messages.send': 100,
  'messages.modify': 5,
  'messages.batchModify': 50,
  'messages.trash': 5,
  'messages.untrash': 5,
  'messages.delete': 10,
  'messages.batchDelete': 50,
  'history.list': 2,
};

export interface QuotaOptions {
  /** Units a user may spend per window; default Google's 6,000 a minute. Infinity switches it off. */
  unitsPerWindow?: number;
  windowMs?: number;
  units?: Partial<Record<ApiMethod, number>>;
  /**
   * How a refusal looks. Google answers Gmail's per-user limit with 429 `rateLimitExceeded` and a
   * "Retry after <time>" message, and some paths with 403 `userRateLimitExceeded` or 403
   * `rateLimitExceeded`; clients must treat all of them as "wait".
   */
  refusal?: '429' | '403-userRateLimitExceeded' | '403-rateLimitExceeded';
  /** Send a Retry-After header (default true); without it the client has only the message's time. */
  retryAfterHeader?: boolean;
}

/** A sliding window of spent units per user, like Google's per-user-per-minute limit. */
export class QuotaMeter {
  private spent = new Map<string, { at: number; units: number }[]>();
  private totals = new Map<string, number>();

  constructor(private opts: QuotaOptions = {}) {}

  configure(opts: QuotaOptions): void {
    this.opts = { ...this.opts, ...opts };
  }

  unitsOf(method: ApiMethod): number {
    return this.opts.units?.[method] ?? DEFAULT_UNITS[method];
  }

  /** Spends the method's units for the user, or throws the throttling error without spending any. */
  charge(user: string, method: ApiMethod, now = Date.now()): number {
    const units = this.unitsOf(method);
    const limit = this.opts.unitsPerWindow ?? 6000;
    const windowMs = this.opts.windowMs ?? 60_000;
    const log = (this.spent.get(user) ?? []).filter((e) => e.at > now - windowMs);
    this.spent.set(user, log);
    const inWindow = log.reduce((sum, e) => sum + e.units, 0);
    if (inWindow + units > limit) {
      // The moment enough old units leave the window for this call to fit.
      let free = limit - inWindow;
      let until = now;
      for (const e of log) {
        free += e.units;
        until = e.at + windowMs;
        if (free >= units) break;
      }
      throw this.refusal(Math.max(until - now, 1));
    }
    log.push({ at: now, units });
    this.totals.set(user, (this.totals.get(user) ?? 0) + units);
    return units;
  }

  /** Units spent by the user since the start (or the last reset), throttled calls not counted. */
  total(user: string): number {
    return this.totals.get(user) ?? 0;
  }

  reset(): void {
    this.spent.clear();
    this.totals.clear();
  }

  private refusal(waitMs: number): GoogleError {
    const when = new Date(Date.now() + waitMs).toISOString();
    const headers: Record<string, string> = this.opts.retryAfterHeader === false ? {} : { 'retry-after': String(Math.ceil(waitMs / 1000)) };
    switch (this.opts.refusal ?? '429') {
      case '429':
        return new GoogleError(429, `User-rate limit exceeded.  Retry after ${when}`, 'rateLimitExceeded', { headers });
      case '403-userRateLimitExceeded':
        return new GoogleError(403, `User Rate Limit Exceeded. Retry after ${when}`, 'userRateLimitExceeded', { domain: 'usageLimits', headers });
      case '403-rateLimitExceeded':
        return new GoogleError(403, `Rate Limit Exceeded. Retry after ${when}`, 'rateLimitExceeded', { domain: 'usageLimits', headers });
    }
  }
}
