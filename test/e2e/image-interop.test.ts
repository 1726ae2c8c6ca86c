// skiff's archives against podman's: `podman save` (both formats) loads in skiff and unpacks; skiff's
// saveArchive (both formats) loads in podman and runs there (through skiff-runtime, as the harness sets).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  type ArchiveFormat,
  ensureHelloWorld,
  ImageStore,
  LayerStore,
  loadArchive,
  saveArchive,
} from '../../src/image/index.ts';
import { IMAGE, podmanHarness } from '../helpers/podman.ts';

for (const format of ['docker-archive', 'oci-archive'] as ArchiveFormat[]) {
  test(`podman save --format ${format} loads in skiff, and skiff's ${format} loads and runs in podman`, async (t) => {
    const { podman, cleanup } = podmanHarness();
    t.after(cleanup);
    const work = mkdtempSync(path.join(tmpdir(), 'skiff-interop-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const store = await ImageStore.open({ root: path.join(work, 'root') });
    t.after(() => store.close());
    const layers = new LayerStore(store);

    const fromPodman = path.join(work, 'podman.tar');
    const saved = podman(['save', '--format', format, '-o', fromPodman, IMAGE]);
    assert.equal(saved.status, 0, saved.stderr);
    const loaded = await loadArchive(store, fromPodman);
    assert.deepEqual(
      loaded.map((l) => l.names),
      [[IMAGE]],
    );
    const image = store.resolve(IMAGE);
    const dirs = await layers.ensureLayers(image);
    assert.ok(
      dirs.some((d) => existsSync(path.join(d, 'bin/busybox'))),
      'the unpacked rootfs has /bin/busybox',
    );

    const name = `localhost/skiff-saved-${format}:latest`;
    store.tag(IMAGE, name);
    const fromSkiff = path.join(work, 'skiff.tar');
    await saveArchive(store, [name], format, fromSkiff);
    assert.equal(podman(['rmi', '--force', IMAGE]).status, 0);
    const load = podman(['load', '-i', fromSkiff]);
    assert.equal(load.status, 0, load.stderr);
    assert.match(load.stdout, new RegExp(`Loaded image.*${name}`));
    const run = podman(['run', '--rm', name, '/bin/echo', 'hi']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'hi\n');
  });
}

test('the built-in hello-world image runs in podman and greets', async (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const work = mkdtempSync(path.join(tmpdir(), 'skiff-interop-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const store = await ImageStore.open({ root: path.join(work, 'root') });
  t.after(() => store.close());
  await ensureHelloWorld(store);
  const archive = path.join(work, 'hello.tar');
  await saveArchive(store, ['hello-world'], 'oci-archive', archive);
  assert.equal(podman(['load', '-i', archive]).status, 0);
  const run = podman(['run', '--rm', 'docker.io/library/hello-world:latest']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^Hello from skiff!$/m);
});

test('skopeo reads both of skiff’s archive formats, and the archives skopeo copy writes load in skiff', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'skiff-interop-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const store = await ImageStore.open({ root: path.join(work, 'root') });
  t.after(() => store.close());
  const hello = await ensureHelloWorld(store);
  const ociFromSkiff = path.join(work, 'skiff-oci.tar');
  await saveArchive(store, ['hello-world:latest'], 'oci-archive', ociFromSkiff);
  const dockerFromSkiff = path.join(work, 'skiff-docker.tar');
  await saveArchive(store, ['hello-world:latest'], 'docker-archive', dockerFromSkiff);

  // skopeo understands skiff's archives...
  const inspected = execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${dockerFromSkiff}`], {
    encoding: 'utf8',
  });
  assert.equal(JSON.parse(inspected).config.digest, hello.id);
  // ...and rewrites them in the other format, which skiff loads under the new names.
  const viaSkopeo = [
    [`oci-archive:${ociFromSkiff}`, `docker-archive:${path.join(work, 'skopeo-docker.tar')}:copied/docker:1`],
    [`docker-archive:${dockerFromSkiff}`, `oci-archive:${path.join(work, 'skopeo-oci.tar')}:copied/oci:1`],
  ] as const;
  for (const [from, to] of viaSkopeo) execFileSync('skopeo', ['copy', '--quiet', from, to]);
  const fresh = await ImageStore.open({ root: path.join(work, 'fresh') });
  t.after(() => fresh.close());
  const docker = await loadArchive(fresh, path.join(work, 'skopeo-docker.tar'));
  assert.deepEqual(
    docker.map((l) => l.names),
    [['docker.io/copied/docker:1']],
  );
  await loadArchive(fresh, path.join(work, 'skopeo-oci.tar'));
  for (const name of ['copied/docker:1', 'copied/oci:1']) {
    const image = fresh.resolve(name);
    // skopeo re-encodes the config when it converts between formats; skiff writes times as Go does
    // (goTime), so the bytes, and the image ID, stay the same.
    assert.equal(image.id, hello.id, `${name} is the same image`);
    assert.deepEqual(
      image.layers.map((l) => l.diffId),
      hello.layers.map((l) => l.diffId),
      `${name} has hello-world's layers`,
    );
    const dirs = await new LayerStore(fresh).ensureLayers(image);
    assert.ok(existsSync(path.join(dirs.at(-1)!, 'hello')), 'the unpacked layer has /hello');
  }
});
