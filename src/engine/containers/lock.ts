/**
 * One lifecycle step at a time per container, across processes: a lease in the container's row
 * naming the holder by pid and start time. A holder that died (kill -9 of the CLI mid-step) leaves a
 * stale lease, which the next taker recognises and takes over — so nothing waits forever on a corpse.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { failedPrecondition } from '../../common/index.ts';
import type { ContainerRecords } from './records.ts';

const LOCK_TIMEOUT_MS = 120_000;

function processStartTime(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

const holders = new AsyncLocalStorage<string>();

/**
 * Runs fn as its own lease holder within this process: the resident service runs several clients'
 * commands at once, and each must exclude the others as separate processes would.
 */
export function withLeaseHolder<T>(tag: string, fn: () => T): T {
  return holders.run(tag, fn);
}

/** This process (and the holder within it) as a lease holder: `pid:starttime[:tag]`. */
export const selfOwner = (): string => {
  const tag = holders.getStore();
  return `${process.pid}:${processStartTime(process.pid) ?? '0'}${tag ? `:${tag}` : ''}`;
};

/** A lease whose holder is no longer alive (or is another process reusing its pid). */
export function isStaleOwner(owner: string): boolean {
  const [pid, start] = owner.split(':');
  return processStartTime(Number(pid)) !== start;
}

/**
 * Runs fn holding the container's lease. Returns undefined without running fn when the container
 * disappeared while we waited (someone else removed it). A lease taken over from a holder that died
 * (in step `deadOp`) is first handed to `recover`, which finishes or undoes what that step left.
 */
export async function withContainerLock<T>(
  records: ContainerRecords,
  id: string,
  op: string,
  fn: () => Promise<T>,
  recover?: (deadOp: string) => Promise<void>,
): Promise<T | undefined> {
  const owner = selfOwner();
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let delay = 5;
  let deadOp: string | undefined;
  for (;;) {
    const taken = records.tryLock(id, owner, op, isStaleOwner);
    if (taken === 'gone') return undefined;
    if (typeof taken === 'object') deadOp = taken.tookOver;
    if (taken) break;
    if (Date.now() > deadline)
      throw failedPrecondition(`container ${id.slice(0, 12)} is busy with another operation; try again`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    if (deadOp !== undefined && recover) {
      await recover(deadOp);
      if (!records.get(id)) return undefined;
    }
    return await fn();
  } finally {
    records.unlock(id, owner);
  }
}
