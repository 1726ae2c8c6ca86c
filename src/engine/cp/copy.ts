/**
 * `docker cp`'s path semantics (moby pkg/archive/copy.go) over the trees of ./rooted.ts: what the
 * archive's root is called and where it is unpacked, from whether the source is a directory, whether
 * it ends in `/.` (its contents, not itself), and whether the destination exists and is a directory.
 */
import { closeSync, lstatSync, realpathSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { hasErrno, invalidArgument, notFound, SkiffError, syscallError } from '../../common/index.ts';
import { extractInto, type Ownership } from './extract.ts';
import { packTree } from './pack.ts';
import { openHostDir, type Tree, Walk, walkToDir } from './rooted.ts';

export interface CopyOptions {
  /** -a: the source's owners (else the destination's root in a container, the copier on the host). */
  archive?: boolean;
  /** -L: the source's last component is followed when it is a symlink. */
  followLink?: boolean;
}

/** The container's side of a copy (the engine makes its tree and knows its mounts). */
export interface ContainerSide {
  tree: Tree;
  /** The container as the user named it (errors). */
  ref: string;
  /** Throws when `containerPath` (a directory to extract into) may not be written (read-only). */
  checkWritable(containerPath: string): void;
}

/** `dir/` or `dir/.`: the path says it is a directory. */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || p.endsWith('/.') || p === '.';
}

/** The archive's root name for a source path: its base, or `.` for `dir/.` (its contents). */
export function sourceBase(p: string): string {
  if (p.endsWith('/.') || p === '.') return '.';
  const base = path.posix.basename(path.posix.normalize(p));
  return base === '' || base === '/' ? '.' : base;
}

export interface CopyTarget {
  /** The directory the archive is unpacked into. */
  dir: string;
  /** The archive root's name in it. */
  name: string;
}

/**
 * moby's PrepareArchiveCopy: into an existing directory the source keeps its name; otherwise it is
 * unpacked into the destination's parent under the destination's name. A directory cannot replace a
 * file, and `dst/` that does not exist cannot be made from a file.
 */
export function copyTarget(
  src: { isDir: boolean; base: string },
  dst: { path: string; exists: boolean; isDir: boolean },
): CopyTarget {
  if (dst.exists && dst.isDir) return { dir: dst.path, name: src.base };
  if (dst.exists && src.isDir) throw invalidArgument('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw notFound('no such directory');
  const clean = path.posix.normalize(dst.path.replace(/\/+$/, '') || '/');
  return { dir: path.posix.dirname(clean), name: path.posix.basename(clean) };
}

/** Streams `pack` to `out` while packTree fills it; the first failure of either is thrown. */
async function packTo(
  fill: (pack: tar.Pack) => Promise<void>,
  consume: (pack: tar.Pack) => Promise<unknown>,
): Promise<void> {
  const pack = tar.pack();
  const filling = fill(pack).catch((err: unknown) => {
    pack.destroy(err as Error);
    throw err;
  });
  try {
    await consume(pack);
  } catch (err) {
    pack.destroy();
    await filling.catch(() => undefined);
    throw err;
  }
  await filling;
}

// ---- container -> host or stdout -----------------------------------------------------------

export async function copyOut(
  side: ContainerSide,
  srcPath: string,
  dest: { stream: Writable } | { path: string },
  options: CopyOptions = {},
): Promise<number> {
  const walk = new Walk(side.tree);
  try {
    const follow = options.followLink === true || assertsDirectory(srcPath);
    const leaf = walk.resolve(srcPath, { followLast: follow });
    if (!leaf.stat) throw notFound(`Could not find the file ${srcPath} in container ${side.ref}`);
    if (assertsDirectory(srcPath) && !leaf.stat.isDirectory())
      throw invalidArgument(`${srcPath} in container ${side.ref}: not a directory`);
    const base = sourceBase(srcPath);
    if ('stream' in dest) {
      let size = 0;
      await packTo(
        (pack) => packTree(pack, leaf.dir.fd, leaf.name, base),
        (pack) => {
          (pack as unknown as Readable).on('data', (chunk: Buffer) => {
            size += chunk.length;
          });
          return pipeline(pack as unknown as Readable, dest.stream);
        },
      );
      return size;
    }
    const target = copyTarget({ isDir: leaf.stat.isDirectory(), base }, hostInfo(dest.path));
    const dirFd = openHostDir(target.dir);
    const hostTree: Tree = { rootFd: dirFd, mounts: [], label: target.dir };
    let size = 0;
    try {
      await packTo(
        (pack) => packTree(pack, leaf.dir.fd, leaf.name, target.name),
        async (pack) => {
          size = await extractInto(hostTree, '/', pack as unknown as Readable, {
            ownership: options.archive ? 'archive' : 'copier',
          });
        },
      );
      return size;
    } finally {
      closeQuietly(dirFd);
    }
  } finally {
    walk.close();
  }
}

/** The host destination, its symlinks followed (as docker's CopyInfoDestinationPath). */
function hostInfo(p: string): { path: string; exists: boolean; isDir: boolean } {
  let st: Stats;
  try {
    st = statSync(p);
  } catch (err) {
    if (!hasErrno(err, 'ENOENT')) throw syscallError('stat', p, err);
    const parent = path.dirname(path.resolve(p));
    let parentStat: Stats;
    try {
      parentStat = statSync(parent);
    } catch (e) {
      throw syscallError('stat', parent, e);
    }
    if (!parentStat.isDirectory()) throw syscallError('stat', parent, errno('ENOTDIR'));
    return { path: p, exists: false, isDir: false };
  }
  const resolved = realpathSync(p) + (assertsDirectory(p) && st.isDirectory() ? '/' : '');
  return { path: resolved, exists: true, isDir: st.isDirectory() };
}

// ---- host or stdin -> container ------------------------------------------------------------

export async function copyIn(
  side: ContainerSide,
  src: { stream: Readable } | { path: string },
  dstPath: string,
  options: CopyOptions = {},
): Promise<number> {
  const walk = new Walk(side.tree);
  let dst: { path: string; exists: boolean; isDir: boolean; stat?: Stats };
  try {
    const leaf = walk.resolve(dstPath, { followLast: true });
    const parent = `/${leaf.dir.parts.join('/')}`;
    const resolved = leaf.name === '.' ? parent : path.posix.join(parent, leaf.name);
    dst = {
      path: leaf.stat?.isDirectory() ? resolved : assertsDirectory(dstPath) ? `${resolved}/` : resolved,
      exists: leaf.stat !== undefined,
      isDir: leaf.stat?.isDirectory() ?? false,
      ...(leaf.stat ? { stat: leaf.stat } : {}),
    };
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound')
      throw notFound(`Could not find the file ${dstPath} in container ${side.ref}`);
    throw err;
  } finally {
    walk.close();
  }
  if (dst.exists && !dst.isDir && assertsDirectory(dstPath))
    throw invalidArgument(`destination "${side.ref}:${dstPath}" is not a directory`);
  if (dst.stat && !dst.stat.isDirectory() && !dst.stat.isFile())
    throw invalidArgument(`destination "${side.ref}:${dstPath}" must be a directory or a regular file`);
  const ownership: Ownership = options.archive ? 'archive' : { uid: 0, gid: 0 };
  if ('stream' in src) {
    if (!dst.isDir) throw invalidArgument(`destination "${side.ref}:${dstPath}" must be a directory`);
    side.checkWritable(dst.path);
    return extractInto(side.tree, dst.path, src.stream, { ownership });
  }
  const source = hostSource(src.path, options.followLink === true);
  const target = copyTarget({ isDir: source.stat.isDirectory(), base: source.base }, dst);
  side.checkWritable(target.dir);
  try {
    walkToDir(side.tree, target.dir).close();
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound')
      throw notFound(`Could not find the file ${target.dir} in container ${side.ref}`);
    throw err;
  }
  const dirFd = openHostDir(source.dir);
  let size = 0;
  try {
    await packTo(
      (pack) => packTree(pack, dirFd, source.name, target.name),
      async (pack) => {
        size = await extractInto(side.tree, target.dir, pack as unknown as Readable, { ownership });
      },
    );
    return size;
  } finally {
    closeQuietly(dirFd);
  }
}

/** The host source: its parent directory (the host's own path, symlinks followed) and its name. */
function hostSource(
  p: string,
  followLink: boolean,
): { dir: string; name: string; base: string; stat: Stats } {
  const base = sourceBase(p);
  let full: string;
  try {
    full = followLink
      ? realpathSync(p)
      : path.join(realpathSync(path.dirname(path.resolve(p))), path.basename(path.resolve(p)));
  } catch (err) {
    throw syscallError('lstat', p, err);
  }
  let stat: Stats;
  try {
    stat = statOrLstat(full, followLink);
  } catch (err) {
    throw syscallError('lstat', p, err);
  }
  if (assertsDirectory(p) && !stat.isDirectory()) throw syscallError('lstat', p, errno('ENOTDIR'));
  if (base === '.' || full === '/') return { dir: full, name: '.', base, stat };
  return { dir: path.dirname(full), name: path.basename(full), base, stat };
}

function statOrLstat(p: string, follow: boolean): Stats {
  return follow ? statSync(p) : lstatSync(p);
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing held.
  }
}

function errno(code: string): Error {
  return Object.assign(new Error(code), { code });
}
