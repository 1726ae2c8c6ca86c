/**
 * `docker cp`'s extraction: a tar stream unpacked into a directory of a tree (./rooted.ts) as
 * Docker's chrooted untar does it, and never outside it:
 * - entry names with `..` are refused (as the layer writer refuses them), names are relative to the
 *   destination; a relative symlink whose target climbs above the destination is refused (Docker's
 *   "invalid symlink" breakout check), an absolute one is kept (it means something inside the tree);
 * - every parent of an entry is walked beneath the destination's fds with the tree's symlinks
 *   resolved in the tree (a container's absolute link leads to the container's root, never the host's);
 * - the entry itself is created with O_EXCL|O_NOFOLLOW / mkdir / symlink / link, none of which
 *   follows a link; what is in its way is unlinked (a directory is never replaced by a non-directory,
 *   nor the reverse: Docker's NoOverwriteDirNonDir);
 * - hard links point only at a path beneath the destination.
 */
import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { invalidArgument, nativeTool, runtimeFailure, syscallError } from '../../common/index.ts';
import { at, DIR_FLAGS, type Frame, lstatAt, type Tree, walkToDir } from './rooted.ts';

const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Whose files the extraction makes: the archive's owners (-a), fixed ones, or the copier's own. */
export type Ownership = 'archive' | { uid: number; gid: number } | 'copier';

export interface ExtractOptions {
  ownership: Ownership;
}

interface Entry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** Unpacks `archive` into `destPath` of `tree` (which must be a directory); returns the tar's size. */
export async function extractInto(
  tree: Tree,
  destPath: string,
  archive: Readable,
  options: ExtractOptions,
): Promise<number> {
  const extractor = new Extractor(tree, destPath, options);
  const extract = tar.extract();
  let failure: unknown;
  (extract as unknown as EventEmitter).on('error', (err: unknown) => {
    failure ??= err;
  });
  let size = 0;
  archive.on('data', (chunk: Buffer) => {
    size += chunk.length;
  });
  archive.on('error', (err) => extract.destroy(err));
  archive.pipe(extract as unknown as NodeJS.WritableStream);
  try {
    for await (const stream of extract) {
      const h = stream.header;
      await extractor.write(
        {
          name: h.name,
          type: h.type ?? 'file',
          mode: h.mode ?? 0o644,
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          mtime: h.mtime && !Number.isNaN(h.mtime.getTime()) ? h.mtime : new Date(0),
          linkname: h.linkname ?? '',
          devmajor: h.devmajor ?? 0,
          devminor: h.devminor ?? 0,
        },
        stream as unknown as AsyncIterable<Buffer>,
      );
      stream.resume();
    }
  } catch (err) {
    archive.unpipe(extract as unknown as NodeJS.WritableStream);
    archive.destroy();
    throw describe(failure ?? err);
  }
  if (failure) throw describe(failure);
  extractor.finish();
  return size;
}

function describe(err: unknown): unknown {
  if (!(err instanceof Error) || 'kind' in err) return err;
  return invalidArgument(`the archive is corrupt or truncated: ${err.message}`, err);
}

/** The components of an entry name beneath the destination; `..` refused. */
export function cpEntryComponents(name: string, field = 'name'): string[] {
  if (name.includes('\0')) throw invalidArgument(`archive entry ${field} contains a NUL byte`);
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..')
      throw invalidArgument(
        `refusing the archive entry ${field} "${name}": it climbs out of the destination (..)`,
      );
    out.push(part);
  }
  return out;
}

/** Docker's breakout check of a symlink: a relative target must stay beneath the destination. */
export function symlinkEscapes(components: readonly string[], target: string): boolean {
  if (target.startsWith('/')) return false;
  // filepath.Join(dir, target) cleaned lexically: escaping means climbing above the destination.
  let depth = components.length - 1;
  for (const part of target.split('/')) {
    if (part === '..') depth--;
    else if (part !== '' && part !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}

class Extractor {
  private readonly tree: Tree;
  private readonly dest: string;
  private readonly options: ExtractOptions;
  /** Directory times, set last (creating their entries changed them). */
  private readonly dirTimes: { components: string[]; mtime: Date }[] = [];

  constructor(tree: Tree, dest: string, options: ExtractOptions) {
    this.tree = tree;
    this.dest = dest;
    this.options = options;
  }

  async write(entry: Entry, content: AsyncIterable<Buffer>): Promise<void> {
    if (['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path'].includes(entry.type))
      return;
    const components = cpEntryComponents(entry.name);
    if (components.length === 0) {
      if (entry.type !== 'directory')
        throw invalidArgument(`archive entry "${entry.name}" is not a directory`);
      return this.inParent([], (parent) => this.directoryMeta(parent.fd, '.', entry, []));
    }
    const leaf = components.at(-1)!;
    await this.inParent(components.slice(0, -1), async (parent) => {
      switch (entry.type) {
        case 'directory':
          return this.directory(parent, leaf, entry, components);
        case 'file':
        case 'contiguous-file':
          return this.file(parent, leaf, entry, content);
        case 'symlink':
          return this.symlink(parent, leaf, entry, components);
        case 'link':
          return this.hardlink(parent, leaf, entry);
        case 'character-device':
        case 'block-device':
        case 'fifo':
          return this.node(parent, leaf, entry);
        default:
          throw invalidArgument(`archive entry "${entry.name}" has an unsupported type (${entry.type})`);
      }
    });
  }

  /** Sets the directories' times, deepest first (setting a parent's does not change a child's). */
  finish(): void {
    for (const { components, mtime } of this.dirTimes.reverse()) {
      this.inParentSync(components.slice(0, -1), (parent) => {
        const name = components.at(-1) ?? '.';
        const stat = lstatAt(parent.fd, name);
        if (stat?.isDirectory()) lutimesSync(at(parent.fd, name), mtime, mtime);
      });
    }
  }

  private async inParent<T>(
    components: readonly string[],
    fn: (parent: Frame) => T | Promise<T>,
  ): Promise<T> {
    const walk = walkToDir(this.tree, this.pathOf(components), (parent, name) =>
      this.mkdirParent(parent, name),
    );
    try {
      return await fn(walk.top);
    } finally {
      walk.close();
    }
  }

  private inParentSync(components: readonly string[], fn: (parent: Frame) => void): void {
    const walk = walkToDir(this.tree, this.pathOf(components));
    try {
      fn(walk.top);
    } finally {
      walk.close();
    }
  }

  private pathOf(components: readonly string[]): string {
    return [this.dest, ...components].join('/');
  }

  /** A parent the archive did not list: 0755, owned as the copy's files are (Docker's MkdirAllAndChown). */
  private mkdirParent(parent: Frame, name: string): void {
    try {
      mkdirSync(at(parent.fd, name), 0o755);
    } catch (err) {
      throw syscallError('mkdir', name, err);
    }
    const owner = this.owner({ uid: 0, gid: 0 });
    if (owner) lchownSync(at(parent.fd, name), owner.uid, owner.gid);
  }

  private owner(entry: { uid: number; gid: number }): { uid: number; gid: number } | undefined {
    const o = this.options.ownership;
    if (o === 'copier') return undefined;
    return o === 'archive' ? entry : o;
  }

  /** Makes room for a non-directory: a directory there is refused, anything else unlinked. */
  private clearForNonDir(dirFd: number, name: string, entry: Entry): void {
    const existing = lstatAt(dirFd, name);
    if (!existing) return;
    if (existing.isDirectory())
      throw invalidArgument(`cannot overwrite directory "${name}" with non-directory "${entry.name}"`);
    try {
      unlinkSync(at(dirFd, name));
    } catch (err) {
      throw syscallError('unlink', name, err);
    }
  }

  private directory(parent: Frame, name: string, entry: Entry, components: string[]): void {
    const existing = lstatAt(parent.fd, name);
    if (existing && !existing.isDirectory())
      throw invalidArgument(`cannot overwrite non-directory "${name}" with directory "${entry.name}"`);
    if (!existing) {
      try {
        mkdirSync(at(parent.fd, name), 0o700);
      } catch (err) {
        throw syscallError('mkdir', name, err);
      }
    }
    this.directoryMeta(parent.fd, name, entry, components);
  }

  /** Owner and mode now (through an fd of the directory itself), the time at the end. */
  private directoryMeta(dirFd: number, name: string, entry: Entry, components: string[]): void {
    let fd: number;
    try {
      fd = openSync(at(dirFd, name), DIR_FLAGS);
    } catch (err) {
      throw syscallError('open', name, err);
    }
    try {
      const owner = this.owner(entry);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, entry.mode & 0o7777);
    } catch (err) {
      throw syscallError('set metadata of', entry.name, err);
    } finally {
      closeSync(fd);
    }
    this.dirTimes.push({ components, mtime: entry.mtime });
  }

  private async file(
    parent: Frame,
    name: string,
    entry: Entry,
    content: AsyncIterable<Buffer>,
  ): Promise<void> {
    this.clearForNonDir(parent.fd, name, entry);
    let fd: number;
    try {
      fd = openSync(at(parent.fd, name), FILE_FLAGS, 0o600);
    } catch (err) {
      throw syscallError('create', entry.name, err);
    }
    try {
      for await (const chunk of content) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      }
      const owner = this.owner(entry);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      // After chown, which clears setuid/setgid.
      fchmodSync(fd, entry.mode & 0o7777);
      futimesSync(fd, entry.mtime, entry.mtime);
    } catch (err) {
      throw syscallError('write', entry.name, err);
    } finally {
      closeSync(fd);
    }
  }

  private symlink(parent: Frame, name: string, entry: Entry, components: string[]): void {
    const target = entry.linkname;
    if (target === '' || target.includes('\0'))
      throw invalidArgument(`archive symlink "${entry.name}" has no valid target`);
    if (symlinkEscapes(components, target))
      throw invalidArgument(
        `refusing the archive symlink "${entry.name}" -> "${target}": it points out of the destination`,
      );
    this.clearForNonDir(parent.fd, name, entry);
    try {
      symlinkSync(target, at(parent.fd, name));
      const owner = this.owner(entry);
      if (owner) lchownSync(at(parent.fd, name), owner.uid, owner.gid);
      lutimesSync(at(parent.fd, name), entry.mtime, entry.mtime);
    } catch (err) {
      throw syscallError('symlink', entry.name, err);
    }
  }

  /** A hard link to an earlier path beneath the destination (walked as any entry's parent). */
  private async hardlink(parent: Frame, name: string, entry: Entry): Promise<void> {
    const target = cpEntryComponents(entry.linkname, 'link target');
    if (target.length === 0)
      throw invalidArgument(`archive hard link "${entry.name}" points at the destination itself`);
    const walk = walkToDir(this.tree, this.pathOf(target.slice(0, -1)));
    try {
      const targetName = target.at(-1)!;
      const stat = lstatAt(walk.top.fd, targetName);
      if (!stat || stat.isDirectory())
        throw invalidArgument(
          `archive hard link "${entry.name}" points at "${entry.linkname}", which is not a file of the destination`,
        );
      if (stat.ino === lstatAt(parent.fd, name)?.ino && stat.dev === lstatAt(parent.fd, name)?.dev) return;
      this.clearForNonDir(parent.fd, name, entry);
      try {
        // link(2) never follows a symlink target: a link to a symlink links the symlink.
        linkSync(at(walk.top.fd, targetName), at(parent.fd, name));
      } catch (err) {
        throw syscallError('link', entry.name, err);
      }
    } finally {
      walk.close();
    }
  }

  /** Fifos and devices: made by skiff-layer-nodes beneath the parent's fd (Node cannot mknod). */
  private async node(parent: Frame, name: string, entry: Entry): Promise<void> {
    this.clearForNonDir(parent.fd, name, entry);
    const type = entry.type === 'fifo' ? 'p' : entry.type === 'block-device' ? 'b' : 'c';
    const owner = this.owner(entry) ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    const ms = entry.mtime.getTime();
    const sec = Math.max(0, Math.floor(ms / 1000));
    const fields = ['mknod', name, type, (entry.mode & 0o7777).toString(8), String(entry.devmajor)];
    fields.push(String(entry.devminor), String(owner.uid), String(owner.gid), String(sec), '0');
    // The tool opens its directory without following a final symlink: `/.` makes the magic link a middle one.
    await runLayerNodes(
      `/proc/${process.pid}/fd/${parent.fd}/.`,
      Buffer.from(fields.map((f) => `${f}\0`).join('')),
    );
  }
}

async function runLayerNodes(dir: string, input: Buffer): Promise<void> {
  const tool = nativeTool('skiff-layer-nodes', 'SKIFF_LAYER_NODES');
  const child = spawn(tool, [dir], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(syscallError('spawn', tool, err)));
    child.on('close', resolve);
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
  if (code !== 0) throw runtimeFailure(stderr.trim() || `skiff-layer-nodes exited with ${code}`);
}
