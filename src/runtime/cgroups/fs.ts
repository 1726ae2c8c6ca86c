// cgroupfs lives in the kernel and never waits on a disk: its calls are made synchronously, which
// costs microseconds, where each promise-based call would hop through libuv's thread pool.
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { errnoOf, failedPrecondition, hasErrno, syscallError } from '../../common/index.ts';

/** One value written to one interface file of a cgroup, as a single write(2). */
export interface CgroupWrite {
  file: string;
  value: string;
}

/** What a writer needs to know about the cgroup before it decides what to write. */
export interface DirFacts {
  /** Names of the interface files present in the cgroup's directory. */
  files: ReadonlySet<string>;
  /** Trimmed current contents of the files the writer asked for (those that exist). */
  current: Readonly<Record<string, string>>;
}

/** What a writer decided: the writes in order, and what it chose not to do and why. */
export interface WritePlan {
  writes: CgroupWrite[];
  warnings: string[];
}

export async function readCgroupFile(dir: string, file: string): Promise<string> {
  const full = path.join(dir, file);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    throw syscallError('read', full, err);
  }
}

/**
 * Writes a value in one write(2), opened write-only and without O_CREAT: cgroupfs refuses O_RDWR on
 * write-only files such as `cgroup.kill` and `devices.allow`, and a missing file must stay ENOENT.
 */
export async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  const full = path.join(dir, file);
  let fd: number | undefined;
  try {
    fd = openSync(full, constants.O_WRONLY);
    writeSync(fd, value);
  } catch (err) {
    throw syscallError('write', full, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function gatherFacts(dir: string, wanted: readonly string[]): Promise<DirFacts> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw syscallError('readdir', dir, err);
  }
  const files = new Set(names);
  const current: Record<string, string> = {};
  for (const file of wanted) {
    if (files.has(file)) current[file] = (await readCgroupFile(dir, file)).trim();
  }
  return { files, current };
}

export async function performWrites(dir: string, writes: readonly CgroupWrite[]): Promise<void> {
  for (const write of writes) {
    try {
      await writeCgroupFile(dir, write.file, write.value);
    } catch (err) {
      throw await explainWriteFailure(dir, write, err);
    }
  }
}

/** EBUSY on a memory limit means the cgroup already uses more; say how much, as runc does. */
async function explainWriteFailure(dir: string, write: CgroupWrite, err: unknown): Promise<unknown> {
  const cause = err instanceof Error ? err.cause : undefined;
  if (!hasErrno(cause, 'EBUSY')) return err;
  const usageFile =
    write.file === 'memory.limit_in_bytes' || write.file === 'memory.memsw.limit_in_bytes'
      ? write.file.replace('limit_in_bytes', 'usage_in_bytes')
      : write.file === 'memory.max'
        ? 'memory.current'
        : undefined;
  if (!usageFile) return err;
  const usage = await readCgroupFile(dir, usageFile).then(
    (text) => text.trim(),
    () => 'unknown',
  );
  return failedPrecondition(
    `${(err as Error).message}: the limit ${write.value} is below the current usage ${usage}; raise it or free memory first`,
    err,
  );
}

/** mkdir(2) of one level; false when it existed already. */
export async function makeCgroupDir(dir: string): Promise<boolean> {
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (err) {
    if (hasErrno(err, 'EEXIST')) return false;
    throw syscallError('mkdir', dir, err);
  }
}

/** Creates every missing level from `top` (which must exist) down to `dir`, appending what it made. */
export async function makeCgroupDirs(
  top: string,
  dir: string,
  created: string[],
  onLevel?: (level: string, made: boolean) => Promise<void>,
): Promise<void> {
  const relative = path.relative(top, dir);
  let level = top;
  for (const part of relative === '' ? [] : relative.split(path.sep)) {
    level = path.join(level, part);
    const made = await makeCgroupDir(level);
    if (made) created.push(level);
    await onLevel?.(level, made);
  }
}

/** Whether a directory is gone, or removed now; false when it still has processes. */
async function tryRmdir(dir: string): Promise<boolean> {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return true;
    if (hasErrno(err, 'EBUSY')) return false;
    throw syscallError('rmdir', dir, err);
  }
}

/**
 * Removes a cgroup and the sub-cgroups below it, children first, as runc's RemovePath. rmdir fails
 * with EBUSY while exiting processes are still being torn down, so it is retried with a growing pause
 * until `timeoutMs` has passed.
 */
export async function removeCgroupTree(dir: string, timeoutMs = 2000): Promise<void> {
  if (await tryRmdir(dir)) return;
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw syscallError('readdir', dir, err);
  }
  for (const entry of entries) await removeCgroupTree(path.join(dir, entry), timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let pause = 1;
  for (;;) {
    if (await tryRmdir(dir)) return;
    if (Date.now() >= deadline) {
      throw syscallError(
        'rmdir',
        dir,
        Object.assign(new Error('EBUSY: resource busy or locked, rmdir'), {
          code: 'EBUSY',
          syscall: 'rmdir',
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 100);
  }
}

/** Every pid in `cgroup.procs` of a cgroup and its sub-cgroups. */
export async function readPidsTree(dir: string, into: Set<number>): Promise<void> {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch (err) {
    // The cgroup may vanish while it is walked (its last process exited and someone removed it).
    if (errnoOf(err) === 'ENOENT') return;
    throw syscallError('read', path.join(dir, 'cgroup.procs'), err);
  }
  for (const line of text.split('\n')) {
    if (line !== '') into.add(Number(line));
  }
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw syscallError('readdir', dir, err);
  }
  for (const entry of entries) await readPidsTree(path.join(dir, entry), into);
}
