/**
 * A file of a snapshot read without mounting it: the engine resolves the container's user from
 * /etc/passwd and /etc/group before the shim mounts the rootfs. A bind snapshot is a directory; an
 * overlay one is read through its layers top-down, with overlay's whiteouts (0:0 character devices).
 * Node cannot see opaque directories (an xattr), so an answer one could change is not given:
 * `undefined` then means "mount the snapshot and read it there". Symlinks on the way, too.
 */
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { hasErrno, readFileInRoot, syscallError } from '../../common/index.ts';
import type { MountSpec } from './overlay.ts';

/** The file's text (undefined: the snapshot has no such file), or undefined when it needs a mount. */
export type SnapshotFile = { readonly text: string | undefined } | undefined;

/** `file` is an absolute path without `.` or `..` (`/etc/passwd`). */
export function readSnapshotFile(mounts: readonly MountSpec[], file: string): SnapshotFile {
  const parts = file.split('/').filter((p) => p !== '');
  if (mounts.length !== 1 || parts.length === 0 || parts.some((p) => p === '.' || p === '..'))
    return undefined;
  const mount = mounts[0]!;
  if (mount.type === 'bind') return { text: readFileInRoot(mount.source, file) };
  if (mount.type !== 'overlay') return undefined;
  const layers = overlayLayers(mount);
  return layers ? readThroughLayers(layers, parts) : undefined;
}

/** upperdir, then the lowerdirs (top first), absolute. */
function overlayLayers(mount: MountSpec): string[] | undefined {
  let upper: string | undefined;
  let lowers: string[] | undefined;
  for (const option of mount.options) {
    if (option.startsWith('upperdir=')) upper = option.slice('upperdir='.length);
    else if (option.startsWith('lowerdir=')) lowers = option.slice('lowerdir='.length).split(':');
  }
  if (!lowers) return undefined;
  const absolute = (dir: string) => path.resolve(mount.cwd ?? '/', dir);
  return [...(upper === undefined ? [] : [absolute(upper)]), ...lowers.map(absolute)];
}

function readThroughLayers(layers: readonly string[], parts: readonly string[]): SnapshotFile {
  // A layer that has a directory on the way but not the rest: that directory may be opaque.
  let mayBeHidden = false;
  for (const layer of layers) {
    let dir = layer;
    for (let i = 0; i < parts.length; i++) {
      const entry = path.join(dir, parts[i]!);
      const stats = lstatOrUndefined(entry);
      if (!stats) {
        if (i > 0) mayBeHidden = true;
        break; // nothing of the path below here in this layer: the next layer down
      }
      // Deleted here; an opaque directory above would delete it as well.
      if (stats.isCharacterDevice() && stats.rdev === 0) return { text: undefined };
      const last = i === parts.length - 1;
      if (!last && stats.isDirectory()) {
        dir = entry;
        continue;
      }
      if (last && stats.isFile() && !mayBeHidden) return { text: readText(entry) };
      return undefined; // a symlink, a file in the way, or maybe hidden: the mount knows
    }
  }
  return { text: undefined }; // in no layer: hidden or not, it is absent
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw syscallError('lstat', file, err);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw syscallError('read', file, err);
  }
}
