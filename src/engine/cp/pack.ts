/**
 * The tar stream of `docker cp`'s source: one file or directory tree, read beneath its parent
 * directory's fd (./rooted.ts) so that nothing of it is ever followed out of its tree, archived under
 * the name the copy gives its root (Docker's rebase). Symlinks are archived as symlinks, hard links
 * within the tree as tar links, devices and fifos as nodes; sockets are skipped, as tar does.
 */
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import type tar from 'tar-stream';
import { invalidArgument, SkiffError, syscallError } from '../../common/index.ts';
import { at, DIR_FLAGS, lstatAt } from './rooted.ts';

type Header = Partial<tar.Header> & { name: string };

/** Linux's O_PATH (Node does not export it): an fd naming the inode without opening it. */
const O_PATH = 0o10000000;
const CHUNK = 256 * 1024;

/** Hard links seen so far: `dev:ino` -> the archive name of the first one. */
type LinkTable = Map<string, string>;

/**
 * Writes the tree of `name` beneath `dirFd` into `pack` as `rootName` ('.' gives Docker's `./`
 * entries of a `dir/.` copy) and finalizes the pack.
 */
export async function packTree(pack: tar.Pack, dirFd: number, name: string, rootName: string): Promise<void> {
  const stat = lstatAt(dirFd, name);
  if (!stat) throw syscallError('lstat', name, Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
  await packEntry(pack, dirFd, name, stat, rootName, new Map());
  pack.finalize();
}

async function packEntry(
  pack: tar.Pack,
  dirFd: number,
  name: string,
  stat: Stats,
  archiveName: string,
  links: LinkTable,
): Promise<void> {
  const header = baseHeader(stat, archiveName);
  if (stat.isDirectory()) return packDirectory(pack, dirFd, name, { ...header, type: 'directory' }, links);
  if (stat.isSymbolicLink()) {
    await addEntry(pack, { ...header, type: 'symlink', linkname: readlinkSync(at(dirFd, name)) });
    return;
  }
  if (stat.nlink > 1 && !stat.isDirectory()) {
    const key = `${stat.dev}:${stat.ino}`;
    const first = links.get(key);
    if (first !== undefined) {
      await addEntry(pack, { ...header, type: 'link', linkname: first, size: 0 });
      return;
    }
    links.set(key, archiveName);
  }
  if (stat.isFile()) return packFile(pack, dirFd, name, { ...header, type: 'file', size: stat.size });
  const node = nodeType(stat);
  // Sockets cannot be archived (tar and Docker skip them).
  if (node)
    await addEntry(pack, {
      ...header,
      type: node,
      devmajor: Math.floor(stat.rdev / 256) & 0xfff,
      devminor: (stat.rdev & 0xff) | ((stat.rdev >> 12) & 0xfff00),
    });
}

function baseHeader(stat: Stats, name: string): Header {
  return { name, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, mtime: stat.mtime };
}

function nodeType(stat: Stats): 'character-device' | 'block-device' | 'fifo' | undefined {
  if (stat.isCharacterDevice()) return 'character-device';
  if (stat.isBlockDevice()) return 'block-device';
  if (stat.isFIFO()) return 'fifo';
  return undefined;
}

async function packDirectory(
  pack: tar.Pack,
  dirFd: number,
  name: string,
  header: Header,
  links: LinkTable,
): Promise<void> {
  await addEntry(pack, { ...header, name: `${header.name}/` });
  let fd: number;
  try {
    fd = openSync(at(dirFd, name), DIR_FLAGS);
  } catch (err) {
    throw syscallError('open', header.name, err);
  }
  try {
    const children = readdirSync(at(fd, '.')).sort();
    for (const child of children) {
      const stat = lstatAt(fd, child);
      if (stat) await packEntry(pack, fd, child, stat, `${header.name}/${child}`, links);
    }
  } finally {
    closeSync(fd);
  }
}

/** A file's content, exactly `size` bytes of it (a file that shrank meanwhile is padded with zeros). */
async function packFile(pack: tar.Pack, dirFd: number, name: string, header: Header): Promise<void> {
  const fd = openRegularFile(dirFd, name, header.name);
  try {
    const size = header.size ?? 0;
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      const buffer = Buffer.alloc(CHUNK);
      let left = size;
      const pump = () => {
        try {
          while (left > 0) {
            const want = Math.min(CHUNK, left);
            let got = readSync(fd, buffer, 0, want, null);
            if (got === 0) {
              buffer.fill(0, 0, want);
              got = want;
            }
            left -= got;
            if (!entry.write(Buffer.from(buffer.subarray(0, got)))) {
              entry.once('drain', pump);
              return;
            }
          }
          (entry as unknown as { end(): void }).end();
        } catch (err) {
          entry.destroy(err as Error);
          reject(syscallError('read', header.name, err));
        }
      };
      pump();
    });
  } finally {
    closeSync(fd);
  }
}

/** An entry without content; waits when the pack's reader is behind. */
function addEntry(pack: tar.Pack, header: Header): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

/**
 * Opens `name` for reading only if it is a regular file: its inode is named first with
 * O_PATH|O_NOFOLLOW (which opens nothing: no fifo blocks, no device driver runs), checked, then that
 * very inode reopened through /proc/self/fd. What the tree's processes swap in meanwhile (a fifo, a
 * device node they made) is refused, never opened.
 */
function openRegularFile(dirFd: number, name: string, shown: string): number {
  let pathFd: number;
  try {
    pathFd = openSync(at(dirFd, name), O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    throw syscallError('open', shown, err);
  }
  try {
    if (!fstatSync(pathFd).isFile())
      throw invalidArgument(`${shown} changed while it was copied: it is no longer a regular file`);
    return openSync(`/proc/self/fd/${pathFd}`, constants.O_RDONLY);
  } catch (err) {
    throw err instanceof SkiffError ? err : syscallError('open', shown, err);
  } finally {
    closeSync(pathFd);
  }
}
