/**
 * docker's figures from two readings (docker CLI's stats helpers and dockerd's collector): CPU % as the
 * container's share of the host's CPU time between the readings times the online CPUs, memory without
 * the inactive page cache, the limit capped at the host's memory, block I/O and pids as they are, and
 * the CPU throttling docker does not show. Pure; unit-tested.
 */
import type { CgroupSample } from './cgroup.ts';

/** One reading of a container with the host's counters of the same moment. */
export interface StatsSample {
  /** When it was read (ms since the epoch). */
  readonly at: number;
  readonly cgroup: CgroupSample;
  readonly systemCpuNs: number;
  readonly onlineCpus: number;
  readonly hostMemory: number;
  /** Bytes received and sent by the container's network interfaces (none: not its own namespace). */
  readonly net?: { readonly rx: number; readonly tx: number };
}

export interface ContainerStats {
  /** 0 without an earlier reading (docker's first frame). */
  readonly cpuPercent: number;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly memoryPercent: number;
  readonly blockRead: number;
  readonly blockWrite: number;
  /** Network bytes received and sent (0 with --network host or none). */
  readonly netRx: number;
  readonly netTx: number;
  readonly pids: number;
  /** cpu.stat since the container started: CFS periods, throttled periods, throttled time (ns). */
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledNs: number;
  /** throttledPeriods / periods × 100; undefined when no period elapsed (no CPU quota). */
  readonly throttledPercent?: number;
}

/** docker CLI's calculateCPUPercentUnix. */
export function cpuPercent(prev: StatsSample | undefined, cur: StatsSample): number {
  if (!prev) return 0;
  const cpuDelta = cur.cgroup.cpuNs - prev.cgroup.cpuNs;
  const systemDelta = cur.systemCpuNs - prev.systemCpuNs;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * cur.onlineCpus * 100;
  return 0;
}

/** docker CLI's calculateMemUsageUnixNoCache: usage minus the inactive file cache (v1, then v2 key). */
export function memoryUsageNoCache(usage: number, stat: Readonly<Record<string, number>>): number {
  const v1 = stat.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stat.inactive_file;
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

/** dockerd: a limit above the host's memory (v1's "unlimited", v2's "max") is the host's memory. */
export function memoryLimit(limit: number | undefined, hostMemory: number): number {
  return limit === undefined || (hostMemory > 0 && limit > hostMemory) ? hostMemory : limit;
}

export function computeStats(prev: StatsSample | undefined, cur: StatsSample): ContainerStats {
  const g = cur.cgroup;
  const usage = memoryUsageNoCache(g.memoryUsage, g.memoryStat);
  const limit = memoryLimit(g.memoryLimit, cur.hostMemory);
  return {
    cpuPercent: cpuPercent(prev, cur),
    memoryUsage: usage,
    memoryLimit: limit,
    memoryPercent: limit !== 0 ? (usage / limit) * 100 : 0,
    blockRead: g.blockRead,
    blockWrite: g.blockWrite,
    netRx: cur.net?.rx ?? 0,
    netTx: cur.net?.tx ?? 0,
    pids: g.pids,
    periods: g.periods,
    throttledPeriods: g.throttledPeriods,
    throttledNs: g.throttledNs,
    ...(g.periods > 0 ? { throttledPercent: (g.throttledPeriods / g.periods) * 100 } : {}),
  };
}
