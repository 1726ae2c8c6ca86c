/**
 * The rare undo of a `host-mount` the shim could not undo itself (its monitor was killed after a
 * create that failed late): skiff-mount unmounts, as the engine's own fallback does.
 */
import { execFile } from 'node:child_process';
import { nativeTool } from '../common/index.ts';

/** Unmounts `target` up to `count` times; failures (nothing mounted) are the expected end. */
export async function unmountQuietly(target: string, count: number): Promise<void> {
  const tool = nativeTool('skiff-mount', 'SKIFF_MOUNT');
  for (let i = 0; i < count; i++) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(tool, ['umount', target], (err) => resolve(!err)),
    );
    if (!ok) return;
  }
}
