/**
 * Calendar days for `since:`/`before:` and `ls --since/--before`.
 *
 * A day is resolved in the local time zone ("today" is the user's today) and
 * kept as a plain 'YYYY-MM-DD' string: each backend decides how to compare a
 * day (IMAP SINCE/BEFORE take dates without a time; the cache compares local
 * midnights). Arithmetic runs on UTC fields so daylight-saving shifts cannot
 * move a day.
 */
import { MailopsError } from '../../domain/errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const DATE_FORMS_HINT = 'use YYYY-MM-DD, today, yesterday, or an age like 7d, 2w, 6m, 1y (days, weeks, months, years ago)';

interface Day {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

/** Resolves a DATE value to 'YYYY-MM-DD', or null when it is not one of the accepted forms. */
export function resolveDay(value: string, now: Date = new Date()): string | null {
  const text = value.trim().toLowerCase();
  const today: Day = { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };

  if (text === 'today') return formatDay(today);
  if (text === 'yesterday') return formatDay(addDays(today, -1));

  const absolute = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (absolute) {
    const day: Day = { year: Number(absolute[1]), month: Number(absolute[2]), day: Number(absolute[3]) };
    const valid = day.year >= 1 && day.month >= 1 && day.month <= 12 && day.day >= 1 && day.day <= daysInMonth(day.year, day.month);
    return valid ? formatDay(day) : null;
  }

  const relative = /^(\d{1,6})([dwmy])$/.exec(text);
  if (relative) {
    const amount = Number(relative[1]);
    switch (relative[2]) {
      case 'd':
        return formatDay(addDays(today, -amount));
      case 'w':
        return formatDay(addDays(today, -7 * amount));
      case 'm':
        return formatDay(addMonths(today, -amount));
      default:
        return formatDay(addMonths(today, -12 * amount));
    }
  }
  return null;
}

/**
 * Resolves a DATE value (`YYYY-MM-DD`, `today`, `yesterday`, `7d`, `2w`, `6m`,
 * `1y`) to a local calendar day 'YYYY-MM-DD'. Throws an INVALID_VALUE usage error.
 */
export function parseDay(value: string, now: Date = new Date()): string {
  const day = resolveDay(value, now);
  if (day === null) {
    throw new MailopsError('INVALID_VALUE', `invalid date '${value}'`, { hint: DATE_FORMS_HINT });
  }
  return day;
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMidnight({ year, month: month + 1, day: 1 }) - DAY_MS).getUTCDate();
}

/** Milliseconds of the day's UTC midnight; setUTCFullYear keeps years 0-99 literal (Date.UTC maps them to 19xx). */
function utcMidnight(day: Day): number {
  const date = new Date(0);
  date.setUTCFullYear(day.year, day.month - 1, day.day);
  return date.getTime();
}

function addDays(day: Day, days: number): Day {
  const date = new Date(utcMidnight(day) + days * DAY_MS);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** Calendar months; the day is clamped to the target month (31 March minus 1m is the end of February). */
function addMonths(day: Day, months: number): Day {
  const index = day.year * 12 + (day.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return { year, month, day: Math.min(day.day, daysInMonth(year, month)) };
}

/** Null when the day falls outside years 1-9999 (IMAP and ISO dates have four-digit years). */
function formatDay(day: Day): string | null {
  if (!(day.year >= 1 && day.year <= 9999)) return null;
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  return `${pad(day.year, 4)}-${pad(day.month, 2)}-${pad(day.day, 2)}`;
}
