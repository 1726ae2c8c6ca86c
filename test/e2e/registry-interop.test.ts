// Interop with podman through a real registry (Debian's docker-registry on a free 127.0.0.1 port):
// an image pushed by `podman push` is pulled by skiff and runs; an image pushed by `skiff push` is
// pulled by podman and runs there (podman with --runtime runc, --network none, a throw-away store
// that `system reset` empties after the test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineEnv } from '../helpers/engine.ts';
import { IMAGE, podmanHarness } from '../helpers/podman.ts';
import { startRegistry } from '../helpers/registry.ts';

test('registry interop with podman', async (t) => {
  const registry = await startRegistry(t);
  // Podman with runc here: this test is about the images, not about skiff-runtime under podman.
  const harness = podmanHarness({ runtime: 'runc' });
  t.after(harness.cleanup);
  const { podman } = harness;
  const e = await engineEnv(t);

  await t.test('an image pushed by podman is pulled by skiff and runs', () => {
    const ref = `${registry.host}/from-podman:1`;
    const pushed = podman(['push', '--tls-verify=false', IMAGE, `docker://${ref}`]);
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
