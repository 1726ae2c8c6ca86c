// Interop with podman through a real registry (Debian's docker-registry on a free 127.0.0.1 port):
// an image pushed by `podman push` is pulled by skiff and runs; an image pushed by `skiff push` is
// pulled by podman and runs there (podman with --runtime runc, --network none, a throw-away store
// that `system reset` empties after the test).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { engineEnv } from '../helpers/engine.ts';
import { startRegistry } from '../helpers/registry.ts';
import { makeRootfs, tempDir } from '../helpers/rootfs.ts';

/** Podman (runc, cgroupfs, vfs) in a temporary store; everything it made is reset after the test. */
function throwAwayPodman(t: { after: (fn: () => void) => void }) {
  const work = tempDir('skiff-interop-');
  const conf = path.join(work.dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n');
  const base = [
    '--root',
    path.join(work.dir, 'storage'),
    '--runroot',
    path.join(work.dir, 'run'),
    '--storage-driver',
    'vfs',
    '--cgroup-manager',
    'cgroupfs',
    '--tmpdir',
    path.join(work.dir, 'tmp'),
    '--network-config-dir',
    path.join(work.dir, 'networks'),
    '--volumepath',
    path.join(work.dir, 'volumes'),
    '--events-backend',
    'none',
    '--runtime',
    'runc',
  ];
  const podman = (args: string[]) =>
    spawnSync('podman', [...base, ...args], {
      encoding: 'utf8',
      env: { ...process.env, CONTAINERS_CONF: conf },
      timeout: 120_000,
    });
  t.after(() => {
    podman(['rm', '--all', '--force']);
    podman(['system', 'reset', '--force']);
    work.cleanup();
  });
  return { podman, dir: work.dir };
}

test('registry interop with podman', async (t) => {
  const registry = await startRegistry(t);
  const { podman, dir } = throwAwayPodman(t);
  const e = await engineEnv(t);

  await t.test('an image pushed by podman is pulled by skiff and runs', () => {
    const rootfs = makeRootfs(path.join(dir, 'rootfs'));
    const tar = path.join(dir, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
    const imported = podman(['import', tar, 'localhost/interop:1']);
    assert.equal(imported.status, 0, imported.stderr);
    const ref = `${registry.host}/from-podman:1`;
    const pushed = podman(['push', '--tls-verify=false', 'localhost/interop:1', `docker://${ref}`]);
    assert.equal(pushed.status, 0, pushed.stderr);
    const pulled = e.skiff(['pull', ref]);
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.match(pulled.stdout, /^Digest: sha256:[0-9a-f]{64}$/m);
    const r = e.skiff(['run', '--rm', '--network', 'none', ref, 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  await t.test('an image pushed by skiff is pulled by podman and runs', () => {
    const ref = `${registry.host}/from-skiff:1`;
    const tagged = e.skiff(['tag', 'busybox:latest', ref]);
    assert.equal(tagged.status, 0, tagged.stderr);
    const pushed = e.skiff(['push', ref]);
    assert.equal(pushed.status, 0, pushed.stderr);
    const pulled = podman(['pull', '-q', '--tls-verify=false', ref]);
    assert.equal(pulled.status, 0, pulled.stderr);
    const r = podman(['run', '--rm', '--network', 'none', ref, 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });
});
