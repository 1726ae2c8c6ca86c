/**
 * What a container's cgroup says about its resource use, read per controller from the hierarchy that
 * holds it (v1 first, then v2: this host's hybrid layout has every controller on v1), as runc's
 * libcontainer reads it for dockerd: CPU time and throttling, memory usage, limit and the page-cache
 * counters docker subtracts, block I/O bytes, pids. Readings are raw numbers; ./compute.ts makes
 * docker's figures of them. A file a kernel lacks leaves its value out (0), never an error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CgroupDir } from '../../runtime/index.ts';

export interface CgroupSample {
  /** CPU time used by the cgroup, ns (v1 cpuacct.usage, v2 cpu.stat usage_usec). */
  readonly cpuNs: number;
  /** CFS bandwidth control (cpu.stat): periods elapsed, periods throttled, time throttled (ns). */
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledNs: number;
  /** Memory charged to the cgroup (v1 memory.usage_in_bytes, v2 memory.current), bytes. */
  readonly memoryUsage: number;
  /** The limit (v1 memory.limit_in_bytes, v2 memory.max); undefined when unlimited ("max"). */
  readonly memoryLimit?: number;
  /** memory.stat as key → value (v1 total_inactive_file, v2 inactive_file, …). */
  readonly memoryStat: Readonly<Record<string, number>>;
  /** Block I/O bytes read and written (v1 blkio io_service_bytes_recursive, v2 io.stat). */
  readonly blockRead: number;
  readonly blockWrite: number;
  readonly pids: number;
  /** pids.max; undefined when unlimited. */
  readonly pidsLimit?: number;
  /** Which cgroup version each reading came from (for diagnose's evidence). */
  readonly versions: Readonly<Record<'cpu' | 'memory' | 'io' | 'pids', 1 | 2 | undefined>>;
}

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** A single-number file; undefined for "max" or when missing. */
function readNumber(dir: string | undefined, file: string): number | undefined {
  const text = read(dir, file)?.trim();
  if (text === undefined || text === '' || text === 'max') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** `key value` lines (cpu.stat, memory.stat) (pure; unit-tested). */
export function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** v1 blkio `MAJ:MIN Op bytes` lines: reads and writes summed as docker's calculateBlockIO (pure). */
export function blkioV1Bytes(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of (text ?? '').split('\n')) {
    const m = /^\d+:\d+ (\w+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const op = m[1]![0];
    if (op === 'r' || op === 'R') read += Number(m[2]);
    else if (op === 'w' || op === 'W') write += Number(m[2]);
  }
  return { read, write };
}

/** v2 io.stat `MAJ:MIN rbytes=… wbytes=… …` lines, summed (pure). */
export function ioStatV2Bytes(text: string | undefined): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const field of (text ?? '').split(/\s+/)) {
    const [key, value] = field.split('=');
    if (key === 'rbytes') read += Number(value);
    else if (key === 'wbytes') write += Number(value);
  }
  return { read, write };
}

/** The directory of the hierarchy that holds `controller`: v1 first, then v2. */
function dirFor(dirs: readonly CgroupDir[], controller: string): CgroupDir | undefined {
  return (
    dirs.find((d) => d.hierarchy.version === 1 && d.hierarchy.controllers.includes(controller)) ??
    dirs.find((d) => d.hierarchy.version === 2 && d.hierarchy.controllers.includes(controller))
  );
}

const unified = (dirs: readonly CgroupDir[]) => dirs.find((d) => d.hierarchy.version === 2);

function cpu(dirs: readonly CgroupDir[]): Pick<
  CgroupSample,
  'cpuNs' | 'periods' | 'throttledPeriods' | 'throttledNs'
> & {
  version: 1 | 2 | undefined;
} {
  const acct = dirFor(dirs, 'cpuacct');
  const cpuDir = dirFor(dirs, 'cpu');
  if (acct?.hierarchy.version === 1) {
    const stat = parseKeyValues(read(cpuDir?.dir, 'cpu.stat'));
    return {
      cpuNs: readNumber(acct.dir, 'cpuacct.usage') ?? 0,
      periods: stat.nr_periods ?? 0,
      throttledPeriods: stat.nr_throttled ?? 0,
      throttledNs: stat.throttled_time ?? 0,
      version: 1,
    };
  }
  // cgroup v2: cpu.stat has usage_usec always, the nr_* and throttled_usec with the cpu controller.
  const v2 = cpuDir?.hierarchy.version === 2 ? cpuDir : unified(dirs);
  const stat = parseKeyValues(read(v2?.dir, 'cpu.stat'));
  return {
    cpuNs: (stat.usage_usec ?? 0) * 1000,
    periods: stat.nr_periods ?? 0,
    throttledPeriods: stat.nr_throttled ?? 0,
    throttledNs: (stat.throttled_usec ?? 0) * 1000,
    version: v2 ? 2 : undefined,
  };
}

function memory(dirs: readonly CgroupDir[]): Pick<
  CgroupSample,
  'memoryUsage' | 'memoryLimit' | 'memoryStat'
> & {
  version: 1 | 2 | undefined;
} {
  const m = dirFor(dirs, 'memory');
  if (!m) return { memoryUsage: 0, memoryStat: {}, version: undefined };
  const stat = parseKeyValues(read(m.dir, 'memory.stat'));
  if (m.hierarchy.version === 1) {
    const limit = readNumber(m.dir, 'memory.limit_in_bytes');
    return {
      memoryUsage: readNumber(m.dir, 'memory.usage_in_bytes') ?? 0,
      // v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages); compute.ts caps it at the host's memory.
      ...(limit !== undefined ? { memoryLimit: limit } : {}),
      memoryStat: stat,
      version: 1,
    };
  }
  const limit = readNumber(m.dir, 'memory.max');
  return {
    memoryUsage: readNumber(m.dir, 'memory.current') ?? 0,
    ...(limit !== undefined ? { memoryLimit: limit } : {}),
    memoryStat: stat,
    version: 2,
  };
}

/** libcontainer's order: CFQ's counters, then BFQ's, then the throttle layer's (always there). */
const BLKIO_FILES = [
  'blkio.io_service_bytes_recursive',
  'blkio.bfq.io_service_bytes_recursive',
  'blkio.throttle.io_service_bytes_recursive',
];

function blockIo(dirs: readonly CgroupDir[]): { read: number; write: number; version: 1 | 2 | undefined } {
  const blkio = dirFor(dirs, 'blkio');
  if (blkio) {
    for (const file of BLKIO_FILES) {
      const text = read(blkio.dir, file);
      if (text !== undefined && /\d+:\d+ \w+ \d+/.test(text)) return { ...blkioV1Bytes(text), version: 1 };
    }
    return { read: 0, write: 0, version: 1 };
  }
  const io = dirFor(dirs, 'io');
  return io
    ? { ...ioStatV2Bytes(read(io.dir, 'io.stat')), version: 2 }
    : { read: 0, write: 0, version: undefined };
}

/** One reading of every statistic of a container's cgroup directories. */
export function sampleCgroup(dirs: readonly CgroupDir[]): CgroupSample {
  const c = cpu(dirs);
  const m = memory(dirs);
  const io = blockIo(dirs);
  const pidsDir = dirFor(dirs, 'pids');
  const pidsLimit = readNumber(pidsDir?.dir, 'pids.max');
  return {
    cpuNs: c.cpuNs,
    periods: c.periods,
    throttledPeriods: c.throttledPeriods,
    throttledNs: c.throttledNs,
    memoryUsage: m.memoryUsage,
    ...(m.memoryLimit !== undefined ? { memoryLimit: m.memoryLimit } : {}),
    memoryStat: m.memoryStat,
    blockRead: io.read,
    blockWrite: io.write,
    pids: readNumber(pidsDir?.dir, 'pids.current') ?? 0,
    ...(pidsLimit !== undefined ? { pidsLimit } : {}),
    versions: { cpu: c.version, memory: m.version, io: io.version, pids: pidsDir?.hierarchy.version },
  };
}
