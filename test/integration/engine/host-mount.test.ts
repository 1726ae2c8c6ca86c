/**
 * The runtime's rootfsMounts (the shim's `host-mount` records), the monitor's --unmount, and the
 * engine's create-cwd annotation (`mkdir-cwd`), from the host's mountinfo and from inside.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readExitFile } from '../../../src/engine/index.ts';
import type { Spec } from '../../../src/oci/index.ts';
import {
  CREATE_CWD_ANNOTATION,
  type CreateOptions,
  type MonitorOptions,
} from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, type TestBundle, uniqueId } from '../../helpers/bundle.ts';
import { hostMountsMentioning } from '../../helpers/host.ts';
import { logLines, monitorGone } from '../../helpers/monitor.ts';
import { tempDir } from '../../helpers/rootfs.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

interface Overlay {
  bundle: TestBundle;
  /** root.path: an empty directory the shim mounts the overlay on. */
  merged: string;
  upper: string;
  mounts: NonNullable<CreateOptions['rootfsMounts']>;
}

/** A bundle whose root.path is empty: the rootfs is an overlay of the busybox tree the shim mounts. */
function overlayBundle(
  t: { after: (fn: () => void) => void },
  args: string[],
  edit?: (spec: Spec) => void,
): Overlay {
  const bundle = makeBundle(args, (spec) => {
    spec.root = { path: 'merged', readonly: false };
    edit?.(spec);
  });
  const merged = path.join(bundle.dir, 'merged');
  const upper = path.join(bundle.dir, 'upper');
  const work = path.join(bundle.dir, 'work');
  for (const dir of [merged, upper, work]) mkdirSync(dir);
  t.after(() => {
    // A test that failed half-way must not leave the overlay behind (nor rm through it).
    for (let i = 0; i < 5 && mounted(merged); i++) spawnSync('umount', ['-l', merged]);
    bundle.cleanup();
  });
  const options = ['index=off', `lowerdir=${bundle.rootfs}`, `upperdir=${upper}`, `workdir=${work}`];
  return { bundle, merged, upper, mounts: [{ type: 'overlay', source: 'overlay', options }] };
}

function mounted(target: string): boolean {
  return hostMountsMentioning(` ${target} `).some((line) => line.split(' ')[4] === target);
}

async function createWithMonitor(
  t: { after: (fn: () => Promise<void>) => void },
  o: Overlay,
  monitor: Partial<MonitorOptions> = {},
): Promise<{ id: string; dir: string; log: string; monitorPid: number }> {
  const { dir, cleanup: removeDir } = tempDir('skiff-monitor-');
  const id = uniqueId();
  const log = path.join(dir, 'ctr.log');
  let monitorPid = 0;
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    if (monitorPid && !(await monitorGone(monitorPid))) process.kill(monitorPid, 'SIGKILL');
    removeDir();
  });
  await runtime.create({
    id,
    bundle: o.bundle.dir,
    monitor: { dir, logFile: log, ...monitor },
    rootfsMounts: o.mounts,
  });
  monitorPid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8'));
  return { id, dir, log, monitorPid };
}

function output(log: string): string {
  return logLines(log)
    .map((l) => l.log)
    .join('');
}

test('rootfsMounts: the shim mounts the overlay before the init; --unmount: the monitor unmounts it at the exit', async (t) => {
  const o = overlayBundle(t, [
    '/bin/sh',
    '-c',
    'echo written > /new-file; grep " / / " /proc/self/mountinfo',
  ]);
  const c = await createWithMonitor(t, o, { unmount: o.merged });
  assert.ok(mounted(o.merged), 'mounted on the host once created, before start');
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  const exit = await readExitFile(c.dir);
  assert.equal(exit?.exitCode, 0);
  // Inside: the root is the overlay the shim mounted, and writes land in its upper dir.
  assert.match(output(c.log), / - overlay overlay /);
  assert.equal(readFileSync(path.join(o.upper, 'new-file'), 'utf8'), 'written\n');
  assert.equal(mounted(o.merged), false, 'unmounted by the monitor');
});

test('without --unmount the rootfs stays mounted after the exit (the caller unmounts it)', async (t) => {
  const o = overlayBundle(t, ['/bin/true']);
  const c = await createWithMonitor(t, o);
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  assert.equal((await readExitFile(c.dir))?.exitCode, 0);
  assert.ok(mounted(o.merged));
});

test('rootfsMounts: a bind with ro is remounted read-only', async (t) => {
  const o = overlayBundle(t, ['/bin/sh', '-c', 'touch /x 2>&1; echo rc=$?']);
  o.mounts = [{ type: 'bind', source: o.bundle.rootfs, options: ['rbind', 'ro'] }];
  const c = await createWithMonitor(t, o, { unmount: o.merged });
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  assert.match(output(c.log), /Read-only file system\nrc=1\n/);
  assert.equal(mounted(o.merged), false);
});

test('a host-mount that fails is reported with its step, errno and path; nothing is mounted', async (t) => {
  const o = overlayBundle(t, ['/bin/true']);
  o.mounts = [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/nonexistent-skiff-layer'] }];
  const { dir, cleanup: removeDir } = tempDir('skiff-monitor-');
  t.after(removeDir);
  const id = uniqueId();
  await assert.rejects(
    runtime.create({ id, bundle: o.bundle.dir, monitor: { dir }, rootfsMounts: o.mounts }),
    (err) => {
      const cause = (err as Error & { cause?: { step?: string; errno?: string; path?: string } }).cause;
      assert.equal(cause?.step, 'host-mount');
      assert.equal(cause?.errno, 'ENOENT');
      assert.equal(cause?.path, o.merged);
      assert.match((err as Error).message, /mount `.*merged`/);
      return true;
    },
  );
  assert.equal(mounted(o.merged), false);
  await assert.rejects(runtime.state(id), /does not exist|not found/i);
});

test('a create that fails after the host-mount (a missing program) leaves nothing mounted', async (t) => {
  const o = overlayBundle(t, ['/no-such-program']);
  const { dir, cleanup: removeDir } = tempDir('skiff-monitor-');
  t.after(removeDir);
  const id = uniqueId();
  await assert.rejects(
    runtime.create({ id, bundle: o.bundle.dir, monitor: { dir, unmount: o.merged }, rootfsMounts: o.mounts }),
    /no-such-program/,
  );
  assert.equal(mounted(o.merged), false, 'the shim undid its mount');
  assert.equal(existsSync(path.join(dir, 'exit')), false, 'a failed create is no exit');
});

test('rootfsMounts needs a monitor, which undoes them on failure', async (t) => {
  const o = overlayBundle(t, ['/bin/true']);
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: o.bundle.dir, rootfsMounts: o.mounts }),
    /rootfsMounts needs monitor/,
  );
  assert.equal(mounted(o.merged), false);
});

test('create-cwd: a missing working directory is made (0755, root) in the container, read-only root too', async (t) => {
  const o = overlayBundle(
    t,
    ['/bin/sh', '-c', 'pwd; stat -c "%a %u %F" . /work; touch /x 2>/dev/null || echo ro'],
    (spec) => {
      spec.process!.cwd = '/work/deep/dir';
      spec.process!.user = { uid: 1000, gid: 1000 };
      spec.root!.readonly = true;
      spec.annotations = { [CREATE_CWD_ANNOTATION]: 'true' };
    },
  );
  const c = await createWithMonitor(t, o, { unmount: o.merged });
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  assert.equal(output(c.log), '/work/deep/dir\n755 0 directory\n755 0 directory\nro\n');
  assert.ok(existsSync(path.join(o.upper, 'work', 'deep', 'dir')));
});

test('create-cwd: an existing working directory is left as it is; without the annotation a missing one fails', async (t) => {
  const existing = overlayBundle(t, ['/bin/pwd'], (spec) => {
    spec.process!.cwd = '/etc';
    spec.annotations = { [CREATE_CWD_ANNOTATION]: 'true' };
  });
  const c = await createWithMonitor(t, existing, { unmount: existing.merged });
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  assert.equal(output(c.log), '/etc\n');
  assert.equal(existsSync(path.join(existing.upper, 'etc')), false, 'nothing made or touched');

  const missing = overlayBundle(t, ['/bin/pwd'], (spec) => {
    spec.process!.cwd = '/not-there';
  });
  const { dir, cleanup: removeDir } = tempDir('skiff-monitor-');
  t.after(removeDir);
  await assert.rejects(
    runtime.create({
      id: uniqueId(),
      bundle: missing.bundle.dir,
      monitor: { dir },
      rootfsMounts: missing.mounts,
    }),
    /cwd `\/not-there`: ENOENT/,
  );
  assert.equal(mounted(missing.merged), false);
});

test('create-cwd: a working directory under a file fails, naming the file', async (t) => {
  const o = overlayBundle(t, ['/bin/pwd'], (spec) => {
    spec.process!.cwd = '/etc/passwd/sub';
    spec.annotations = { [CREATE_CWD_ANNOTATION]: 'true' };
  });
  const { dir, cleanup: removeDir } = tempDir('skiff-monitor-');
  t.after(removeDir);
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: o.bundle.dir, monitor: { dir }, rootfsMounts: o.mounts }),
    (err) => {
      assert.match((err as Error).message, /mkdir-cwd|`\/etc\/passwd` is not a directory/);
      assert.match((err as Error).message, /`\/etc\/passwd` is not a directory: ENOTDIR/);
      return true;
    },
  );
  assert.equal(mounted(o.merged), false);
});
