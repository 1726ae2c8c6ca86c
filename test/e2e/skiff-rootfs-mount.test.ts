// Who mounts a container's rootfs: the shim (host-mount) with its monitor unmounting it at the exit,
// or the engine first when a volume's copy-up must read the image (skiff-mount). Through bin/skiff.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, SKIFF } from '../helpers/engine.ts';
import { eventually, hostMountsMentioning } from '../helpers/host.ts';

const BUSYBOX = 'busybox';

async function env(t: {
  after: (fn: () => void) => void;
}): Promise<EngineEnv & { ok(args: string[]): string }> {
  const e = await engineEnv(t);
  return {
    ...e,
    ok(args) {
      const r = e.skiff(args);
      assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
  };
}

/** Mounts whose mount point is under the engine's containers/ (a container's rootfs). */
function rootfsMounts(root: string): string[] {
  const containers = path.join(root, 'containers');
  return hostMountsMentioning(containers).filter((line) => line.split(' ')[4]?.startsWith(containers));
}

test('run --rm: the rootfs is mounted by the shim and nothing is left mounted after', async (t) => {
  const e = await env(t);
  assert.equal(
    e.ok([
      'run',
      '--rm',
      '--network',
      'none',
      BUSYBOX,
      'sh',
      '-c',
      'grep " / / " /proc/self/mountinfo | grep -c overlay',
    ]),
    '1\n',
  );
  assert.deepEqual(rootfsMounts(e.root), []);
  assert.deepEqual(readdirSync(path.join(e.root, 'containers')), [], 'the container is gone');
});

test('run -w: a missing WorkingDir is made in the container; one under a file is refused by name', async (t) => {
  const e = await env(t);
  assert.equal(
    e.ok(['run', '--rm', '-w', '/new/work/dir', BUSYBOX, 'sh', '-c', 'pwd; stat -c "%a %U" .']),
    '/new/work/dir\n755 root\n',
  );
  assert.equal(
    e.ok([
      'run',
      '--rm',
      '-u',
      'user',
      '-w',
      '/home/user/sub',
      BUSYBOX,
      'sh',
      '-c',
      'pwd; id -u; stat -c %U .',
    ]),
    '/home/user/sub\n1000\nroot\n',
  );
  const refused = e.skiff(['run', '--rm', '-w', '/etc/passwd/sub', BUSYBOX, 'true']);
  assert.equal(refused.status, 125, refused.stderr);
  assert.match(refused.stderr, /`\/etc\/passwd` is not a directory/);
  assert.deepEqual(rootfsMounts(e.root), []);
});

test('run -d and no cleanup run after it: the monitor unmounts the rootfs once the container exited', async (t) => {
  const e = await env(t);
  // The monitor's exit command does nothing here (as when the CLI that should clean up was killed):
  // only the monitor can release the mount.
  const r = spawnSync(SKIFF, ['run', '-d', '--network', 'none', BUSYBOX, 'sh', '-c', 'sleep 1'], {
    env: { ...e.env, SKIFF_CLI: '/bin/true' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const id = r.stdout.trim();
  assert.equal(rootfsMounts(e.root).length, 1, 'mounted while it runs');
  const exitFile = path.join(e.runroot, 'shims', id, 'exit');
  assert.ok(await eventually(() => existsSync(exitFile), 10_000), 'the exit is recorded');
  // The monitor unmounts before it writes the exit record: no other command has run.
  assert.deepEqual(rootfsMounts(e.root), []);
  assert.match(e.ok(['ps', '-a', '--format', '{{.Status}}']), /^Exited \(0\)/);
});

test('a volume copy-up: the engine mounts the rootfs first, and the next run goes through the shim', async (t) => {
  const e = await env(t);
  e.ok(['volume', 'create', 'etcvol']);
  // First use: the image's /etc is copied into the empty volume (needs the rootfs mounted by the engine).
  assert.match(e.ok(['run', '--rm', '-v', 'etcvol:/etc', BUSYBOX, 'cat', '/etc/passwd']), /^root:x:0:0:/);
  assert.deepEqual(rootfsMounts(e.root), []);
  // Populated now: no copy-up, the shim mounts; the volume's content is what the container sees.
  e.ok(['run', '--rm', '-v', 'etcvol:/etc', BUSYBOX, 'sh', '-c', 'echo kept > /etc/marker']);
  assert.equal(e.ok(['run', '--rm', '-v', 'etcvol:/etc', BUSYBOX, 'cat', '/etc/marker']), 'kept\n');
  assert.deepEqual(rootfsMounts(e.root), []);
});
