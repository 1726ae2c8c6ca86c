/**
 * How a start gets the container's rootfs. Usually the shim mounts it (the runtime's rootfsMounts)
 * and its monitor unmounts it at the exit: no skiff-mount spawn either way, and no rootfs left
 * mounted by a CLI that died. The engine mounts it itself first only when it must look inside
 * before the container exists: a volume's first copy-up, or an /etc/passwd it cannot read from the
 * snapshot's layers (readSnapshotFile); then it also makes a missing WorkingDir itself.
 */
import fs from 'node:fs/promises';
import { type MountSpec, readSnapshotFile } from '../../image/index.ts';
import { copyUpVolumes } from '../mounts.ts';
import { createWorkingDir, type ResolvedUser, resolveUser, resolveUserFrom } from '../spec/index.ts';
import type { VolumeStore } from '../volumes/index.ts';
import type { Engine } from './engine.ts';
import { mountCount, mountRootfs } from './engine.ts';
import type { Container } from './records.ts';

export interface StartRootfs {
  user: ResolvedUser;
  /** Set when the shim is to mount the rootfs (and the monitor to unmount it). */
  shimMounts?: MountSpec[];
}

export async function prepareStartRootfs(engine: Engine, c: Container, rootfs: string): Promise<StartRootfs> {
  const specs = transient(c, await engine.snapshotter().mounts(c.id));
  const user = c.config.User ?? '';
  if (!pendingCopyUp(engine.volumes, c) && mountCount(rootfs) === 0) {
    const passwd = readSnapshotFile(specs, '/etc/passwd');
    const group = passwd && readSnapshotFile(specs, '/etc/group');
    if (passwd && group) {
      await fs.mkdir(rootfs, { recursive: true });
      return { user: resolveUserFrom(passwd.text, group.text, user), shimMounts: specs };
    }
  }
  await mountRootfs(specs, rootfs);
  await copyUpVolumes(engine.volumes, c.mounts, rootfs);
  createWorkingDir(rootfs, c.config.WorkingDir);
  return { user: resolveUser(rootfs, user) };
}

/** A volume this container copies the image's content into (first use, not populated since). */
function pendingCopyUp(volumes: VolumeStore, c: Container): boolean {
  return c.mounts.some((m) => m.type === 'volume' && m.copyUp && m.name && !volumes.find(m.name)?.populated);
}

/**
 * A --rm container's overlay is mounted `volatile` (as podman does for transient containers): its
 * unmount then skips the sync of the whole upper file system, which after a pull that wrote a few
 * hundred megabytes costs a third of a second. Its upper dir is thrown away with it, so a crash that
 * loses unsynced writes loses nothing anyone keeps.
 */
function transient(c: Container, specs: MountSpec[]): MountSpec[] {
  if (!c.hostConfig.AutoRemove) return specs;
  return specs.map((s) => (s.type === 'overlay' ? { ...s, options: [...s.options, 'volatile'] } : s));
}
