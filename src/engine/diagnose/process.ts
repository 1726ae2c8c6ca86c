/**
 * The container's processes as /proc shows them: host and namespace pids, the tree under the init,
 * states (R S D Z …), threads, open fds and RLIMIT_NOFILE. States are sampled across the window so
 * that a process stuck in D, or a zombie nobody reaps, is told apart from a passing one.
 */
import path from 'node:path';
import { allPids, listDir, readStat, readText, type StatFields } from './procfs.ts';
import type { ProcessFacts, ProcessInfo } from './types.ts';

/**
 * The container's pids: the init and its descendants (by ppid), plus every member of its cgroup
 * (`cgroup.procs` files), which also holds exec'd processes, whose parent is outside the container.
 */
export function containerPids(initPid: number, procsFiles: readonly string[]): number[] {
  const members = new Set<number>([initPid]);
  for (const file of procsFiles)
    for (const line of (readText(file) ?? '').split('\n')) if (/^\d+$/.test(line)) members.add(Number(line));
  const parents = new Map<number, number>();
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat) parents.set(pid, stat.ppid);
  }
  // Descendants of the members, to a fixed point (a child may be listed before its parent).
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
  }
  return [...members].filter((pid) => parents.has(pid)).sort((a, b) => a - b);
}

/** Threads of the process in D state (the main one's state alone misses a blocked worker thread). */
function threadsInD(pid: number, stat: StatFields): number {
  if (stat.threads <= 1) return stat.state === 'D' ? 1 : 0;
  let n = 0;
  for (const tid of listDir(`/proc/${pid}/task`) ?? [])
    if (readStat(`${pid}/task/${tid}`)?.state === 'D') n++;
  return n;
}

interface Streaks {
  /** When the process was first seen in D (or as a zombie) without a sample in between that said otherwise. */
  dSince?: number;
  zSince?: number;
}

interface Sample {
  stat: StatFields;
  inD: number;
}

/**
 * Samples the processes' states across the window. Each sample() reads every process once; the
 * streaks of D and Z per process (pid + start time, so a reused pid starts afresh) give how long
 * each has been seen so.
 */
export class ProcessSampler {
  private readonly initPid: number;
  private readonly procsFiles: readonly string[];
  private readonly streaks = new Map<string, Streaks>();
  private first?: number;
  private last?: number;
  private latest = new Map<number, Sample>();

  constructor(initPid: number, procsFiles: readonly string[]) {
    this.initPid = initPid;
    this.procsFiles = procsFiles;
  }

  sample(now = Date.now()): void {
    this.first ??= now;
    this.last = now;
    const seen = new Map<number, Sample>();
    const keys = new Set<string>();
    for (const pid of containerPids(this.initPid, this.procsFiles)) {
      const stat = readStat(pid);
      if (!stat) continue;
      const inD = stat.state === 'Z' ? 0 : threadsInD(pid, stat);
      seen.set(pid, { stat, inD });
      const key = `${pid}:${stat.startTime}`;
      keys.add(key);
      const streak = this.streaks.get(key) ?? {};
      streak.dSince = inD > 0 ? (streak.dSince ?? now) : undefined;
      streak.zSince = stat.state === 'Z' ? (streak.zSince ?? now) : undefined;
      this.streaks.set(key, streak);
    }
    for (const key of this.streaks.keys()) if (!keys.has(key)) this.streaks.delete(key);
    this.latest = seen;
  }

  /** How long the samples span (ms): a streak this long was seen in every sample. */
  observedMs(): number {
    return this.first === undefined || this.last === undefined ? 0 : this.last - this.first;
  }

  /** The processes of the last sample, with their fds, limits and command lines read now. */
  facts(): ProcessFacts {
    const last = this.last ?? Date.now();
    const infos = new Map<number, ProcessInfo>();
    for (const [pid, { stat, inD }] of this.latest) {
      const streak = this.streaks.get(`${pid}:${stat.startTime}`) ?? {};
      infos.set(pid, {
        pid,
        nsPid: nsPidOf(pid),
        ppid: stat.ppid,
        depth: 0,
        command: stat.command,
        args: argsOf(pid),
        state: stat.state,
        threads: stat.threads,
        threadsInD: inD,
        fds: stat.state === 'Z' ? null : fdCount(pid),
        nofileLimit: stat.state === 'Z' ? null : nofileLimit(pid),
        dStateMs: streak.dSince === undefined ? 0 : last - streak.dSince,
        zombieMs: streak.zSince === undefined ? 0 : last - streak.zSince,
      });
    }
    const processes = treeOrder(infos, this.initPid);
    const states: Record<string, number> = {};
    for (const p of processes) states[p.state] = (states[p.state] ?? 0) + 1;
    return {
      pid: this.initPid,
      processes,
      states,
      threads: processes.reduce((sum, p) => sum + (Number.isFinite(p.threads) ? p.threads : 0), 0),
      observedMs: this.observedMs(),
    };
  }
}

/** Parents before children, siblings by pid; depth from the nearest root (pure). */
export function treeOrder(infos: ReadonlyMap<number, ProcessInfo>, initPid: number): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  const roots: ProcessInfo[] = [];
  for (const info of [...infos.values()].sort((a, b) => a.pid - b.pid)) {
    if (info.pid !== initPid && infos.has(info.ppid))
      children.set(info.ppid, [...(children.get(info.ppid) ?? []), info]);
    else roots.push(info);
  }
  // The init first, then processes whose parent is outside (exec'd ones).
  roots.sort((a, b) => (a.pid === initPid ? -1 : b.pid === initPid ? 1 : a.pid - b.pid));
  const out: ProcessInfo[] = [];
  const visit = (info: ProcessInfo, depth: number) => {
    out.push({ ...info, depth });
    for (const child of children.get(info.pid) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return out;
}

function nsPidOf(pid: number): number | null {
  const line = (readText(`/proc/${pid}/status`) ?? '').split('\n').find((l) => l.startsWith('NSpid:'));
  const last = line?.trim().split(/\s+/).pop();
  return last !== undefined && /^\d+$/.test(last) ? Number(last) : null;
}

function argsOf(pid: number): string[] {
  const text = readText(`/proc/${pid}/cmdline`) ?? '';
  return text === '' ? [] : text.replace(/\0$/, '').split('\0');
}

function fdCount(pid: number): number | null {
  return listDir(path.join('/proc', String(pid), 'fd'))?.length ?? null;
}

/** The soft RLIMIT_NOFILE of /proc/PID/limits ("Max open files  1024  4096  files"). */
export function nofileLimit(pid: number): number | null {
  return parseNofileLimit(readText(`/proc/${pid}/limits`));
}

/** Pure: the soft limit of the "Max open files" line; null for unlimited or a missing line. */
export function parseNofileLimit(text: string | undefined): number | null {
  const line = (text ?? '').split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : null;
}
