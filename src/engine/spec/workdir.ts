/**
 * dockerd's SetupWorkingDirectory: the Config.WorkingDir an image lacks is created in the container's
 * rootfs at create (the runtime, as crun, fails on a missing cwd). Resolved in the root, so an image's
 * symlink cannot make the engine create directories on the host.
 */
import { mkdirSync, type Stats, statSync } from 'node:fs';
import { hasErrno, invalidArgument, resolveInRoot, syscallError } from '../../common/index.ts';

export function createWorkingDir(rootfs: string, workingDir: string | undefined): void {
  if (!workingDir || workingDir === '/') return;
  const dir = resolveInRoot(rootfs, workingDir);
  const notDirectory = (cause?: unknown) =>
    invalidArgument(`Cannot mkdir: ${workingDir} is not a directory`, cause);
  let stats: Stats | undefined;
  try {
    stats = statSync(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOTDIR')) throw notDirectory(err);
    if (!hasErrno(err, 'ENOENT')) throw syscallError('stat', dir, err);
  }
  if (stats) {
    if (!stats.isDirectory()) throw notDirectory();
    return;
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    if (hasErrno(err, 'ENOTDIR', 'EEXIST')) throw notDirectory(err);
    throw syscallError('mkdir', dir, err);
  }
}
