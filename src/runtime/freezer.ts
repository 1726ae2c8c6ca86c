/**
 * Whether a container is paused, read from its freezer (as runc derives `paused`): the v1 freezer's
 * `freezer.state`, or cgroup v2's `cgroup.events` (`frozen 1`). Used by the state store and by every
 * operation that must treat a frozen container differently (kill, delete).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hasErrno, syscallError } from '../common/index.ts';
import { type Cgroup, type CgroupRecord, detectLayout, loadCgroup } from './cgroups/index.ts';

/** The directory and kind of the freezer the cgroup layer uses (v1 freezer first, as freezeCgroup). */
export function freezerOf(handle: Cgroup): { dir: string; version: 1 | 2 } | undefined {
  const v1 = handle.dirs.find(
    (e) => e.hierarchy.version === 1 && e.hierarchy.controllers.includes('freezer'),
  );
  if (v1) return { dir: v1.dir, version: 1 };
  const v2 = handle.dirs.find((e) => e.hierarchy.version === 2);
  return v2 ? { dir: v2.dir, version: 2 } : undefined;
}

/** `FROZEN` (v1) or `frozen 1` (v2); a missing cgroup or freezer is not frozen. */
export function cgroupIsFrozen(handle: Cgroup): boolean {
  const freezer = freezerOf(handle);
  if (!freezer) return false;
  const file = path.join(freezer.dir, freezer.version === 1 ? 'freezer.state' : 'cgroup.events');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return false;
    throw syscallError('read', file, err);
  }
  // v1 FREEZING is still on its way: runc reports paused only once FROZEN.
  return freezer.version === 1 ? text.trim() === 'FROZEN' : /^frozen 1$/m.test(text);
}

export async function recordIsFrozen(stored: CgroupRecord | undefined): Promise<boolean> {
  if (!stored) return false;
  return cgroupIsFrozen(loadCgroup(await detectLayout(), stored));
}
