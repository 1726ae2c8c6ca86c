import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../oci/index.ts';

/** The shim's cache of compiled seccomp filters, in the state root (not a container: `ids()` skips it). */
export const SECCOMP_CACHE_DIR = '.seccomp-cache';

/**
 * The cache directory for a container with a seccomp filter, made 0700 (only the runtime's user may
 * put a filter there). undefined when there is no filter or no directory: the shim then compiles the
 * filter without a cache, which costs time but never the container.
 */
export function seccompCacheDir(root: string, spec: Spec): string | undefined {
  if (!spec.linux?.seccomp) return undefined;
  const dir = path.join(root, SECCOMP_CACHE_DIR);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    return dir;
  } catch {
    return undefined;
  }
}
