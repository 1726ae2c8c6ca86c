/**
 * Times in the logs: the RFC 3339 nano timestamps of the json-file lines, docker's --since/--until
 * arguments (moby's timetypes.GetTimestamp) and the `docker logs -t` prefix.
 */
import { invalidArgument } from '../../common/index.ts';

/** A point in time with the nanoseconds a Date cannot hold. */
export interface LogTime {
  readonly date: Date;
  /** Nanoseconds within the millisecond of date (0–999999). */
  readonly subMillisNanos: number;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([Zz]|[+-]\d{2}:\d{2})?$/;

/** Parses `2026-11-23T14:28:21.123456789Z` (what the monitor writes); undefined when malformed. */
export function parseRfc3339Nano(text: string): LogTime | undefined {
  const m = RFC3339.exec(text);
  if (!m || m[4] === undefined || m[6] === undefined || m[8] === undefined) return undefined;
  return fromParts(m, false);
}

function fromParts(m: RegExpExecArray, local: boolean): LogTime | undefined {
  const [y, mo, d, h = 0, mi = 0, s = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    v === undefined ? undefined : Number(v),
  ) as number[];
  const fraction = (m[7] ?? '').padEnd(9, '0');
  const nanos = Number(fraction);
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Math.floor(nanos / 1e6);
  let t: number;
  if (local) t = new Date(y!, mo! - 1, d!, h, mi, s, ms).getTime();
  else {
    t = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
    const zone = m[8];
    if (zone && zone !== 'Z' && zone !== 'z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      t -= sign * offset;
    }
  }
  return { date: new Date(t), subMillisNanos: nanos % 1e6 };
}

const DURATION = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration in milliseconds; undefined when text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  const sign = text.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of text.replace(/^[-+]/, '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g))
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return sign * total;
}

/**
 * docker logs --since/--until: a Go duration before now (`10m`, `1h30m`), an RFC 3339 time with or
 * without zone (without: local time), a date, or Unix seconds with optional fraction.
 */
export function parseTimeArg(text: string, now: Date = new Date()): Date {
  const value = text.trim();
  const duration = value === '0' ? undefined : parseGoDuration(value);
  if (duration !== undefined) return new Date(now.getTime() - duration);
  if (value.includes('-') || value.includes('T')) {
    const m = RFC3339.exec(value);
    // Without zone (and not a negative number), moby parses in the local time zone.
    const parsed = m ? fromParts(m, m[8] === undefined) : undefined;
    if (!parsed) throw invalidArgument(`failed to parse value as time or duration: "${text}"`);
    return parsed.date;
  }
  const unix = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!unix) throw invalidArgument(`failed to parse value as time or duration: "${text}"`);
  const fraction = (unix[2] ?? '').slice(0, 9).padEnd(9, '0');
  return new Date(Number(unix[1]) * 1000 + Math.floor(Number(fraction) / 1e6));
}

/** Go's RFC3339NanoFixed in UTC (nine digits), the prefix docker's daemon puts on `logs -t` lines. */
export function formatRfc3339NanoFixed(time: LogTime): string {
  const iso = time.date.toISOString(); // 2026-11-23T14:28:21.123Z
  const nanos = String(time.date.getUTCMilliseconds() * 1e6 + time.subMillisNanos).padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}
