/**
 * From the collected facts to findings in plain words, each with its evidence (pure; unit-tested
 * with synthetic facts). The thresholds are named here; README.md ("skiff diagnose") lists them.
 * A healthy container has none.
 */
import type { DiagnoseReport, Finding, ProcessInfo } from './types.ts';

/** Throttled in at least this share of CFS periods (over the window, or since start). */
export const CPU_THROTTLED_RATIO = 0.25;
/** …counted over at least this many periods, so that one unlucky period is no finding. */
export const CPU_THROTTLED_MIN_PERIODS = 5;
/** Working set at or above this share of the memory limit. */
export const MEMORY_NEAR_LIMIT_RATIO = 0.9;
/** Open fds of one process at or above this share of its RLIMIT_NOFILE soft limit. */
export const FDS_NEAR_LIMIT_RATIO = 0.9;
/** Processes at or above this share of pids.max. */
export const PIDS_NEAR_LIMIT_RATIO = 0.9;
/** A thread in D state is reported when seen so in every sample for at least this long. */
export const D_STATE_MIN_MS = 1000;
/** Memory or I/O pressure (PSI `some` avg10, percent of time) of the container's own cgroup. */
export const PRESSURE_SOME_AVG10 = 20;

const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;
const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Bytes as a person reads them (binary units, as `docker stats` shows memory). */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(unit === 0 ? 0 : 1))}${units[unit]}`;
}

type Facts = Omit<DiagnoseReport, 'findings'>;

export function findingsOf(facts: Facts): Finding[] {
  if (!facts.process) return stoppedFindings(facts);
  return [
    ...oomFindings(facts),
    ...memoryFindings(facts),
    ...throttleFindings(facts),
    ...zombieFindings(facts),
    ...dStateFindings(facts),
    ...fdFindings(facts),
    ...pidsFindings(facts),
    ...pressureFindings(facts),
  ];
}

function stoppedFindings(facts: Facts): Finding[] {
  const exit = facts.lastExit;
  if (!exit?.oomKilled) return [];
  return [
    {
      code: 'oom-killed',
      severity: 'error',
      message: `the last run was OOM killed (exit code ${exit.exitCode}): raise --memory or find what grows`,
      evidence: [`State.OOMKilled true, State.ExitCode ${exit.exitCode}, finished ${exit.finishedAt ?? '?'}`],
    },
  ];
}

function oomFindings(facts: Facts): Finding[] {
  const memory = facts.cgroup?.memory;
  if (!memory) return [];
  const out: Finding[] = [];
  const kills = memory.events.oomKill;
  if (kills > 0) {
    const file = memory.version === 1 ? 'memory.oom_control' : 'memory.events';
    const limit = memory.limit === null ? 'no limit' : `limit ${bytes(memory.limit)}`;
    out.push({
      code: 'oom-kills',
      severity: 'error',
      message: `${plural(kills, 'OOM kill')} since start: raise --memory or find what grows`,
      evidence: [
        `${file}: oom_kill ${kills}`,
        `memory ${limit}, peak ${memory.peak === null ? '?' : bytes(memory.peak)}`,
      ],
    });
  }
  if (memory.events.underOom) {
    out.push({
      code: 'under-oom',
      severity: 'error',
      message: 'processes are stalled at the memory limit waiting for the OOM killer, which is disabled',
      evidence: ['memory.oom_control: under_oom 1'],
    });
  }
  return out;
}

function memoryFindings(facts: Facts): Finding[] {
  const memory = facts.cgroup?.memory;
  const ratio = facts.limits?.memory?.ratio;
  if (!memory || memory.limit === null || ratio === null || ratio === undefined) return [];
  if (ratio < MEMORY_NEAR_LIMIT_RATIO) return [];
  return [
    {
      code: 'memory-near-limit',
      severity: 'warning',
      message: `memory at ${percent(ratio)} of limit: raise --memory or look for a leak`,
      evidence: [
        `working set ${bytes(memory.workingSet)} of limit ${bytes(memory.limit)} (usage with page cache ${bytes(memory.usage)})`,
      ],
    },
  ];
}

function throttleFindings(facts: Facts): Finding[] {
  const cpu = facts.cgroup?.cpu;
  if (!cpu) return [];
  const { window, sinceStart, throttledTimeNs } = cpu.throttling;
  const over = (w: typeof window) =>
    w.ratio !== null && w.periods >= CPU_THROTTLED_MIN_PERIODS && w.ratio >= CPU_THROTTLED_RATIO;
  const quota =
    cpu.quotaUs !== null && cpu.periodUs !== null
      ? `quota ${cpu.quotaUs} µs per ${cpu.periodUs} µs period (${Number((cpu.cpus ?? 0).toFixed(2))} CPUs)`
      : 'no quota';
  const evidence = [
    `cpu.stat: nr_throttled ${window.throttled} of nr_periods ${window.periods} over the last ${seconds(facts.intervalMs)}`,
    `since start: ${sinceStart.throttled} of ${sinceStart.periods} periods${sinceStart.ratio === null ? '' : ` (${percent(sinceStart.ratio)})`}, throttled for ${seconds(throttledTimeNs / 1e6)} in all`,
    quota,
  ];
  if (over(window))
    return [
      {
        code: 'cpu-throttled',
        severity: 'warning',
        message: `CPU throttled in ${percent(window.ratio ?? 0)} of periods over the last ${seconds(facts.intervalMs)}: raise --cpus or look at bursts`,
        evidence,
      },
    ];
  if (over(sinceStart))
    return [
      {
        code: 'cpu-throttled',
        severity: 'warning',
        message: `CPU throttled in ${percent(sinceStart.ratio ?? 0)} of periods since start (${window.ratio === null ? 'no periods' : percent(window.ratio)} over the last ${seconds(facts.intervalMs)}): look at bursts or raise --cpus`,
        evidence,
      },
    ];
  return [];
}

/** Seen so in every sample of the window (a single sample: seen so once). */
const persistent = (ms: number, observedMs: number) => ms >= observedMs;

function zombieFindings(facts: Facts): Finding[] {
  const process = facts.process;
  if (!process) return [];
  const zombies = process.processes.filter(
    (p) => p.state === 'Z' && persistent(p.zombieMs, process.observedMs),
  );
  const byParent = new Map<number, ProcessInfo[]>();
  for (const z of zombies) byParent.set(z.ppid, [...(byParent.get(z.ppid) ?? []), z]);
  const out: Finding[] = [];
  for (const [ppid, list] of byParent) {
    const parent = process.processes.find((p) => p.pid === ppid);
    const evidence = [
      `${list
        .slice(0, 10)
        .map((z) => `host PID ${z.pid} (${z.command})`)
        .join(
          ', ',
        )}${list.length > 10 ? ', …' : ''} in state Z for the whole ${seconds(process.observedMs)} window`,
      `their parent: host PID ${ppid}${parent ? ` (${parent.command}, PID ${parent.nsPid ?? '?'} in the container)` : ''}`,
    ];
    const message =
      ppid === process.pid
        ? `${plural(list.length, 'zombie process', 'zombie processes')}: PID 1 does not reap children; run with --init`
        : `${plural(list.length, 'zombie process', 'zombie processes')}: their parent PID ${parent?.nsPid ?? ppid} (${parent?.command ?? '?'}) does not wait for them`;
    out.push({ code: 'zombies', severity: 'warning', message, evidence });
  }
  return out;
}

function dStateFindings(facts: Facts): Finding[] {
  const process = facts.process;
  // A paused container's processes all wait in the freezer, shown as D: that is no I/O hang.
  if (!process || facts.cgroup?.frozen) return [];
  const stuck = process.processes.filter(
    (p) => p.threadsInD > 0 && p.dStateMs >= D_STATE_MIN_MS && persistent(p.dStateMs, process.observedMs),
  );
  if (stuck.length === 0) return [];
  const shortest = Math.min(...stuck.map((p) => p.dStateMs));
  return [
    {
      code: 'd-state',
      severity: 'error',
      message: `${plural(stuck.length, 'process', 'processes')} in D state for ≥ ${seconds(shortest)}: blocked on I/O (a slow disk, a hung network mount)`,
      evidence: stuck
        .slice(0, 10)
        .map(
          (p) => `host PID ${p.pid} (${p.command}): ${plural(p.threadsInD, 'thread')} in D in every sample`,
        ),
    },
  ];
}

function fdFindings(facts: Facts): Finding[] {
  const fds = facts.limits?.fds;
  if (!fds || fds.ratio === null || fds.ratio < FDS_NEAR_LIMIT_RATIO) return [];
  return [
    {
      code: 'fds-near-limit',
      severity: 'warning',
      message: `fds at ${percent(fds.ratio)} of the ulimit: raise --ulimit nofile or look for a leak`,
      evidence: [
        `host PID ${fds.pid} (${fds.command}): ${fds.used} open fds (/proc/${fds.pid}/fd), RLIMIT_NOFILE ${fds.limit}`,
      ],
    },
  ];
}

function pidsFindings(facts: Facts): Finding[] {
  const pids = facts.cgroup?.pids;
  const ratio = facts.limits?.pids?.ratio;
  const out: Finding[] = [];
  if (pids && pids.max !== null && ratio !== null && ratio !== undefined && ratio >= PIDS_NEAR_LIMIT_RATIO) {
    out.push({
      code: 'pids-near-limit',
      severity: 'warning',
      message: `pids at ${percent(ratio)} of pids.max: raise --pids-limit or look for a fork leak`,
      evidence: [`pids.current ${pids.current} of pids.max ${pids.max}`],
    });
  }
  if (pids?.refusedForks) {
    out.push({
      code: 'forks-refused',
      severity: 'error',
      message: `${plural(pids.refusedForks, 'fork')} refused since start by pids.max: raise --pids-limit`,
      evidence: [`pids.events: max ${pids.refusedForks}`],
    });
  }
  return out;
}

function pressureFindings(facts: Facts): Finding[] {
  const pressure = facts.cgroup?.pressure;
  // The machine's pressure is not the container's fault: only its own cgroup's counts.
  if (pressure?.scope !== 'cgroup') return [];
  const out: Finding[] = [];
  for (const [resource, what] of [
    ['memory', 'waiting for memory (reclaim, swap-in)'],
    ['io', 'waiting for I/O'],
  ] as const) {
    const some = pressure[resource]?.some;
    if (!some || some.avg10 < PRESSURE_SOME_AVG10) continue;
    out.push({
      code: `${resource}-pressure`,
      severity: 'warning',
      message: `${resource === 'io' ? 'I/O' : 'memory'} pressure: some processes were stalled ${what} ${some.avg10}% of the last 10 s`,
      evidence: [`${resource}.pressure: some avg10=${some.avg10} avg60=${some.avg60} avg300=${some.avg300}`],
    });
  }
  return out;
}
