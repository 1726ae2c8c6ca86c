/**
 * The container's cgroup as the kernel sees it: its path per hierarchy from /proc/PID/cgroup (so a
 * process moved elsewhere is diagnosed where it is), every limit in force, usage, memory events,
 * CPU throttling and pressure (PSI). v1 controllers are preferred where a hybrid host has both, as
 * the runtime places limits there.
 */
import path from 'node:path';
import type { CgroupLayout, Hierarchy } from '../../runtime/index.ts';
import { parseKeyed, readCount, readLimit, readText } from './procfs.ts';
import type {
  CgroupFacts,
  CpuFacts,
  IoFacts,
  MemoryFacts,
  PidsFacts,
  PressureFacts,
  PressureLine,
  PressureResource,
  ThrottleWindow,
} from './types.ts';

/** The container's directory in each hierarchy it belongs to. */
export interface CgroupDirs {
  layout: CgroupLayout;
  entries: { hierarchy: Hierarchy; path: string; dir: string }[];
}

/** Pure: `/proc/PID/cgroup` lines as (controllers, path); v2's line has no controllers. */
export function parseProcCgroup(text: string): { controllers: string[]; path: string }[] {
  const out: { controllers: string[]; path: string }[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    out.push({ controllers: list === '' ? [] : list.split(','), path: line.slice(second + 1) });
  }
  return out;
}

/** Where each of the process's cgroups lies under the hierarchies' mount points. */
export function cgroupDirsOf(pid: number, layout: CgroupLayout): CgroupDirs {
  const entries: CgroupDirs['entries'] = [];
  for (const line of parseProcCgroup(readText(`/proc/${pid}/cgroup`) ?? '')) {
    const hierarchy =
      line.controllers.length === 0
        ? layout.hierarchies.find((h) => h.version === 2)
        : layout.hierarchies.find(
            (h) => h.version === 1 && line.controllers.every((c) => h.controllers.includes(c)),
          );
    if (!hierarchy) continue;
    const below =
      hierarchy.root === '/'
        ? line.path
        : line.path.startsWith(hierarchy.root)
          ? line.path.slice(hierarchy.root.length) || '/'
          : undefined;
    if (below === undefined) continue; // outside what this mount shows
    entries.push({ hierarchy, path: line.path, dir: path.join(hierarchy.mountpoint, below) });
  }
  return { layout, entries };
}

/** The hierarchy holding a controller: a v1 one bound to it, else cgroup2 when it offers it. */
function holder(dirs: CgroupDirs, controller: string): { version: 1 | 2; dir: string } | undefined {
  const v1 = dirs.entries.find(
    (e) => e.hierarchy.version === 1 && e.hierarchy.controllers.includes(controller),
  );
  if (v1) return { version: 1, dir: v1.dir };
  const v2 = dirs.entries.find(
    (e) => e.hierarchy.version === 2 && e.hierarchy.controllers.includes(controller),
  );
  return v2 ? { version: 2, dir: v2.dir } : undefined;
}

function unifiedDir(dirs: CgroupDirs): string | undefined {
  return dirs.entries.find((e) => e.hierarchy.version === 2)?.dir;
}

/** The `cgroup.procs` files of the container's cgroups (every process, exec'd ones included). */
export function procsFiles(dirs: CgroupDirs): string[] {
  return dirs.entries.map((e) => path.join(e.dir, 'cgroup.procs'));
}

export interface ThrottleCounters {
  periods: number;
  throttled: number;
  throttledTimeNs: number;
}

/** cpu.stat's CFS counters (v1 cpu controller, or v2 with its cpu controller); undefined without one. */
export function readThrottle(dirs: CgroupDirs): ThrottleCounters | undefined {
  const cpu = holder(dirs, 'cpu');
  if (!cpu) return undefined;
  const stat = parseKeyed(readText(path.join(cpu.dir, 'cpu.stat')));
  if (stat.nr_periods === undefined) return undefined;
  return {
    periods: stat.nr_periods,
    throttled: stat.nr_throttled ?? 0,
    throttledTimeNs: cpu.version === 1 ? (stat.throttled_time ?? 0) : (stat.throttled_usec ?? 0) * 1000,
  };
}

/** Pure: a window's throttle ratio from two readings. */
export function throttleWindow(
  before: ThrottleCounters | undefined,
  after: ThrottleCounters,
): ThrottleWindow {
  const periods = after.periods - (before?.periods ?? 0);
  const throttled = after.throttled - (before?.throttled ?? 0);
  return { periods, throttled, ratio: periods > 0 ? throttled / periods : null };
}

function memoryFacts(dirs: CgroupDirs): MemoryFacts | null {
  const memory = holder(dirs, 'memory');
  if (!memory) return null;
  const { dir } = memory;
  const stat = parseKeyed(readText(path.join(dir, 'memory.stat')));
  if (memory.version === 1) {
    const usage = readCount(dir, 'memory.usage_in_bytes') ?? 0;
    const oomControl = parseKeyed(readText(path.join(dir, 'memory.oom_control')));
    return {
      version: 1,
      limit: readLimit(dir, 'memory.limit_in_bytes') ?? null,
      reservation: readLimit(dir, 'memory.soft_limit_in_bytes') ?? null,
      high: null,
      swapLimit: readLimit(dir, 'memory.memsw.limit_in_bytes') ?? null,
      usage,
      workingSet: Math.max(0, usage - (stat.total_inactive_file ?? stat.inactive_file ?? 0)),
      peak: readCount(dir, 'memory.max_usage_in_bytes') ?? null,
      events: {
        oom: null,
        oomKill: oomControl.oom_kill ?? 0,
        high: null,
        max: null,
        failcnt: readCount(dir, 'memory.failcnt') ?? null,
        underOom: oomControl.under_oom === undefined ? null : oomControl.under_oom > 0,
      },
    };
  }
  const usage = readCount(dir, 'memory.current') ?? 0;
  const events = parseKeyed(readText(path.join(dir, 'memory.events')));
  const limit = readLimit(dir, 'memory.max') ?? null;
  const swap = readLimit(dir, 'memory.swap.max');
  return {
    version: 2,
    limit,
    // runc writes docker's --memory-reservation to memory.low; 0 there means none.
    reservation: readLimit(dir, 'memory.low') || null,
    high: readLimit(dir, 'memory.high') ?? null,
    swapLimit: limit !== null && typeof swap === 'number' ? limit + swap : null,
    usage,
    workingSet: Math.max(0, usage - (stat.inactive_file ?? 0)),
    peak: readCount(dir, 'memory.peak') ?? null,
    events: {
      oom: events.oom ?? 0,
      oomKill: events.oom_kill ?? 0,
      high: events.high ?? 0,
      max: events.max ?? 0,
      failcnt: null,
      underOom: null,
    },
  };
}

function cpuFacts(dirs: CgroupDirs, windowStart: ThrottleCounters | undefined): CpuFacts | null {
  const cpu = holder(dirs, 'cpu');
  const cpuset = holder(dirs, 'cpuset');
  if (!cpu && !cpuset) return null;
  const version = cpu?.version ?? 2;
  let quotaUs: number | null = null;
  let periodUs: number | null = null;
  let usageNs: number | null = null;
  if (cpu?.version === 1) {
    quotaUs = readLimit(cpu.dir, 'cpu.cfs_quota_us') ?? null;
    periodUs = readCount(cpu.dir, 'cpu.cfs_period_us') ?? null;
    const acct = holder(dirs, 'cpuacct');
    usageNs = readCount(acct?.dir, 'cpuacct.usage') ?? null;
  } else if (cpu) {
    const [quota, period] = (readText(path.join(cpu.dir, 'cpu.max')) ?? '').trim().split(/\s+/);
    quotaUs = quota && quota !== 'max' ? Number(quota) : null;
    periodUs = period ? Number(period) : null;
  }
  if (usageNs === null) {
    // cgroup2 counts usage in every cgroup, with or without its cpu controller.
    const usec = parseKeyed(readText(path.join(unifiedDir(dirs) ?? '/nonexistent', 'cpu.stat'))).usage_usec;
    usageNs = usec === undefined ? null : usec * 1000;
  }
  const now = readThrottle(dirs);
  const empty = { periods: 0, throttled: 0, ratio: null };
  const setDir = cpuset?.dir;
  const cpus = cpuset?.version === 1 ? 'cpuset.cpus' : 'cpuset.cpus.effective';
  const mems = cpuset?.version === 1 ? 'cpuset.mems' : 'cpuset.mems.effective';
  return {
    version,
    quotaUs,
    periodUs,
    cpus: quotaUs !== null && periodUs ? quotaUs / periodUs : null,
    shares: cpu?.version === 1 ? (readCount(cpu.dir, 'cpu.shares') ?? null) : null,
    weight: cpu?.version === 2 ? (readCount(cpu.dir, 'cpu.weight') ?? null) : null,
    cpuset: setDir
      ? {
          cpus: (readText(path.join(setDir, cpus)) ?? '').trim(),
          mems: (readText(path.join(setDir, mems)) ?? '').trim(),
        }
      : null,
    usageNs,
    throttling: {
      window: now ? throttleWindow(windowStart, now) : empty,
      sinceStart: now ? throttleWindow(undefined, now) : empty,
      throttledTimeNs: now?.throttledTimeNs ?? 0,
    },
  };
}

function pidsFacts(dirs: CgroupDirs): PidsFacts | null {
  const pids = holder(dirs, 'pids');
  if (!pids) return null;
  return {
    current: readCount(pids.dir, 'pids.current') ?? 0,
    max: readLimit(pids.dir, 'pids.max') ?? null,
    refusedForks: parseKeyed(readText(path.join(pids.dir, 'pids.events'))).max ?? null,
  };
}

/** The weight of `io.weight`'s `default N` line, or a plain number (v1 blkio.weight). */
function readWeight(dir: string, file: string): number | null {
  const text = readText(path.join(dir, file))?.trim();
  if (!text) return null;
  const match = /^(?:default\s+)?(\d+)/.exec(text);
  return match ? Number(match[1]) : null;
}

function ioFacts(dirs: CgroupDirs): IoFacts | null {
  const blkio = holder(dirs, 'blkio');
  if (blkio) {
    return {
      version: 1,
      weight: readWeight(blkio.dir, 'blkio.weight'),
      bfqWeight: readWeight(blkio.dir, 'blkio.bfq.weight'),
    };
  }
  const io = holder(dirs, 'io');
  if (!io) return null;
  return {
    version: 2,
    weight: readWeight(io.dir, 'io.weight'),
    bfqWeight: readWeight(io.dir, 'io.bfq.weight'),
  };
}

/** Pure: a PSI file (`some avg10=1.00 avg60=… avg300=… total=…` and maybe a `full` line). */
export function parsePressure(text: string | undefined): PressureResource | null {
  if (!text) return null;
  const lines: Record<string, PressureLine> = {};
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const values: Record<string, number> = {};
    for (const field of fields) {
      const [key, value] = field.split('=');
      if (key && value !== undefined) values[key] = Number(value);
    }
    lines[kind] = {
      avg10: values.avg10 ?? 0,
      avg60: values.avg60 ?? 0,
      avg300: values.avg300 ?? 0,
      totalUs: values.total ?? 0,
    };
  }
  return lines.some ? { some: lines.some, full: lines.full ?? null } : null;
}

/**
 * PSI: the container's own from its cgroup2 directory (present in every cgroup2 cgroup whatever its
 * controllers, so also on a hybrid host), else the whole machine's /proc/pressure.
 */
function pressureFacts(dirs: CgroupDirs): PressureFacts {
  const read = (dir: string, file: string) => parsePressure(readText(path.join(dir, file)));
  // A container left in cgroup2's root (a host whose runtime places it in v1 hierarchies only)
  // has no pressure of its own there: the root's is the machine's.
  const entry = dirs.entries.find((e) => e.hierarchy.version === 2 && e.path !== '/');
  const unified = entry?.dir;
  if (unified && read(unified, 'cpu.pressure')) {
    return {
      scope: 'cgroup',
      cpu: read(unified, 'cpu.pressure'),
      memory: read(unified, 'memory.pressure'),
      io: read(unified, 'io.pressure'),
    };
  }
  if (read('/proc/pressure', 'cpu')) {
    return {
      scope: 'host',
      cpu: read('/proc/pressure', 'cpu'),
      memory: read('/proc/pressure', 'memory'),
      io: read('/proc/pressure', 'io'),
    };
  }
  return { scope: 'unavailable', cpu: null, memory: null, io: null };
}

/** Whether the cgroup is frozen (or freezing) in the v1 freezer or by cgroup2. */
function isFrozen(dirs: CgroupDirs): boolean {
  const freezer = holder(dirs, 'freezer');
  if (freezer?.version === 1) {
    const state = readText(path.join(freezer.dir, 'freezer.state'))?.trim();
    if (state === 'FROZEN' || state === 'FREEZING') return true;
  }
  const unified = unifiedDir(dirs);
  return unified !== undefined && parseKeyed(readText(path.join(unified, 'cgroup.events'))).frozen === 1;
}

export function collectCgroup(dirs: CgroupDirs, windowStart: ThrottleCounters | undefined): CgroupFacts {
  return {
    layout: dirs.layout.kind,
    paths: Object.fromEntries(dirs.entries.map((e) => [e.hierarchy.key, e.path])),
    frozen: isFrozen(dirs),
    memory: memoryFacts(dirs),
    cpu: cpuFacts(dirs, windowStart),
    pids: pidsFacts(dirs),
    io: ioFacts(dirs),
    pressure: pressureFacts(dirs),
  };
}
