/**
 * Sizes and durations as Docker prints them (github.com/docker/go-units): decimal units, Go's `%g`
 * number formatting, and HumanDuration's buckets, so scripts that parse docker's output parse ours.
 */

import { humanDuration } from '../../common/index.ts';

export { humanDuration };

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's `%.<precision>g`: shortest of fixed and exponent form, trailing zeros removed. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(value.toPrecision(precision)))));
  if (exponent < -4 || exponent >= precision) {
    const [mantissa = '', exp = '0'] = value.toExponential(precision - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const n = Number(exp);
    return `${trimmed}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

/** units.HumanSizeWithPrecision: `13.3kB`, `4.26MB` (base 1000). */
export function humanSizeWithPrecision(size: number, precision: number): string {
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[unit]}`;
}

/** units.HumanSize (4 significant digits): what `system df` and `image prune` print. */
export const humanSize = (size: number): string => humanSizeWithPrecision(size, 4);

/** The size `images` and `history` print (3 significant digits). */
export const imageSize = (size: number): string => humanSizeWithPrecision(size, 3);

/** "2 hours ago", as `CREATED` columns show; "N/A" when the time is unknown. */
export function timeAgo(iso: string | undefined, now = Date.now()): string {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
}

/** Go's time.Time.String() of a Unix time in UTC: `2026-11-23 00:00:00 +0000 UTC`. */
export function goTimeString(iso: string | undefined): string {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  const date = new Date(Number.isNaN(t) ? -62135596800000 : Math.floor(t / 1000) * 1000);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}
