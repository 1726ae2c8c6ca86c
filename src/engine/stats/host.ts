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
