/**
 * A directory tree that is not ours (a container's root, or the destination of an extraction), walked
 * as openat2(RESOLVE_IN_ROOT) would: one component at a time, each directory held open by fd and the
 * next component looked up beneath that fd (`/proc/self/fd/N/name`: the kernel resolves the magic
 * link to the very directory the fd holds, then the one name, so a directory swapped for a symlink
 * between two steps is never followed). A symlink is read and followed as the tree's own processes
 * would see it: relative to its directory, absolute ones from the tree's root, `..` never above the
 * root. Nothing here ever resolves a path of the tree through the host's /.
 */
import { closeSync, constants, lstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { hasErrno, invalidArgument, notFound, syscallError } from '../../common/index.ts';

/** Linux's MAXSYMLINKS as securejoin counts it. */
const MAX_SYMLINKS = 255;

export const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The path that names `name` beneath the directory open as `dirFd` ('.' for the directory itself). */
export const at = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

/** A mount of the container that the walk enters in place of the rootfs's directory (a stopped one's). */
export interface TreeMount {
  /** Clean absolute path in the container. */
  destination: string;
  /** Host directory (the engine's volume or the user's bind source). */
  source: string;
}

/** A tree: its root directory's fd (owned by whoever made the tree) and the mounts to switch to. */
export interface Tree {
  rootFd: number;
  mounts: readonly TreeMount[];
  /** How errors name the tree ("container x", or the host path). */
  label: string;
}

/** One directory of a walk: its fd and its path in the tree. */
export interface Frame {
  fd: number;
  parts: string[];
}

/** Where a walk ended: `name` beneath the directory `dir` ('.' when the path is `dir` itself). */
export interface Leaf {
  dir: Frame;
  name: string;
  /** lstat of the leaf; undefined when it does not exist. */
  stat: Stats | undefined;
  /** The leaf's name came from a symlink's target (a missing one is not to be created). */
  linked?: boolean;
}

/**
 * A walk's position in a tree: a stack of open directories from the root. close() releases every fd
 * it opened (never the root's).
 */
export class Walk {
  readonly tree: Tree;
  private stack: Frame[];

  constructor(tree: Tree) {
    this.tree = tree;
    this.stack = [{ fd: tree.rootFd, parts: [] }];
  }

  get top(): Frame {
    return this.stack.at(-1)!;
  }

  /** The tree path of the current directory. */
  get where(): string {
    return `/${this.top.parts.join('/')}`;
  }

  close(): void {
    while (this.stack.length > 1) closeSync(this.stack.pop()!.fd);
  }

  /**
   * Walks `unsafePath` from the current directory (from the root when absolute) and returns its last
   * component, unresolved unless `followLast`; every directory before it is entered. A missing
   * directory on the way is made by `create` when given (extraction), else it is an error.
   */
  resolve(
    unsafePath: string,
    options: { followLast?: boolean; create?: (parent: Frame, name: string) => void } = {},
  ): Leaf {
    if (unsafePath.startsWith('/')) this.toRoot();
    const pending = unsafePath.split('/');
    let links = 0;
    // How many components at the head of `pending` came from symlink targets: those are never
    // created (Docker's untar makes the entry's own parents, not what a planted link names).
    let fromLink = 0;
    for (;;) {
      while (pending.length > 0 && (pending[0] === '' || pending[0] === '.')) {
        pending.shift();
        if (fromLink > 0) fromLink--;
      }
      const part = pending.shift();
      const linked = fromLink > 0;
      if (linked) fromLink--;
      if (part === undefined) return { dir: this.top, name: '.', stat: lstatAt(this.top.fd, '.') };
      if (part === '..') {
        if (this.stack.length > 1) closeSync(this.stack.pop()!.fd);
        continue;
      }
      const last = pending.every((p) => p === '' || p === '.');
      const mount = this.mountAt([...this.top.parts, part]);
      if (mount) {
        this.enterMount(mount, part);
        continue;
      }
      let stat = lstatAt(this.top.fd, part);
      if (stat === undefined && !last && options.create && !linked) {
        options.create(this.top, part);
        stat = lstatAt(this.top.fd, part);
      }
      if (stat === undefined) {
        if (last) return { dir: this.top, name: part, stat, ...(linked ? { linked } : {}) };
        throw notFound(`${this.label(part)}: no such file or directory`);
      }
      if (stat.isSymbolicLink() && (!last || options.followLast || pending.length > 0)) {
        // A trailing slash (`link/`) follows the link, as the kernel does.
        if (++links > MAX_SYMLINKS)
          throw invalidArgument(`${this.label(part)}: too many levels of symbolic links`);
        const target = readlinkSync(at(this.top.fd, part));
        if (target.startsWith('/')) this.toRoot();
        const targetParts = target.split('/');
        pending.unshift(...targetParts);
        fromLink += targetParts.length;
        continue;
      }
      if (last) return { dir: this.top, name: part, stat };
      if (!stat.isDirectory()) throw invalidArgument(`${this.label(part)}: not a directory`);
      this.enter(part);
    }
  }

  /** Enters the directory `name` beneath the current one (never through a symlink). */
  enter(name: string): void {
    const parts = [...this.top.parts, name];
    const mount = this.mountAt(parts);
    if (mount) {
      this.enterMount(mount, name);
      return;
    }
    let fd: number;
    try {
      fd = openSync(at(this.top.fd, name), DIR_FLAGS);
    } catch (err) {
      throw syscallError('open', this.label(name), err);
    }
    this.stack.push({ fd, parts });
  }

  private enterMount(mount: TreeMount, name: string): void {
    let fd: number;
    try {
      // The host side of a mount is the engine's (a volume) or the user's own path: opened as the
      // runtime mounts it.
      fd = openSync(mount.source, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      throw syscallError('open', `${mount.source} (mounted on ${mount.destination})`, err);
    }
    this.stack.push({ fd, parts: [...this.top.parts, name] });
  }

  private toRoot(): void {
    this.close();
  }

  private mountAt(parts: readonly string[]): TreeMount | undefined {
    if (this.tree.mounts.length === 0) return undefined;
    const where = `/${parts.join('/')}`;
    return this.tree.mounts.find((m) => m.destination === where);
  }

  private label(name: string): string {
    return `${path.posix.join(this.where, name)} in ${this.tree.label}`;
  }
}

/** lstat of `name` beneath dirFd; undefined when it does not exist. */
export function lstatAt(dirFd: number, name: string): Stats | undefined {
  try {
    return lstatSync(at(dirFd, name));
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw syscallError('lstat', name, err);
  }
}

/** Opens a host directory as the root of a tree (the host side of a copy is the user's own). */
export function openHostDir(dir: string): number {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw syscallError('open', dir, err);
  }
}

/**
 * A walk standing in the directory `dirPath` of the tree (symlinks followed in the tree). With
 * `create`, missing directories are made on the way (the extraction's parents); without, a missing
 * one is NotFound. The caller closes the walk.
 */
export function walkToDir(tree: Tree, dirPath: string, create?: (parent: Frame, name: string) => void): Walk {
  const walk = new Walk(tree);
  try {
    const leaf = walk.resolve(dirPath, { followLast: true, ...(create ? { create } : {}) });
    if (leaf.name === '.') return walk;
    if (leaf.stat === undefined) {
      if (!create || leaf.linked) throw notFound(`${dirPath} in ${tree.label}: no such file or directory`);
      create(leaf.dir, leaf.name);
    } else if (!leaf.stat.isDirectory()) {
      throw invalidArgument(`${dirPath} in ${tree.label}: not a directory`);
    }
    walk.enter(leaf.name);
    return walk;
  } catch (err) {
    walk.close();
    throw err;
  }
}
