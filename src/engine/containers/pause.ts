/**
 * `docker pause` / `unpause` and `top` over the runtime's freezer and cgroup (runc's pause/resume/ps,
 * reused). Paused is not a state of the record: as runc does, it is read from the freezer, so a
 * container frozen by anyone shows as paused and a thawed one as running, whatever the CLI did.
 */
import { spawnSync } from 'node:child_process';
import { failedPrecondition, runtimeFailure, SkiffError } from '../../common/index.ts';
import { containerPids, pauseContainer, type Runtime, resumeContainer } from '../../runtime/index.ts';
import type { Container } from './records.ts';

/** Whether the running container c is frozen (runc's `paused`); false for anything else. */
export async function isPaused(runtime: Runtime, c: Container): Promise<boolean> {
  if (c.state !== 'running') return false;
  try {
    return (await runtime.status(c.id)) === 'paused';
  } catch (err) {
    // The runtime holds nothing of it any more (it has just ended): not paused.
    if (err instanceof SkiffError && err.kind === 'NotFound') return false;
    throw err;
  }
}

const notRunning = (c: Container) => failedPrecondition(`Container ${c.id} is not running`);

/** Freezes every process of c (the record is brought up to date by the caller). */
export async function freeze(runtime: Runtime, c: Container): Promise<void> {
  if (c.state !== 'running') throw notRunning(c);
  if (await isPaused(runtime, c)) throw failedPrecondition(`Container ${c.id} is already paused`);
  await pauseContainer(runtime.store, c.id);
}

export async function thaw(runtime: Runtime, c: Container): Promise<void> {
  if (c.state !== 'running') throw notRunning(c);
  if (!(await isPaused(runtime, c))) throw failedPrecondition(`Container ${c.id} is not paused`);
  await resumeContainer(runtime.store, c.id);
}

/** docker top's answer: ps's column titles and one row per process of the container. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/**
 * moby's ContainerTop: ps(1) with the options (default `-ef`) plus `-q PIDS` (ps limits itself to
 * the container's processes; retried without it for options that cannot go with -q), then only the
 * rows whose PID is one of the container's cgroup's, the last column taking the rest of the line.
 */
export async function top(runtime: Runtime, c: Container, psArgs: readonly string[]): Promise<TopResult> {
  if (c.state !== 'running') throw notRunning(c);
  const pids = await containerPids(runtime.store, c.id);
  const args = psArgs.length > 0 ? psArgs.flatMap((a) => a.split(' ')).filter(Boolean) : ['-ef'];
  let result = spawnSync('ps', [...args, '-q', pids.join(',')], { encoding: 'utf8' });
  if (result.error || result.status !== 0) result = spawnSync('ps', args, { encoding: 'utf8' });
  if (result.error) throw runtimeFailure(`ps: ${result.error.message}`, result.error);
  if (result.status !== 0) {
    const line = result.stderr.split('\n')[0] || `exit status ${result.status}`;
    throw runtimeFailure(`ps: ${line}`);
  }
  return parsePsOutput(result.stdout, new Set(pids));
}

/** moby's parsePSOutput (pure; thread lines of `-m`, whose PID is `-`, follow their process). */
export function parsePsOutput(output: string, pids: ReadonlySet<number>): TopResult {
  const lines = output.split('\n');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw runtimeFailure("Couldn't find PID field in ps output");
  const processes: string[][] = [];
  let previousKept = false;
  for (const line of lines.slice(1)) {
    if (line.length === 0) continue;
    const fields = line.trim().split(/\s+/);
    const field = fields[pidIndex] ?? '';
    if (field === '-') {
      if (previousKept) processes.push(mergeOverhang(fields, titles.length));
      continue;
    }
    const pid = Number(field);
    if (!Number.isInteger(pid)) throw runtimeFailure(`Unexpected pid '${field}'`);
    previousKept = pids.has(pid);
    if (previousKept) processes.push(mergeOverhang(fields, titles.length));
  }
  return { Titles: titles, Processes: processes };
}

/** As many fields as titles: the command's words joined into the last one. */
function mergeOverhang(fields: string[], titles: number): string[] {
  return [...fields.slice(0, titles - 1), fields.slice(titles - 1).join(' ')];
}
