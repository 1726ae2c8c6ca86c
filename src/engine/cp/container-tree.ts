/**
 * A container's tree for `docker cp`. A running container's is its init's root (`/proc/PID/root`):
 * the container's own mount namespace, so its volumes, binds and tmpfs mounts are all there as the
 * container sees them. A stopped one's rootfs snapshot is mounted for the copy (and unmounted after),
 * and its bind and volume mounts are entered in place of the rootfs's directories (tmpfs mounts only
 * exist while it runs).
 */
import { closeSync, constants, openSync } from 'node:fs';
import path from 'node:path';
import { failedPrecondition, processLiveness, syscallError } from '../../common/index.ts';
import type { ResolvedMount } from '../mount-types.ts';
import type { ContainerSide } from './copy.ts';
import { openHostDir, type TreeMount } from './rooted.ts';

export interface TreeSource {
  /** The container as the user named it. */
  ref: string;
  /** Set when it runs: its init's pid (and the start time that tells it from a reused pid). */
  pid?: number;
  pidStartTime?: string;
  /** The mounted rootfs (of a stopped container). */
  rootfs?: string;
  mounts: readonly ResolvedMount[];
  readonlyRootfs: boolean;
}

/** Opens the container's tree, runs fn over it, closes it. */
export async function withContainerSide<T>(
  source: TreeSource,
  fn: (side: ContainerSide) => Promise<T>,
): Promise<T> {
  const rootFd = openRoot(source);
  try {
    // The root was opened by pid: still the container's init afterwards means it was its root.
    if (source.pid !== undefined && (await processLiveness(source.pid, source.pidStartTime)) !== 'alive')
      throw failedPrecondition(`Container ${source.ref} is not running`);
    return await fn({
      tree: {
        rootFd,
        mounts: source.pid === undefined ? treeMounts(source.mounts) : [],
        label: `container ${source.ref}`,
      },
      ref: source.ref,
      checkWritable: (p) => checkWritable(source, p),
    });
  } finally {
    closeSync(rootFd);
  }
}

function openRoot(source: TreeSource): number {
  if (source.pid !== undefined) {
    const root = `/proc/${source.pid}/root`;
    try {
      return openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      throw syscallError('open', `the root of container ${source.ref} (${root})`, err);
    }
  }
  if (!source.rootfs) throw failedPrecondition(`container ${source.ref} has no root filesystem mounted`);
  return openHostDir(source.rootfs);
}

/** Directory mounts with a host side: binds and volumes (a file bind is not a directory to enter). */
function treeMounts(mounts: readonly ResolvedMount[]): TreeMount[] {
  return mounts
    .filter((m) => (m.type === 'bind' || m.type === 'volume') && m.source !== '')
    .map((m) => ({
      destination: path.posix.normalize(m.destination).replace(/(.)\/$/, '$1'),
      source: m.source,
    }));
}

/** dockerd's refusals: a read-only rootfs, or a read-only mount, is not written to. */
function checkWritable(source: TreeSource, containerPath: string): void {
  const p = path.posix.normalize(`/${containerPath}`);
  const mount = source.mounts
    .filter((m) => p === m.destination || p.startsWith(`${m.destination.replace(/\/$/, '')}/`))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  if (mount?.readOnly) throw failedPrecondition('mounted volume is marked read-only');
  if (!mount && source.readonlyRootfs) throw failedPrecondition('container rootfs is marked read-only');
}
