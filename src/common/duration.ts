/**
 * Go's time.Duration as docker's flags read and print it: ParseDuration ("1m30s", "500ms", "1.5h",
 * "0") and Duration.String() ("1m30s", "500ms", "0s"), in nanoseconds (a JavaScript number holds
 * every duration docker's health checks use exactly; 2^53 ns is 104 days).
 */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration: nanoseconds; an Error worded as Go's (`time: invalid duration "x"`) otherwise. */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw invalid();
    const unit = UNIT_NS[m[3]!];
    if (unit === undefined)
      throw new Error(`time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(text)}`);
    total += Number(m[1] || '0') * unit + (m[2] ? Math.trunc(Number(`0.${m[2]}`) * unit) : 0);
    rest = rest.slice(m[0].length);
  }
  if (!Number.isSafeInteger(total)) throw new Error(`time: invalid duration ${JSON.stringify(text)}`);
  return sign * total;
}

/** Go's %.Nf-free formatting of a fraction: digits without trailing zeros. */
function fraction(value: number, digits: number): string {
  const whole = Math.trunc(value / 10 ** digits);
  const frac = String(value % 10 ** digits)
    .padStart(digits, '0')
    .replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let n = Math.abs(Math.trunc(ns));
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${fraction(n, 3)}µs`;
  if (n < 1e9) return `${sign}${fraction(n, 6)}ms`;
  const hours = Math.trunc(n / 3600e9);
  n -= hours * 3600e9;
  const minutes = Math.trunc(n / 60e9);
  n -= minutes * 60e9;
  const seconds = `${fraction(n, 9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}
