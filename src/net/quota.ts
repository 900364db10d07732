/**
 * A per-user quota of units per window (Google's "6,000 units a minute per user"), spent before
 * each call so that a client stays under it instead of running into 429s and their waits. The
 * window slides like Google's meter: a call waits until enough of the units spent in the last
 * window have aged out. The wait is bounded by the caller's deadline: a quota that would outlast
 * it is THROTTLED (exit 4) at once, not after a useless sleep.
 */
import { MailopsError } from '../domain/errors.js';
import { abortError, sleep } from './abort.js';

export interface QuotaSettings {
  /** Units per window. */
  units: number;
  windowMs: number;
}

/** Google's table for new projects (2026): 6,000 units a minute per user. */
export const GMAIL_DEFAULT_QUOTA: QuotaSettings = { units: 6000, windowMs: 60_000 };

/**
 * `MAILOPS_GMAIL_QUOTA` as a project with its own quota writes it: `UNITS` (a minute) or
 * `UNITS/SECONDSs` (`15000`, `6000/60s`, `600/1s`). Null when unset; a usage error when unreadable.
 */
export function parseQuota(text: string | undefined, variable: string): QuotaSettings | null {
  if (text === undefined || text.trim() === '') return null;
  const m = /^\s*(\d+)\s*(?:\/\s*(\d+(?:\.\d+)?)\s*s)?\s*$/.exec(text);
  const units = m ? Number(m[1]) : 0;
  const seconds = m?.[2] === undefined ? 60 : Number(m[2]);
  if (!m || units <= 0 || seconds <= 0) {
    throw new MailopsError('INVALID_VALUE', `${variable}=${text} is not a quota`, { hint: `write units per minute (6000), or units per window (600/1s)` });
  }
  return { units, windowMs: Math.round(seconds * 1000) };
}

export class UnitBudget {
  /** Units spent, by call: `open` until the call is answered (then dated at the answer). */
  private spent: Array<{ at: number; units: number; open: boolean }> = [];
  /** Units spent since the budget was made: sync reports them (`quota_units`). */
  total = 0;

  constructor(readonly settings: QuotaSettings) {}

  /** Waits until `units` fit in the window, then spends them; `settled` once the call is answered. */
  async spend(units: number, options: SpendOptions): Promise<Spent> {
    return this.spendSome([units], options);
  }

  /**
   * Waits until the first of `costs` fits, then spends it and as many of the following ones as
   * fit beside it; returns how many. A batch takes what the window has room for now instead of
   * waiting for room for all of its calls: with Google's 6,000 units a minute, fifty 20-unit
   * gets (1,000) and a 5-unit list do not fit six times, and a batch that waited for whole room
   * left a sixth of the quota unused.
   *
   * Units of a call not answered yet stay in the window whatever their age: the call may wait
   * for a connection (four in flight at most) and the server charges it only when it arrives.
   * Once answered (`settled`), they are dated then, the latest moment the server can have charged
   * them. Dated only when spent, a sync under the quota was turned away for 3.3% of its
   * requests, each a wasted round trip and a wait.
   */
  async spendSome(costs: readonly number[], options: SpendOptions): Promise<Spent> {
    if (costs.length === 0) return { count: 0, settled: () => {} };
    // A call dearer than the whole window could never fit: let the server judge it.
    const first = Math.min(costs[0]!, this.settings.units);
    for (;;) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const now = Date.now();
      const windowStart = now - this.settings.windowMs;
      this.spent = this.spent.filter((entry) => entry.open || entry.at > windowStart);
      let inWindow = 0;
      for (const entry of this.spent) inWindow += entry.units;
      if (inWindow + first <= this.settings.units) {
        let count = 1;
        let cost = first;
        while (count < costs.length && inWindow + cost + costs[count]! <= this.settings.units) cost += costs[count++]!;
        const entry = { at: now, units: cost, open: true };
        this.spent.push(entry);
        for (let i = 0; i < count; i++) this.total += costs[i]!;
        return {
          count,
          settled: () => {
            entry.open = false;
            entry.at = Date.now();
          },
        };
      }
      // The moment enough answered units leave the window; units in flight free up a window after
      // their answer at the soonest, so while only they would do, look again shortly.
      let free = this.settings.units - inWindow;
      let until: number | null = null;
      for (const entry of this.spent.filter((e) => !e.open).sort((a, b) => a.at - b.at)) {
        free += entry.units;
        if (free >= first) {
          until = entry.at + this.settings.windowMs;
          break;
        }
      }
      const soonest = until ?? now + this.settings.windowMs;
      if (options.deadline !== undefined && soonest > options.deadline) {
        throw new MailopsError('THROTTLED', `the API quota (${this.settings.units} units per ${this.settings.windowMs / 1000} s) is spent, and it frees up only after the time allowed`, {
          hint: 'try again later, or give the command more time (--timeout, or --max-time for sync)',
        });
      }
      await sleep(until === null ? Math.min(POLL_MS, this.settings.windowMs) : until - now + 1, options.signal);
    }
  }
}

/** How often a wait for units still in flight looks again. */
const POLL_MS = 25;

/** Units spent: how many of the calls they cover, and `settled` to call when the answer is in. */
export interface Spent {
  count: number;
  settled(): void;
}

export interface SpendOptions {
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
}
