/**
 * Pinned network namespaces (DESIGN.md, "Process model"): made before the container so that CNI can
 * configure them, joined by the container through the OCI config's namespace path, and removed only
 * after CNI DEL, so that set-up and teardown never race the container's process. Node can neither
 * unshare nor mount: native/build/skiff-netns does both (native/README.md).
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { nativeTool, runtimeFailure, syscallError } from '../common/index.ts';

/** A new network namespace with its loopback up, pinned on `file` (which must not exist). */
export async function createNetns(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw syscallError('mkdir', path.dirname(file), err);
  });
  await runNetnsTool(['create', file]);
}

/** Unpins and removes `file` (nothing to do when it is absent or not mounted). */
export async function removeNetns(file: string): Promise<void> {
  await runNetnsTool(['remove', file]);
}

async function runNetnsTool(args: string[]): Promise<void> {
  const tool = nativeTool('skiff-netns', 'SKIFF_NETNS');
  await new Promise<void>((resolve, reject) => {
    execFile(tool, args, { encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else if (typeof err.code === 'number')
        reject(runtimeFailure(stderr.trim() || `skiff-netns exited with ${err.code}`, err));
      else reject(syscallError('spawn', tool, err));
    });
  });
}
