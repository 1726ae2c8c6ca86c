import { constants } from 'node:fs';
import fs from 'node:fs/promises';
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
    for (const rel of byDepth) await this.applyDirMeta(rel, this.dirMeta.get(rel)!);
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** Makes sure every component is a real directory of this layer, creating missing ones. */
  private async ensureDirs(components: readonly string[], name: string): Promise<string> {
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
      await this.mkdirChecked(rel, name);
      this.dirs.add(rel);
      this.dirMeta.set(rel, IMPLICIT_DIR);
    }
    return rel;
  }

  /** mkdir; if something is there that this writer did not make, only a real directory is accepted. */
  private async mkdirChecked(rel: string, name: string): Promise<void> {
    try {
      await fs.mkdir(this.abs(rel), 0o700);
    } catch (err) {
      if (!hasErrno(err, 'EEXIST')) throw syscallError('mkdir', rel, err);
      const st = await fs.lstat(this.abs(rel));
      if (!st.isDirectory()) {
        throw invalidArgument(
          `layer entry \`${printable(name)}\` goes through \`${printable(rel)}\`, which is not a directory`,
        );
      }
    }
  }

  /** Prepares the last component for a new non-directory entry: its parents exist, nothing is in its way. */
  private async prepareLeaf(components: readonly string[], name: string): Promise<string> {
    if (components.length === 0)
      throw invalidArgument(`layer entry \`${printable(name)}\` names the root but is not a directory`);
    await this.ensureDirs(components.slice(0, -1), name);
    const rel = components.join('/');
    await this.removeExisting(rel);
    return rel;
  }

  /** A later entry replaces an earlier one of the same name (tar's rule); a directory goes with its contents. */
  private async removeExisting(rel: string): Promise<void> {
    const wasDir = this.dirs.has(rel);
    if (!wasDir && !this.nonDirs.has(rel) && !this.pending.has(rel)) return;
    try {
      await fs.rm(this.abs(rel), { recursive: true, force: true });
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

  private async directory(components: readonly string[], entry: LayerEntry): Promise<void> {
    const rel = components.join('/');
    if (!this.dirs.has(rel)) {
      await this.ensureDirs(components.slice(0, -1), entry.name);
      await this.removeExisting(rel);
      await this.mkdirChecked(rel, entry.name);
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
    const rel = await this.prepareLeaf(components, entry.name);
    const handle = await fs.open(this.abs(rel), FILE_FLAGS, 0o600).catch((err: unknown) => {
      throw syscallError('open', rel, err);
    });
    try {
      for await (const chunk of content) await handle.write(chunk);
      if (this.options.preserveOwnership) await handle.chown(entry.uid, entry.gid);
      // After chown, which clears setuid/setgid.
      await handle.chmod(entry.mode & 0o7777);
      await handle.utimes(entry.mtime, entry.mtime);
    } catch (err) {
      throw hasErrno(err) ? syscallError('write', rel, err) : err;
    } finally {
      await handle.close();
    }
    this.nonDirs.set(rel, 'file');
    this.queueXattrs(rel, entry);
  }

  private async symlink(components: readonly string[], entry: LayerEntry): Promise<void> {
    const target = entry.linkname ?? '';
    if (target === '' || target.includes('\0'))
      throw invalidArgument(`layer symlink \`${printable(entry.name)}\` has no valid target`);
    const rel = await this.prepareLeaf(components, entry.name);
    const abs = this.abs(rel);
    try {
      // The target is stored, never resolved here: it means something only inside the container.
      await fs.symlink(target, abs);
      if (this.options.preserveOwnership) await fs.lchown(abs, entry.uid, entry.gid);
      await fs.lutimes(abs, entry.mtime, entry.mtime);
    } catch (err) {
      throw syscallError('symlink', rel, err);
    }
    this.nonDirs.set(rel, 'symlink');
    this.queueXattrs(rel, entry);
  }

  /** Hard links point only at a non-directory that an earlier entry of this layer made. */
  private async hardlink(components: readonly string[], entry: LayerEntry): Promise<void> {
    const targetRel = entryComponents(entry.linkname ?? '', 'linkname').join('/');
    const kind = this.nonDirs.get(targetRel);
    if (kind === undefined || kind === 'whiteout') {
      throw invalidArgument(
        `layer hard link \`${printable(entry.name)}\` points at \`${printable(entry.linkname ?? '')}\`, which is not an earlier file of this layer`,
      );
    }
    const rel = await this.prepareLeaf(components, entry.name);
    if (rel === targetRel) return; // a link to itself: the file is already there
    const queued = this.pending.get(targetRel);
    if (kind === 'node' && queued) {
      // Its target is not made yet (the tool runs at the end): make the same node again.
      for (const operation of queued) this.queue(rel, { ...operation, path: rel });
    } else {
      try {
        // link(2) never follows a symlink target: a link to a symlink links the symlink.
        await fs.link(this.abs(targetRel), this.abs(rel));
      } catch (err) {
        throw syscallError('link', rel, err);
      }
    }
    this.nonDirs.set(rel, kind);
  }

  private async node(components: readonly string[], entry: LayerEntry): Promise<void> {
    const type = entry.type === 'fifo' ? 'p' : entry.type === 'block-device' ? 'b' : 'c';
    if (type !== 'p' && this.options.devices === 'skip') return;
    if (type !== 'p' && this.options.devices === 'refuse') {
      throw invalidArgument(
        `layer entry \`${printable(entry.name)}\` is a device node, and devices are refused here`,
      );
    }
    const rel = await this.prepareLeaf(components, entry.name);
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
  private async whiteout(components: readonly string[], entry: LayerEntry): Promise<void> {
    const rel = await this.prepareLeaf(components, entry.name);
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
  private async markOpaque(dirComponents: readonly string[]): Promise<void> {
    const rel = await this.ensureDirs(dirComponents, [...dirComponents, '.wh..wh..opq'].join('/'));
    this.queue(rel, { op: 'setxattr', path: rel, name: 'trusted.overlay.opaque', value: Buffer.from('y') });
  }

  private async applyDirMeta(rel: string, meta: DirMeta): Promise<void> {
    const handle = await fs.open(this.abs(rel), DIR_FLAGS).catch((err: unknown) => {
      throw syscallError('open', rel || '.', err);
    });
    try {
      if (this.options.preserveOwnership) await handle.chown(meta.uid, meta.gid);
      await handle.chmod(meta.mode & 0o7777);
      if (meta.mtime) await handle.utimes(meta.mtime, meta.mtime);
    } catch (err) {
      throw syscallError('set metadata of', rel || '.', err);
    } finally {
      await handle.close();
    }
  }
}

function depth(rel: string): number {
  if (rel === '') return 0;
  let n = 1;
  for (const c of rel) if (c === '/') n++;
  return n;
}
