import { readFileSync } from 'node:fs';
import { hasErrno } from './errors.ts';

export type ProcessLiveness = 'alive' | 'zombie' | 'gone';

interface ProcStat {
  state: string;
  startTime: string;
}

/** Fields of /proc/<pid>/stat that identify a process over time (its start time survives pid reuse). */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  let text: string;
  try {
    // procfs is in memory: a synchronous read is cheaper than a trip through libuv's thread pool.
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT', 'ESRCH')) return undefined;
    throw err;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTime: fields[19] ?? '' };
}

/** Whether the process with this pid is still the one that started at `startTime`, and alive. */
export async function processLiveness(pid: number, startTime?: string): Promise<ProcessLiveness> {
  const stat = await readProcStat(pid);
  if (!stat) return 'gone';
  if (startTime !== undefined && stat.startTime !== startTime) return 'gone';
  return stat.state === 'Z' || stat.state === 'X' ? 'zombie' : 'alive';
}

/** Polls until the process is dead (gone or a zombie), with a deadline. */
export async function waitForProcessExit(
  pid: number,
  startTime: string | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while ((await processLiveness(pid, startTime)) === 'alive') {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
  return true;
}

/** Sends a signal, treating "no such process" as success (the process is already gone). */
export function signalProcess(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if (hasErrno(err, 'ESRCH')) return false;
    throw err;
  }
}
