import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSpec, type Spec } from '../../src/oci/index.ts';
import { Runtime } from '../../src/runtime/index.ts';
import { makeRootfs, tempDir } from './rootfs.ts';

export interface TestBundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  /** Writes `spec` (after changes) to config.json. */
  save(): void;
  cleanup(): void;
}

export function uniqueId(prefix = 'skiff-test'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/**
 * An OCI bundle over a fresh busybox rootfs, from `runc spec`'s defaults made non-interactive and
 * given its own cgroup path, so tests can run side by side.
 */
export function makeBundle(args: string[] = ['/probe', 'pid'], edit?: (spec: Spec) => void): TestBundle {
  const { dir, cleanup } = tempDir('skiff-bundle-');
  // mkdtemp makes it 0700; ids mapped in a user namespace must still reach the rootfs below it.
  chmodSync(dir, 0o755);
  const rootfs = makeRootfs(path.join(dir, 'rootfs'));
  const spec = defaultSpec({ rootless: false });
  spec.process!.terminal = false;
  spec.process!.args = args;
  spec.root = { path: 'rootfs', readonly: false };
  spec.linux!.cgroupsPath = `/${uniqueId()}`;
  edit?.(spec);
  const bundle: TestBundle = {
    dir,
    rootfs,
    spec,
    save: () => writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2)),
    cleanup,
  };
  bundle.save();
  return bundle;
}

/** A runtime with its own temporary state root. */
export function makeRuntime(): { runtime: Runtime; root: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('skiff-root-');
  return { runtime: new Runtime({ root: dir }), root: dir, cleanup };
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a container in the foreground (create, start, wait, delete) and collects its output. */
export async function runContainer(
  runtime: Runtime,
  bundle: TestBundle,
  id = uniqueId(),
): Promise<RunResult> {
  const out = path.join(bundle.dir, `${id}.out`);
  const err = path.join(bundle.dir, `${id}.err`);
  const outFd = openSync(out, 'w');
  const errFd = openSync(err, 'w');
  try {
    const status = await runtime.run({
      id,
      bundle: bundle.dir,
      foreground: true,
      stdio: ['ignore', outFd, errFd],
    });
    return { status: status ?? -1, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
}

/**
 * Runs a container to its end and keeps it (runc's `run --keep`), stopped, for the test to look at;
 * it is force-deleted after the test.
 */
export async function runKept(
  runtime: Runtime,
  t: { after: (fn: () => Promise<void>) => void },
  args: string[],
): Promise<{ id: string; bundle: TestBundle; status: number | undefined }> {
  const bundle = makeBundle(args);
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  const status = await runtime.run({
    id,
    bundle: bundle.dir,
    foreground: true,
    keep: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  return { id, bundle, status };
}
