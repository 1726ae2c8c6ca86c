/**
 * Small readers of /proc and cgroupfs for the diagnose collectors. A process may exit and a file may
 * be missing on this kernel at any moment while we look: those reads return undefined, and the
 * collectors report what they could read.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** The file's text, or undefined when it cannot be read (gone, absent on this kernel). */
export function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readLink(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

export function listDir(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

/** Kernel values at or above this mean "no limit" (v1 prints PAGE_COUNTER_MAX pages as bytes). */
const UNLIMITED = 2 ** 62;

/** A cgroup number file: undefined when absent, null for `max` or an "unlimited" v1 value. */
export function readLimit(dir: string | undefined, file: string): number | null | undefined {
  if (dir === undefined) return undefined;
  const text = readText(path.join(dir, file))?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === 'max' || text === '-1') return null;
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  return value >= UNLIMITED ? null : value;
}

/** A cgroup counter file (no "max"): undefined when absent. */
export function readCount(dir: string | undefined, file: string): number | undefined {
  const value = readLimit(dir, file);
  return value === null ? undefined : value;
}

/** `key value` lines (cpu.stat, memory.stat, memory.events, oom_control) as numbers (pure). */
export function parseKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** The fields of /proc/PID/stat after the command: index 0 is field 3 (state) (pure). */
export interface StatFields {
  command: string;
  state: string;
  ppid: number;
  threads: number;
  /** Field 22, in clock ticks since boot: with the pid, names one process across pid reuse. */
  startTime: string;
}

/** Parses /proc/PID/stat; the command may hold spaces and parentheses, so split at the last ')'. */
export function parseStat(text: string | undefined): StatFields | undefined {
  if (!text) return undefined;
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  return {
    command: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    threads: Number(rest[17]),
    startTime: rest[19] ?? '',
  };
}

export function readStat(pid: number | string): StatFields | undefined {
  return parseStat(readText(`/proc/${pid}/stat`));
}

/** Every pid on the host (numeric entries of /proc). */
export function allPids(): number[] {
  return (listDir('/proc') ?? []).filter((n) => /^\d+$/.test(n)).map(Number);
}
