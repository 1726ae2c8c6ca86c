/**
 * Safe in-root path resolution (DESIGN.md), as Go's securejoin: a path inside a directory tree that
 * is not ours (an image's rootfs) is resolved one component at a time with lstat, and a symlink is
 * followed as the container would see it, relative to the root, so that `..` and absolute links
 * never lead out of the tree. For reads the engine does before the container runs (/etc/passwd);
 * the shim still resolves mount targets itself at the moment of use (openat2 RESOLVE_IN_ROOT).
 */
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { hasErrno, SkiffError, syscallError } from './errors.ts';

/** Linux's MAXSYMLINKS as securejoin counts it: more links than this is a loop. */
const MAX_SYMLINKS = 255;

/**
 * The host path of `unsafePath` inside `root`, every symlink resolved within `root`. Components
 * that do not exist are joined lexically (the caller's open then fails with ENOENT inside the root).
 */
export function resolveInRoot(root: string, unsafePath: string): string {
  const base = path.resolve(root);
  const pending = unsafePath.split('/');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(base, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (err) {
      if (!hasErrno(err, 'ENOENT', 'ENOTDIR')) throw syscallError('lstat', candidate, err);
      done.push(part, ...pending.filter((p) => p !== '' && p !== '.'));
      return path.join(base, ...lexicalClean(done));
    }
    if (!isLink) {
      done.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS)
      throw new SkiffError(
        'InvalidArgument',
        `resolve \`${unsafePath}\` in \`${base}\`: ELOOP (too many symlinks)`,
      );
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/'));
  }
  return path.join(base, ...done);
}

/** `..` in the unresolved tail of a missing path, applied without going above the root. */
function lexicalClean(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else out.push(p);
  }
  return out;
}

/** A file's text read through resolveInRoot; undefined when it does not exist. */
export function readFileInRoot(root: string, unsafePath: string): string | undefined {
  const file = resolveInRoot(root, unsafePath);
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    throw syscallError('read', file, err);
  }
}
