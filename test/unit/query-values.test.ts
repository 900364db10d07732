import { afterEach, describe, expect, test } from 'vitest';
import { MailopsError } from '../../src/domain/errors.js';
import { parseDay, parseQuery, parseSize, queryFromListFilters } from '../../src/core/query/index.js';

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

function thrown(run: () => unknown): MailopsError {
  try {
    run();
  } catch (error) {
    if (error instanceof MailopsError) return error;
    throw error;
  }
  throw new Error('expected a MailopsError');
}

describe('parseDay', () => {
  test('an absolute day is returned as it is', () => {
    expect(parseDay('2024-02-29')).toBe('2024-02-29');
    expect(parseDay('0001-01-01')).toBe('0001-01-01');
    expect(parseDay('9999-12-31')).toBe('9999-12-31');
  });

  test('today and yesterday are local calendar days of now, whatever the hour', () => {
    expect(parseDay('today', new Date(2025, 0, 9, 0, 0))).toBe('2025-01-09');
    expect(parseDay('today', new Date(2025, 0, 9, 23, 59, 59))).toBe('2025-01-09');
    expect(parseDay('yesterday', new Date(2025, 0, 1, 8))).toBe('2024-12-31');
    expect(parseDay('TODAY', new Date(2025, 0, 9))).toBe('2025-01-09');
  });

  test('days and weeks count back across month and year ends', () => {
    const now = new Date(2025, 2, 3, 12);
    expect(parseDay('3d', now)).toBe('2025-02-28');
    expect(parseDay('1w', now)).toBe('2025-02-24');
    expect(parseDay('10w', now)).toBe('2024-12-23');
    expect(parseDay('365d', now)).toBe('2024-03-03');
  });

  test('months and years are calendar months, clamped to the end of a shorter month', () => {
    expect(parseDay('1m', new Date(2025, 2, 31))).toBe('2025-02-28');
    expect(parseDay('13m', new Date(2025, 2, 31))).toBe('2024-02-29');
    expect(parseDay('1m', new Date(2025, 0, 15))).toBe('2024-12-15');
    expect(parseDay('1y', new Date(2024, 1, 29))).toBe('2023-02-28');
    expect(parseDay('4y', new Date(2024, 1, 29))).toBe('2020-02-29');
  });

  test('"today" is the local day: the same instant is a different day east and west of UTC', () => {
    const instant = new Date('2025-01-09T11:00:00Z');
    process.env.TZ = 'Pacific/Kiritimati'; // UTC+14: already 10 January, 01:00
    expect(parseDay('today', instant)).toBe('2025-01-10');
    expect(parseDay('1d', instant)).toBe('2025-01-09');
    process.env.TZ = 'America/Los_Angeles'; // UTC-8: still 9 January, 03:00
    expect(parseDay('today', instant)).toBe('2025-01-09');
    expect(parseDay('1d', instant)).toBe('2025-01-08');
  });

  test('a daylight-saving change does not move a day', () => {
    process.env.TZ = 'Europe/Berlin'; // clocks went forward on 30 March 2025
    const now = new Date(2025, 2, 31, 0, 30);
    expect(parseDay('1d', now)).toBe('2025-03-30');
    expect(parseDay('2d', now)).toBe('2025-03-29');
    expect(parseDay('1w', now)).toBe('2025-03-24');
  });

  test.each(['', 'tomorrow', '2025-1-9', '2025-00-10', '2025-04-31', '2025-02-29', '0000-01-01', '7', 'd7', '1.5d', '-7d', '2025-01-09T10:00', '7 d'])(
    '%j is an INVALID_VALUE usage error',
    (value) => {
      const error = thrown(() => parseDay(value, new Date(2025, 0, 9)));
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(`invalid date '${value}'`);
      expect(error.hint).toContain('YYYY-MM-DD, today, yesterday');
    },
  );
});

describe('parseSize', () => {
  test.each([
    ['0', 0],
    ['1', 1],
    ['500', 500],
    ['500B', 500],
    ['500K', 500 * 1024],
    ['500k', 500 * 1024],
    ['500KB', 500 * 1024],
    ['2M', 2 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['1.5M', 1.5 * 1024 ** 2],
    ['0.1K', 102],
  ])('%s is %d bytes', (value, bytes) => {
    expect(parseSize(value)).toBe(bytes);
  });

  test.each(['', 'K', '-1', '1.5', '1T', '1 K', '0x10', '1e3', 'big', '99999999999999999999'])('%j is an INVALID_VALUE usage error', (value) => {
    const error = thrown(() => parseSize(value));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`invalid size '${value}'`);
    expect(error.hint).toContain('K = 1024');
  });
});

describe('queryFromListFilters', () => {
  const now = new Date(2025, 0, 9, 10);

  test('no filter is no query', () => {
    expect(queryFromListFilters({}, { now })).toBeNull();
    expect(queryFromListFilters({ unread: false }, { now })).toBeNull();
  });

  test('one filter is that term alone', () => {
    expect(queryFromListFilters({ unread: true }, { now })).toEqual({ kind: 'flag', flag: 'unread' });
    expect(queryFromListFilters({ before: 'yesterday' }, { now })).toEqual({ kind: 'date', op: 'before', date: '2025-01-08' });
  });

  test('the flags give the same tree as the equivalent search query', () => {
    const filters = { unread: true, since: '7d', before: '2025-01-09', from: 'alice@example.com' };
    expect(queryFromListFilters(filters, { now })).toEqual(
      parseQuery('is:unread since:7d before:2025-01-09 from:alice@example.com', { now }),
    );
  });

  test('a bad date names the flag', () => {
    const error = thrown(() => queryFromListFilters({ since: 'last week' }, { now }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toBe("--since: invalid date 'last week'");
    expect(error.hint).toContain('YYYY-MM-DD');
    expect(thrown(() => queryFromListFilters({ before: '2025-02-30' }, { now })).message).toBe("--before: invalid date '2025-02-30'");
  });

  test('an empty --from is refused rather than matching everything', () => {
    const error = thrown(() => queryFromListFilters({ from: ' ' }, { now }));
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.message).toBe('--from: empty value');
  });
});
