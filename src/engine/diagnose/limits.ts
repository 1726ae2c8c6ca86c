/**
 * Usage against the limits that end a container's work when reached: open fds against
 * RLIMIT_NOFILE (per process: the limit is per process), pids against pids.max, the working set
 * against the memory limit (pure).
 */
import type { CgroupFacts, LimitFacts, ProcessFacts, UsageAgainstLimit } from './types.ts';

const against = (used: number, limit: number | null): UsageAgainstLimit => ({
  used,
  limit,
  ratio: limit !== null && limit > 0 ? used / limit : null,
});

export function collectLimits(process: ProcessFacts, cgroup: CgroupFacts): LimitFacts {
  let fds: LimitFacts['fds'] = null;
  for (const p of process.processes) {
    if (p.fds === null) continue;
    const candidate = { ...against(p.fds, p.nofileLimit), pid: p.pid, command: p.command };
    // The process nearest its own limit; without limits, the one with the most fds.
    const better =
      !fds ||
      (candidate.ratio ?? -1) > (fds.ratio ?? -1) ||
      (candidate.ratio === fds.ratio && candidate.used > fds.used);
    if (better) fds = candidate;
  }
  const pids = cgroup.pids ? against(cgroup.pids.current, cgroup.pids.max) : null;
  const memory = cgroup.memory ? against(cgroup.memory.workingSet, cgroup.memory.limit) : null;
  return { fds, pids, memory };
}
