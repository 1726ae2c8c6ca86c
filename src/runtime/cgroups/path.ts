import path from 'node:path';
import { invalidArgument } from '../../common/index.ts';
import type { CgroupLayout, Hierarchy } from './layout.ts';

/** A container's cgroup as named by `linux.cgroupsPath`, normalised. */
export interface CgroupsPath {
  /** `/a/b` when absolute, `a/b` when relative to the caller's own cgroup. */
  inner: string;
  absolute: boolean;
}

const SYSTEMD_STYLE = /^[^/:]*:[^/:]*:[^/:]*$/;

/**
 * Interprets `linux.cgroupsPath` as runc's cgroupfs driver does: an absolute path is relative to each
 * hierarchy's root, a relative one to the caller's own cgroup, and none at all means the container id,
 * relative (runc sets the cgroup's Name to the id and resolves it like a relative path).
 */
export function parseCgroupsPath(cgroupsPath: string | undefined, containerId: string): CgroupsPath {
  if (cgroupsPath === undefined || cgroupsPath === '') {
    if (containerId === '' || containerId.includes('/') || containerId === '.' || containerId === '..') {
      throw invalidArgument(
        `container id \`${containerId}\` cannot name a cgroup: give linux.cgroupsPath or an id without slashes`,
      );
    }
    return { inner: containerId, absolute: false };
  }
  if (SYSTEMD_STYLE.test(cgroupsPath)) {
    throw invalidArgument(
      `linux.cgroupsPath \`${cgroupsPath}\` is in the systemd driver's slice:prefix:name form, but skiff drives ` +
        'cgroupfs directly (the systemd cgroup driver is not supported): give a path such as `/skiff/<id>` instead',
    );
  }
  if (cgroupsPath.includes('\0')) throw invalidArgument('linux.cgroupsPath contains a NUL byte');
  const parts = cgroupsPath.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw invalidArgument(
      `linux.cgroupsPath \`${cgroupsPath}\` has a \`..\` component, which could leave the cgroup hierarchy: ` +
        'give a path without `..`',
    );
  }
  const absolute = cgroupsPath.startsWith('/');
  if (parts.length === 0) {
    throw invalidArgument(
      `linux.cgroupsPath \`${cgroupsPath}\` names the hierarchy root itself: give a cgroup below it, such as \`/skiff/<id>\``,
    );
  }
  return { inner: (absolute ? '/' : '') + parts.join('/'), absolute };
}

/**
 * The container's cgroup within one hierarchy, from its mountpoint (`/a/b`). Relative paths resolve
 * against the caller's own cgroup; on a pure v2 host against its parent, as runc's fs2 does, since the
 * caller's own cgroup holds processes and so cannot delegate controllers to children.
 */
export function cgroupPathIn(hierarchy: Hierarchy, layout: CgroupLayout, cgroupsPath: CgroupsPath): string {
  if (cgroupsPath.absolute) return cgroupsPath.inner;
  const base =
    hierarchy.version === 2 && layout.kind === 'v2'
      ? path.posix.dirname(hierarchy.ownPath)
      : hierarchy.ownPath;
  return path.posix.join(base, cgroupsPath.inner);
}

/** The directory of a cgroup given by its path within a hierarchy. */
export function cgroupDir(hierarchy: Hierarchy, within: string): string {
  return path.posix.join(hierarchy.mountpoint, within);
}
