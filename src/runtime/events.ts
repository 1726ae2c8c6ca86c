/**
 * runc's `events`: the container's resource statistics in runc's types.Stats shape, read from its
 * cgroups (v1 controllers and cgroup v2, whichever holds each), and OOM notifications, polled from
 * the OOM-kill counters (v1 memory.oom_control's `oom_kill`, v2 memory.events' `oom_kill`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition, invalidArgument } from '../common/index.ts';
import type { Cgroup, CgroupDir } from './cgroups/index.ts';
import { containerCgroup } from './operations.ts';
import type { StateStore } from './state.ts';

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

/** runc's types.Stats (libcontainer/cgroups' Stats as `runc events` prints it). */
export interface Stats {
  cpu: {
    usage: { total: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttled_periods?: number; throttled_time?: number };
  };
  memory: {
    cache?: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[];
    ioServicedRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

export type RuntimeEvent = { type: 'stats'; id: string; data: Stats } | { type: 'oom'; id: string };

// "max" is reported as 2^64 - 1, which a JS number rounds to 2^64.
const MAX_UINT64 = 2 ** 64;

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(path.join(dir, file), 'utf8');
  } catch {
    // A controller file that this kernel or cgroup lacks leaves its statistic out, as runc does.
    return undefined;
  }
}

function readNumber(dir: string | undefined, file: string): number | undefined {
  const text = read(dir, file)?.trim();
  if (text === undefined || text === '') return undefined;
  if (text === 'max') return MAX_UINT64;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** `key value` lines (memory.stat, cpu.stat, memory.events) as a record (pure; unit-tested). */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** v1 blkio `MAJ:MIN Op value` lines (pure; unit-tested). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const match = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (match)
      out.push({ major: Number(match[1]), minor: Number(match[2]), op: match[3]!, value: Number(match[4]) });
  }
  return out;
}

/** v2 io.stat (`MAJ:MIN rbytes=… wbytes=… rios=… wios=…`) as runc maps it to v1's ops (pure; unit-tested). */
export function parseIoStatV2(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [device, ...fields] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device ?? '');
    if (!match) continue;
    const major = Number(match[1]);
    const minor = Number(match[2]);
    for (const field of fields) {
      const [key, value] = field.split('=');
      const n = Number(value);
      if (key === 'rbytes') bytes.push({ major, minor, op: 'Read', value: n });
      else if (key === 'wbytes') bytes.push({ major, minor, op: 'Write', value: n });
      else if (key === 'rios') ios.push({ major, minor, op: 'Read', value: n });
      else if (key === 'wios') ios.push({ major, minor, op: 'Write', value: n });
    }
  }
  return { bytes, ios };
}

/** The directory of the hierarchy that holds a controller: v1 first (hybrid hosts), then v2. */
function dirFor(cgroup: Cgroup, controller: string): CgroupDir | undefined {
  return (
    cgroup.dirs.find((e) => e.hierarchy.version === 1 && e.hierarchy.controllers.includes(controller)) ??
    cgroup.dirs.find((e) => e.hierarchy.version === 2 && e.hierarchy.controllers.includes(controller))
  );
}

function memoryEntry(dir: string | undefined, prefix: string): MemoryEntry {
  return {
    limit: readNumber(dir, `${prefix}limit_in_bytes`) ?? 0,
    usage: readNumber(dir, `${prefix}usage_in_bytes`) ?? 0,
    max: readNumber(dir, `${prefix}max_usage_in_bytes`) ?? 0,
    failcnt: readNumber(dir, `${prefix}failcnt`) ?? 0,
  };
}

const emptyMemory = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

function cpuStats(cgroup: Cgroup): Stats['cpu'] {
  const acct = dirFor(cgroup, 'cpuacct');
  if (acct?.hierarchy.version === 1) {
    const stat = parseFlatKeyed(read(acct.dir, 'cpuacct.stat'));
    // cpuacct.stat counts USER_HZ ticks (100 per second); runc reports nanoseconds.
    const tick = 10_000_000;
    const throttle = parseFlatKeyed(read(dirFor(cgroup, 'cpu')?.dir, 'cpu.stat'));
    return {
      usage: {
        total: readNumber(acct.dir, 'cpuacct.usage') ?? 0,
        percpu: (read(acct.dir, 'cpuacct.usage_percpu') ?? '')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number),
        kernel: (stat.system ?? 0) * tick,
        user: (stat.user ?? 0) * tick,
      },
      throttling: {
        periods: throttle.nr_periods ?? 0,
        throttled_periods: throttle.nr_throttled ?? 0,
        throttled_time: throttle.throttled_time ?? 0,
      },
    };
  }
  const unified = cgroup.dirs.find((e) => e.hierarchy.version === 2);
  const stat = parseFlatKeyed(read(unified?.dir, 'cpu.stat'));
  // cgroup v2 counts microseconds.
  return {
    usage: {
      total: (stat.usage_usec ?? 0) * 1000,
      kernel: (stat.system_usec ?? 0) * 1000,
      user: (stat.user_usec ?? 0) * 1000,
    },
    throttling: {
      periods: stat.nr_periods ?? 0,
      throttled_periods: stat.nr_throttled ?? 0,
      throttled_time: (stat.throttled_usec ?? 0) * 1000,
    },
  };
}

function memoryStats(cgroup: Cgroup): Stats['memory'] {
  const memory = dirFor(cgroup, 'memory');
  if (!memory) {
    return {
      usage: emptyMemory(),
      swap: emptyMemory(),
      kernel: emptyMemory(),
      kernelTCP: emptyMemory(),
      raw: {},
    };
  }
  if (memory.hierarchy.version === 1) {
    const raw = parseFlatKeyed(read(memory.dir, 'memory.stat'));
    return {
      cache: raw.cache ?? 0,
      usage: memoryEntry(memory.dir, 'memory.'),
      swap: memoryEntry(memory.dir, 'memory.memsw.'),
      kernel: memoryEntry(memory.dir, 'memory.kmem.'),
      kernelTCP: memoryEntry(memory.dir, 'memory.kmem.tcp.'),
      raw,
    };
  }
  const raw = parseFlatKeyed(read(memory.dir, 'memory.stat'));
  const events = parseFlatKeyed(read(memory.dir, 'memory.events'));
  return {
    cache: raw.file ?? 0,
    usage: {
      limit: readNumber(memory.dir, 'memory.max') ?? 0,
      usage: readNumber(memory.dir, 'memory.current') ?? 0,
      max: readNumber(memory.dir, 'memory.peak') ?? 0,
      failcnt: events.max ?? 0,
    },
    swap: {
      limit: readNumber(memory.dir, 'memory.swap.max') ?? 0,
      usage: readNumber(memory.dir, 'memory.swap.current') ?? 0,
      failcnt: 0,
    },
    kernel: emptyMemory(),
    kernelTCP: emptyMemory(),
    raw,
  };
}

function pidsStats(cgroup: Cgroup): Stats['pids'] {
  const pids = dirFor(cgroup, 'pids');
  const limit = readNumber(pids?.dir, 'pids.max');
  return {
    current: readNumber(pids?.dir, 'pids.current') ?? 0,
    // runc reports 0 for "max" (no limit).
    limit: limit === MAX_UINT64 ? 0 : (limit ?? 0),
  };
}

function blkioStats(cgroup: Cgroup): Stats['blkio'] {
  const blkio = dirFor(cgroup, 'blkio');
  if (blkio) {
    return {
      ioServiceBytesRecursive: parseBlkioV1(read(blkio.dir, 'blkio.throttle.io_service_bytes_recursive')),
      ioServicedRecursive: parseBlkioV1(read(blkio.dir, 'blkio.throttle.io_serviced_recursive')),
    };
  }
  const io = dirFor(cgroup, 'io');
  const { bytes, ios } = parseIoStatV2(read(io?.dir, 'io.stat'));
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

/** Page sizes as runc names them (`2MB`, `1GB`), from the hugetlb files present. */
function hugetlbStats(cgroup: Cgroup): Stats['hugetlb'] {
  const entry = dirFor(cgroup, 'hugetlb');
  const out: Stats['hugetlb'] = {};
  if (!entry) return out;
  let files: string[];
  try {
    files = readdirSync(entry.dir);
  } catch {
    return out;
  }
  const v1 = entry.hierarchy.version === 1;
  for (const file of files) {
    const match = v1 ? /^hugetlb\.(\w+)\.usage_in_bytes$/.exec(file) : /^hugetlb\.(\w+)\.current$/.exec(file);
    if (!match) continue;
    const size = match[1]!;
    if (v1) {
      out[size] = {
        usage: readNumber(entry.dir, `hugetlb.${size}.usage_in_bytes`) ?? 0,
        max: readNumber(entry.dir, `hugetlb.${size}.max_usage_in_bytes`) ?? 0,
        failcnt: readNumber(entry.dir, `hugetlb.${size}.failcnt`) ?? 0,
      };
    } else {
      out[size] = {
        usage: readNumber(entry.dir, `hugetlb.${size}.current`) ?? 0,
        failcnt: parseFlatKeyed(read(entry.dir, `hugetlb.${size}.events`)).max ?? 0,
      };
    }
  }
  return out;
}

export function cgroupStats(cgroup: Cgroup): Stats {
  return {
    cpu: cpuStats(cgroup),
    memory: memoryStats(cgroup),
    pids: pidsStats(cgroup),
    blkio: blkioStats(cgroup),
    hugetlb: hugetlbStats(cgroup),
  };
}

/** The number of OOM kills the kernel counted in the cgroup (v1 oom_control, v2 memory.events). */
export function oomKillCount(cgroup: Cgroup): number {
  const memory = dirFor(cgroup, 'memory');
  if (!memory) return 0;
  const file = memory.hierarchy.version === 1 ? 'memory.oom_control' : 'memory.events';
  return parseFlatKeyed(read(memory.dir, file)).oom_kill ?? 0;
}

/** One stats event of a live container (runc events --stats). */
export async function containerStats(store: StateStore, id: string): Promise<RuntimeEvent> {
  const record = await store.read(id);
  const status = await store.status(record);
  if (status === 'stopped' || status === 'creating') {
    throw failedPrecondition(`cannot read the stats of container "${id}": it is ${status}`);
  }
  return { type: 'stats', id, data: cgroupStats(await containerCgroup(record)) };
}

export interface WatchOptions {
  /** Time between stats events (runc's --interval, default 5 s). */
  intervalMs: number;
  /** How often the OOM counter and the container's liveness are checked. */
  pollMs?: number;
  onEvent: (event: RuntimeEvent) => void;
  signal?: AbortSignal;
}

/**
 * Emits a stats event every interval and an oom event whenever the OOM-kill counter grows, until the
 * container stops (or the signal aborts). Resolves once it has stopped.
 */
export async function watchEvents(store: StateStore, id: string, options: WatchOptions): Promise<void> {
  const record = await store.read(id);
  const cgroup = await containerCgroup(record);
  const poll = options.pollMs ?? 100;
  let ooms = oomKillCount(cgroup);
  let nextStats = Date.now() + options.intervalMs;
  while (!options.signal?.aborted) {
    const status = await store.status(record).catch(() => 'stopped' as const);
    const count = oomKillCount(cgroup);
    for (; ooms < count; ooms++) options.onEvent({ type: 'oom', id });
    if (status === 'stopped') return;
    if (Date.now() >= nextStats) {
      options.onEvent({ type: 'stats', id, data: cgroupStats(cgroup) });
      nextStats = Date.now() + options.intervalMs;
    }
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
}

/** runc's --interval: a Go duration (`5s`, `500ms`, `1m`) (pure; unit-tested). */
export function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) throw invalidArgument(`invalid --interval "${text}": use a duration such as 5s or 500ms`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * scale;
  if (ms <= 0) throw invalidArgument(`invalid --interval "${text}": must be positive`);
  return ms;
}
