/**
 * Message sizes for `larger:` and `smaller:`: plain bytes or a number with
 * K, M or G (binary: K = 1024), optionally followed by B, in any case.
 */
import { MailopsError } from '../../domain/errors.js';

export const SIZE_FORMS_HINT = 'use bytes, or a number with K, M or G (K = 1024): 500K, 2M, 1.5G';

const UNIT_BYTES = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** Bytes, or null when the value is not a size. A fraction needs a unit (1.5M) and is rounded to whole bytes. */
export function resolveSize(value: string): number | null {
  const match = /^(\d+(\.\d+)?)([kmg]?)b?$/i.exec(value.trim());
  if (!match) return null;
  const unit = (match[3] ?? '').toLowerCase() as keyof typeof UNIT_BYTES;
  if (match[2] !== undefined && unit === '') return null;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[unit]);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Parses `500K`, `2M`, `1G`, `1048576`. Throws an INVALID_VALUE usage error. */
export function parseSize(value: string): number {
  const bytes = resolveSize(value);
  if (bytes === null) {
    throw new MailopsError('INVALID_VALUE', `invalid size '${value}'`, { hint: SIZE_FORMS_HINT });
  }
  return bytes;
}

/** The largest whole unit that is exact: 512000 -> '500K', 2097152 -> '2M', 1500 -> '1500'. */
export function formatSize(bytes: number): string {
  for (const [suffix, unit] of [['G', UNIT_BYTES.g], ['M', UNIT_BYTES.m], ['K', UNIT_BYTES.k]] as const) {
    if (bytes > 0 && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
