/**
 * Docker's copy-up: the image's content at a volume's mount point is copied into the volume on its
 * first use. The source path is resolved inside the container's rootfs (symlinks are followed as the
 * container would see them, never out of the rootfs); the copy keeps owners, modes, times, xattrs,
 * hard links and symlinks as symlinks (cp -a never dereferences).
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { hasErrno, runtimeFailure, syscallError } from '../../common/index.ts';

const execFileAsync = promisify(execFile);
const MAX_SYMLINKS = 40;

/**
 * The host path of `target` (absolute, as the container sees it) inside `root`, following symlinks
 * as if root were `/` (an absolute link restarts at root, `..` stops at root). undefined when a
 * component does not exist.
 */
export async function resolveInRoot(root: string, target: string): Promise<string | undefined> {
  const resolved: string[] = [];
  const queue = target.split('/').filter((c) => c !== '');
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let stat: Awaited<ReturnType<typeof lstat>>;
    try {
      stat = await lstat(candidate);
    } catch (err) {
      if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw syscallError('lstat', candidate, err);
    }
    if (!stat.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS)
      throw runtimeFailure(`resolve \`${target}\` in \`${root}\`: ELOOP (Too many levels of symbolic links)`);
    const link = await readlink(candidate);
    if (link.startsWith('/')) resolved.length = 0;
    queue.unshift(...link.split('/').filter((c) => c !== ''));
  }
  return path.join(root, ...resolved);
}

/** Whether dir holds no entry (a missing dir counts as empty). */
export async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return true;
    throw syscallError('readdir', dir, err);
  }
}

/** Copies the content of directory src into directory dst, and src's owner and mode onto dst. */
export async function copyTree(src: string, dst: string): Promise<void> {
  try {
    await execFileAsync('cp', ['-a', '--', `${src}/.`, dst], { maxBuffer: 1 << 20 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim();
    throw runtimeFailure(`copy-up \`${src}\` to \`${dst}\`: ${stderr || (err as Error).message}`, err);
  }
}
