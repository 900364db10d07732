import { describe, expect, it } from 'vitest';
import { parseMailDate } from '../../src/mime/date.js';

describe('parseMailDate', () => {
  const valid: Array<[string, string]> = [
    ['Thu, 09 Jan 2025 10:30:00 +0000', '2025-01-09T10:30:00.000Z'],
    ['Thu, 9 Jan 2025 11:30:00 +0100 (CET)', '2025-01-09T10:30:00.000Z'],
    ['9 Jan 2025 05:30 -0500', '2025-01-09T10:30:00.000Z'],
    ['Thu,9 Jan 2025 10:30:00 GMT', '2025-01-09T10:30:00.000Z'],
    ['Thu, 09 Jan 2025 02:30:00 PST', '2025-01-09T10:30:00.000Z'],
    ['Thu, 09 Jan 2025 10:30:00', '2025-01-09T10:30:00.000Z'],
    ['Thursday, 09-Jan-25 10:30:00 UT', '2025-01-09T10:30:00.000Z'],
    ['Fri, 31 Dec 99 23:59:59 +0000', '1999-12-31T23:59:59.000Z'],
    ['Thu, 09 Jan 2025 10:30:00 -0000 (unknown zone)', '2025-01-09T10:30:00.000Z'],
    ['2025-01-09T10:30:00Z', '2025-01-09T10:30:00.000Z'],
    ['2025-01-09 12:30:00 +02:00', '2025-01-09T10:30:00.000Z'],
  ];
  for (const [input, iso] of valid) {
    it(`reads "${input}"`, () => {
      expect(parseMailDate(input)?.toISOString()).toBe(iso);
    });
  }

  const invalid = ['', 'yesterday', '1', 'Thu, 31 Feb 2025 10:00:00 +0000', 'Thu, 09 Foo 2025 10:30:00 +0000', '09 Jan 2025 25:00:00 +0000', '2025-01-09'];
  for (const input of invalid) {
    it(`returns null for "${input}"`, () => {
      expect(parseMailDate(input)).toBeNull();
    });
  }

  it('returns null for no header at all', () => {
    expect(parseMailDate(null)).toBeNull();
  });
});
