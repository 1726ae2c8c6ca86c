/** The host's side of docker's CPU % and memory limit: total CPU time from /proc/stat, CPUs, memory. */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture docker runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * dockerd's getSystemCPUUsage: the first `cpu` line of /proc/stat, user + nice + system + idle +
 * iowait + irq + softirq, in ns (pure; unit-tested).
 */
export function systemCpuNsOf(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  const fields = line?.trim().split(/\s+/) ?? [];
  if (fields.length < 8) throw new Error('/proc/stat: the `cpu` line has fewer than 7 fields');
  const ticks = fields.slice(1, 8).reduce((sum, f) => sum + Number(f), 0);
  return (ticks * 1e9) / CLOCK_TICKS_PER_SECOND;
}

export function systemCpuNs(): number {
  return systemCpuNsOf(readFileSync('/proc/stat', 'utf8'));
}

/** Online CPUs (sysconf(_SC_NPROCESSORS_ONLN), as dockerd reports OnlineCPUs). */
export function onlineCpus(): number {
  return Math.max(1, os.cpus().length);
}

/** The host's memory: dockerd's cap for a container without a memory limit. */
export function hostMemory(): number {
  return os.totalmem();
}

/**
 * Bytes received and sent by the interfaces of a network namespace (`/proc/PID/net/dev`), loopback
 * left out: what dockerd sums over a container's endpoints (pure; unit-tested).
 */
export function netDevBytes(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (fields.length < 9 || fields.some(Number.isNaN)) continue;
    rx += fields[0]!;
    tx += fields[8]!;
  }
  return { rx, tx };
}

/** The network traffic of the namespace process `pid` is in (undefined when it is gone). */
export function processNetBytes(pid: number): { rx: number; tx: number } | undefined {
  try {
    return netDevBytes(readFileSync(`/proc/${pid}/net/dev`, 'utf8'));
  } catch {
    return undefined;
  }
}
