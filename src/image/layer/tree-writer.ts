import fs, { constants } from 'node:fs';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import { entryComponents, entryRole, isSameOrBelow, printable } from './entry-path.ts';
import { type NodeOperation, performNodeOperations } from './nodes.ts';
import { entryXattrs } from './xattrs.ts';

/** What happens to char/block devices in a layer (fifos are always made: they need no privilege). */
export type DevicePolicy = 'create' | 'skip' | 'refuse';

export interface TreeWriterOptions {
  devices: DevicePolicy;
  /** lchown every entry to the archive's uid/gid (needs root). */
  preserveOwnership: boolean;
  /** The largest file an entry may hold, in bytes. */
  maxFileSize: number;
}

/** One archive entry, as tar-stream reports it plus the raw PAX records (xattrs). */
export interface LayerEntry {
  name: string;
  type: string | null | undefined;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string | null | undefined;
  devmajor: number;
  devminor: number;
  pax: Map<string, Buffer> | undefined;
}

type NonDirKind = 'file' | 'symlink' | 'node' | 'whiteout';

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: Date | undefined;
}

/** Directories the archive creates only implicitly (as parents) get what tar gives them. */
const IMPLICIT_DIR: DirMeta = { mode: 0o755, uid: 0, gid: 0, mtime: undefined };

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Writes the entries of one layer into a fresh private directory (`root`, made by the caller and seen
 * by no one else until it is renamed into place). Every parent component is known to be a directory
 * made here (bookkeeping, checked with lstat when it was not made by this writer); a symlink or any
 * other non-directory in the middle of a path is refused, as containerd does, so nothing is ever
 * resolved through a link the archive planted. The last component is created with O_EXCL/O_NOFOLLOW,
 * mkdir, symlink or link, none of which follows a link; an entry that replaces another removes it
 * first (rm never follows links either).
 */
export class TreeWriter {
  private readonly dirs = new Set<string>(['']);
  private readonly nonDirs = new Map<string, NonDirKind>();
  private readonly dirMeta = new Map<string, DirMeta>([['', IMPLICIT_DIR]]);
  /** mknod/setxattr for skiff-layer-nodes, by path, in the order the archive asked for them. */
  private readonly pending = new Map<string, NodeOperation[]>();

  private readonly root: string;
  private readonly options: TreeWriterOptions;

  private readonly umask = process.umask();
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;

  constructor(root: string, options: TreeWriterOptions) {
    this.root = root;
    this.options = options;
  }

  async write(entry: LayerEntry, content: AsyncIterable<Buffer>): Promise<void> {
    const components = entryComponents(entry.name);
    const base = components.at(-1);
    const role = base === undefined ? { kind: 'plain' as const } : entryRole(base);
    if (role.kind === 'opaque') return this.markOpaque(components.slice(0, -1));
    if (role.kind === 'whiteout') return this.whiteout([...components.slice(0, -1), role.hidden], entry);
    if (role.kind === 'aufs-metadata') return;
    switch (entry.type) {
      case 'directory':
        return this.directory(components, entry);
      case 'file':
      case 'contiguous-file':
        return this.file(components, entry, content);
      case 'symlink':
        return this.symlink(components, entry);
      case 'link':
        return this.hardlink(components, entry);
      case 'character-device':
      case 'block-device':
      case 'fifo':
        return this.node(components, entry);
      default:
        throw invalidArgument(
          `layer entry \`${printable(entry.name)}\` has type \`${entry.type}\`, which skiff does not unpack`,
        );
    }
  }

  /** After the last entry: the tool's batch, then directories' metadata, deepest first (mtimes last). */
  async finish(): Promise<void> {
    await performNodeOperations(this.root, [...this.pending.values()].flat());
    const byDepth = [...this.dirMeta.keys()].sort((a, b) => depth(b) - depth(a));
    for (const rel of byDepth) this.applyDirMeta(rel, this.dirMeta.get(rel)!);
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** Makes sure every component is a real directory of this layer, creating missing ones. */
  private ensureDirs(components: readonly string[], name: string): string {
    let rel = '';
    for (const component of components) {
      rel = rel === '' ? component : `${rel}/${component}`;
      if (this.dirs.has(rel)) continue;
      const kind = this.nonDirs.get(rel);
      if (kind !== undefined) {
        const what =
          kind === 'symlink' ? 'a symlink' : kind === 'whiteout' ? 'a whiteout' : 'not a directory';
        throw invalidArgument(
          `layer entry \`${printable(name)}\` goes through \`${printable(rel)}\`, which is ${what}`,
        );
      }
      this.mkdirChecked(rel, name);
      this.dirs.add(rel);
      this.dirMeta.set(rel, IMPLICIT_DIR);
    }
    return rel;
  }

  /** mkdir; if something is there that this writer did not make, only a real directory is accepted. */
  private mkdirChecked(rel: string, name: string): void {
    try {
      fs.mkdirSync(this.abs(rel), 0o700);
    } catch (err) {
      if (!hasErrno(err, 'EEXIST')) throw syscallError('mkdir', rel, err);
      const st = fs.lstatSync(this.abs(rel));
      if (!st.isDirectory()) {
        throw invalidArgument(
          `layer entry \`${printable(name)}\` goes through \`${printable(rel)}\`, which is not a directory`,
        );
      }
    }
  }

  /** Prepares the last component for a new non-directory entry: its parents exist, nothing is in its way. */
  private prepareLeaf(components: readonly string[], name: string): string {
    if (components.length === 0)
      throw invalidArgument(`layer entry \`${printable(name)}\` names the root but is not a directory`);
    this.ensureDirs(components.slice(0, -1), name);
    const rel = components.join('/');
    this.removeExisting(rel);
    return rel;
  }

  /** A later entry replaces an earlier one of the same name (tar's rule); a directory goes with its contents. */
  private removeExisting(rel: string): void {
    const wasDir = this.dirs.has(rel);
    if (!wasDir && !this.nonDirs.has(rel) && !this.pending.has(rel)) return;
    try {
      fs.rmSync(this.abs(rel), { recursive: true, force: true });
    } catch (err) {
      throw syscallError('rm', rel, err);
    }
    this.nonDirs.delete(rel);
    this.pending.delete(rel);
    this.dirs.delete(rel);
    this.dirMeta.delete(rel);
    if (!wasDir) return;
    for (const table of [this.dirs, this.nonDirs, this.pending, this.dirMeta]) {
      for (const key of table.keys()) if (isSameOrBelow(key, rel)) table.delete(key);
    }
  }

  private queue(rel: string, operation: NodeOperation): void {
    const list = this.pending.get(rel);
    if (list) list.push(operation);
    else this.pending.set(rel, [operation]);
  }

  private queueXattrs(rel: string, entry: LayerEntry): void {
    for (const [name, value] of entryXattrs(entry.pax))
      this.queue(rel, { op: 'setxattr', path: rel, name, value });
  }

  private directory(components: readonly string[], entry: LayerEntry): void {
    const rel = components.join('/');
    if (!this.dirs.has(rel)) {
      this.ensureDirs(components.slice(0, -1), entry.name);
      this.removeExisting(rel);
      this.mkdirChecked(rel, entry.name);
      this.dirs.add(rel);
    }
    this.dirMeta.set(rel, { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
    this.queueXattrs(rel, entry);
  }

  private async file(
    components: readonly string[],
    entry: LayerEntry,
    content: AsyncIterable<Buffer>,
  ): Promise<void> {
    if (entry.size > this.options.maxFileSize) {
      throw invalidArgument(
        `layer entry \`${printable(entry.name)}\` is ${entry.size} bytes, over the limit of ${this.options.maxFileSize}`,
      );
    }
    const rel = this.prepareLeaf(components, entry.name);
    // Synchronous calls throughout: a layer is thousands of small files, and a round trip through
    // libuv's thread pool (and a promise) per syscall costs more than the syscall itself.
    // Most files need neither chown nor chmod after open (2 of 6 syscalls a file): owned by us
    // already (directories get their modes, setgid included, only at the end, so nothing inherits a
    // group meanwhile), and with a plain mode that open(2) can give under this process's umask.
    const mode = entry.mode & 0o7777;
    const plainMode = (mode & 0o7000) === 0 && (mode & this.umask) === 0;
    const ownedAlready = entry.uid === this.euid && entry.gid === this.egid;
    let fd: number;
    try {
      fd = fs.openSync(this.abs(rel), FILE_FLAGS, plainMode ? mode : 0o600);
    } catch (err) {
      throw syscallError('open', rel, err);
    }
    try {
      for await (const chunk of content) writeAll(fd, chunk);
      if (this.options.preserveOwnership && !ownedAlready) fs.fchownSync(fd, entry.uid, entry.gid);
      // After chown, which clears setuid/setgid.
      if (!plainMode) fs.fchmodSync(fd, mode);
      fs.futimesSync(fd, entry.mtime, entry.mtime);
    } catch (err) {
      throw hasErrno(err) ? syscallError('write', rel, err) : err;
    } finally {
      fs.closeSync(fd);
    }
    this.nonDirs.set(rel, 'file');
    this.queueXattrs(rel, entry);
  }

  private symlink(components: readonly string[], entry: LayerEntry): void {
    const target = entry.linkname ?? '';
    if (target === '' || target.includes('\0'))
      throw invalidArgument(`layer symlink \`${printable(entry.name)}\` has no valid target`);
    const rel = this.prepareLeaf(components, entry.name);
    const abs = this.abs(rel);
    try {
      // The target is stored, never resolved here: it means something only inside the container.
      fs.symlinkSync(target, abs);
      if (this.options.preserveOwnership) fs.lchownSync(abs, entry.uid, entry.gid);
      fs.lutimesSync(abs, entry.mtime, entry.mtime);
    } catch (err) {
      throw syscallError('symlink', rel, err);
    }
    this.nonDirs.set(rel, 'symlink');
    this.queueXattrs(rel, entry);
  }

  /** Hard links point only at a non-directory that an earlier entry of this layer made. */
  private hardlink(components: readonly string[], entry: LayerEntry): void {
    const targetRel = entryComponents(entry.linkname ?? '', 'linkname').join('/');
    const kind = this.nonDirs.get(targetRel);
    if (kind === undefined || kind === 'whiteout') {
      throw invalidArgument(
        `layer hard link \`${printable(entry.name)}\` points at \`${printable(entry.linkname ?? '')}\`, which is not an earlier file of this layer`,
      );
    }
    const rel = this.prepareLeaf(components, entry.name);
    if (rel === targetRel) return; // a link to itself: the file is already there
    const queued = this.pending.get(targetRel);
    if (kind === 'node' && queued) {
      // Its target is not made yet (the tool runs at the end): make the same node again.
      for (const operation of queued) this.queue(rel, { ...operation, path: rel });
    } else {
      try {
        // link(2) never follows a symlink target: a link to a symlink links the symlink.
        fs.linkSync(this.abs(targetRel), this.abs(rel));
      } catch (err) {
        throw syscallError('link', rel, err);
      }
    }
    this.nonDirs.set(rel, kind);
  }

  private node(components: readonly string[], entry: LayerEntry): void {
    const type = entry.type === 'fifo' ? 'p' : entry.type === 'block-device' ? 'b' : 'c';
    if (type !== 'p' && this.options.devices === 'skip') return;
    if (type !== 'p' && this.options.devices === 'refuse') {
      throw invalidArgument(
        `layer entry \`${printable(entry.name)}\` is a device node, and devices are refused here`,
      );
    }
    const rel = this.prepareLeaf(components, entry.name);
    const owner = this.options.preserveOwnership
      ? entry
      : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    this.queue(rel, {
      op: 'mknod',
      path: rel,
      type,
      perm: entry.mode & 0o7777,
      major: entry.devmajor,
      minor: entry.devminor,
      uid: owner.uid,
      gid: owner.gid,
      mtime: entry.mtime,
    });
    this.nonDirs.set(rel, 'node');
    this.queueXattrs(rel, entry);
  }

  /** `.wh.<name>`: overlayfs's whiteout, a 0:0 character device owned by root. */
  private whiteout(components: readonly string[], entry: LayerEntry): void {
    const rel = this.prepareLeaf(components, entry.name);
    this.queue(rel, {
      op: 'mknod',
      path: rel,
      type: 'c',
      perm: 0,
      major: 0,
      minor: 0,
      uid: 0,
      gid: 0,
      mtime: entry.mtime,
    });
    this.nonDirs.set(rel, 'whiteout');
  }

  /** `.wh..wh..opq`: the directory (made if the archive did not make it yet) hides lower layers' contents. */
  private markOpaque(dirComponents: readonly string[]): void {
    const rel = this.ensureDirs(dirComponents, [...dirComponents, '.wh..wh..opq'].join('/'));
    this.queue(rel, { op: 'setxattr', path: rel, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
  }

  private applyDirMeta(rel: string, meta: DirMeta): void {
    let fd: number;
    try {
      fd = fs.openSync(this.abs(rel), DIR_FLAGS);
    } catch (err) {
      throw syscallError('open', rel || '.', err);
    }
    try {
      if (this.options.preserveOwnership) fs.fchownSync(fd, meta.uid, meta.gid);
      fs.fchmodSync(fd, meta.mode & 0o7777);
      if (meta.mtime) fs.futimesSync(fd, meta.mtime, meta.mtime);
    } catch (err) {
      throw syscallError('set metadata of', rel || '.', err);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** write(2) until the whole chunk is in (a regular file takes it in one call, but may not). */
function writeAll(fd: number, chunk: Uint8Array): void {
  let done = 0;
  while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done);
}

function depth(rel: string): number {
  if (rel === '') return 0;
  let n = 1;
  for (const c of rel) if (c === '/') n++;
  return n;
}
