// The image store over a real content store and SQLite database in a temporary $SKIFF_ROOT, with
// layers made by the host's tar(1) and gzipped by node:zlib.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openDatabase, SkiffError } from '../../../src/common/index.ts';
import {
  chainIds,
  type Digest,
  digestOf,
  hostPlatform,
  ImageStore,
  MediaType,
  type Platform,
} from '../../../src/image/index.ts';
import { runNodeScript } from '../../helpers/host.ts';
import { makeLayer, type TestLayer } from '../../helpers/layers.ts';

interface TestContext {
  after: (fn: () => void) => void;
}

function tempRoot(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openStore(t: TestContext, root = tempRoot(t), platform?: Platform): Promise<ImageStore> {
  const store = await ImageStore.open({ root, ...(platform ? { platform } : {}) });
  t.after(() => store.close());
  return store;
}

/** Ingests layers, config and manifest; returns the manifest's digest and the image ID. */
async function addImage(
  store: ImageStore,
  layers: TestLayer[],
  options: { docker?: boolean; architecture?: string; cmd?: string } = {},
): Promise<{ manifest: Digest; id: Digest; bytes: Buffer }> {
  for (const layer of layers)
    await store.content.ingest([layer.blob], { digest: layer.digest, size: layer.blob.length });
  const architecture = options.architecture ?? hostPlatform().architecture;
  const config = Buffer.from(
    JSON.stringify({
      created: '2026-11-23T00:00:00Z',
      architecture,
      ...(architecture === 'arm64' ? { variant: 'v8' } : {}),
      os: 'linux',
      config: { Cmd: [options.cmd ?? '/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created_by: 'test' })),
    }),
  );
  const configDigest = digestOf(config);
  await store.content.put(config, configDigest);
  const docker = options.docker === true;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      config: {
        mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig,
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({
        mediaType: docker
          ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
          : 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: l.digest,
        size: l.blob.length,
      })),
    }),
  );
  const manifestDigest = digestOf(manifest);
  await store.content.put(manifest, manifestDigest);
  return { manifest: manifestDigest, id: configDigest, bytes: manifest };
}

const kind = (k: string, pattern: RegExp) => (err: unknown) =>
  err instanceof SkiffError && err.kind === k && pattern.test(err.message);

async function blobDigests(store: ImageStore): Promise<Digest[]> {
  return (await store.content.list()).map((b) => b.digest);
}

test('an image put from its manifest resolves by name, tag, digest, ID and short ID', async (t) => {
  const store = await openStore(t);
  const base = makeLayer(t, { 'etc/os-release': 'ID=skiff\n', 'bin/hello': '#!/bin/sh\necho hi\n' });
  const app = makeLayer(t, { 'app/main.txt': 'main\n' });
  const { manifest, id } = await addImage(store, [base, app]);
  const image = await store.putImage(manifest, { names: ['example.com/skiff/test:v1', 'skifftest'] });

  assert.equal(image.id, id);
  assert.equal(image.manifestDigest, manifest);
  assert.deepEqual(image.repoTags, ['docker.io/library/skifftest:latest', 'example.com/skiff/test:v1']);
  assert.deepEqual(image.repoDigests, [
    `docker.io/library/skifftest@${manifest}`,
    `example.com/skiff/test@${manifest}`,
  ]);
  assert.deepEqual(
    image.layers.map((l) => [l.diffId, l.chainId, l.blob.digest]),
    [
      [base.diffId, chainIds([base.diffId])[0], base.digest],
      [app.diffId, chainIds([base.diffId, app.diffId])[1], app.digest],
    ],
  );
  assert.equal(image.os, 'linux');
  assert.equal(image.created, '2026-11-23T00:00:00Z');

  for (const ref of [
    'skifftest',
    'skifftest:latest',
    'docker.io/library/skifftest',
    'example.com/skiff/test:v1',
    `example.com/skiff/test@${manifest}`,
    `example.com/skiff/test:v1@${manifest}`,
    id,
    id.slice(7),
    id.slice(7, 19),
  ])
    assert.equal(store.resolve(ref).id, id, ref);
  assert.throws(
    () => store.resolve('example.com/skiff/test:v2'),
    kind('NotFound', /image example\.com\/skiff\/test:v2 not found/),
  );
  assert.throws(() => store.resolve(`other@${manifest}`), kind('NotFound', /not found/));
  assert.throws(() => store.resolve('Bad:Name'), kind('InvalidArgument', /must be lowercase/));
  assert.deepEqual(
    store.list().map((i) => i.id),
    [id],
  );
});

test('a Docker schema 2 image sharing a base layer; tags move, digests stay, untag', async (t) => {
  const store = await openStore(t);
  const base = makeLayer(t, { 'etc/base': 'base\n' });
  const one = await addImage(store, [base, makeLayer(t, { one: '1' })], { cmd: 'one' });
  const two = await addImage(store, [base, makeLayer(t, { two: '2' })], { docker: true, cmd: 'two' });
  await store.putImage(one.manifest, { names: ['repo/app:stable'] });
  const second = await store.putImage(two.manifest, { names: ['repo/app:stable'] });

  assert.equal(store.resolve('repo/app:stable').id, two.id, 'the tag moved to the newer image');
  assert.equal(
    store.resolve(`repo/app@${one.manifest}`).id,
    one.id,
    'the old digest still names the old image',
  );
  assert.deepEqual(store.resolve(one.id).repoTags, []);
  assert.equal(second.layers[0]!.chainId, store.resolve(one.id).layers[0]!.chainId);
  assert.deepEqual(
    [...store.chainIdsInUse()].sort(),
    [...new Set([...store.resolve(one.id).layers, ...second.layers].map((l) => l.chainId))].sort(),
  );

  const tagged = store.tag(one.id, 'repo/app:old');
  assert.deepEqual(tagged.repoTags, ['docker.io/repo/app:old']);
  assert.throws(
    () => store.tag(one.id, `repo/app@${one.manifest}`),
    kind('InvalidArgument', /cannot name a digest/),
  );
  assert.equal(store.untag('repo/app:old'), 'docker.io/repo/app:old');
  assert.throws(() => store.untag('repo/app:old'), kind('NotFound', /repo\/app:old not found/));
});

test('remove keeps blobs another image uses and deletes the rest; gc collects unreferenced blobs', async (t) => {
  const store = await openStore(t);
  const base = makeLayer(t, { 'etc/base': 'base\n' });
  const ownOne = makeLayer(t, { one: '1' });
  const ownTwo = makeLayer(t, { two: '2' });
  const one = await addImage(store, [base, ownOne], { cmd: 'one' });
  const two = await addImage(store, [base, ownTwo], { cmd: 'two' });
  await store.putImage(one.manifest, { names: ['app:one', 'app:first'] });
  await store.putImage(two.manifest, { names: ['app:two'] });

  // A name of an image with another name only untags.
  assert.deepEqual(store.remove('app:first'), {
    untagged: ['docker.io/library/app:first'],
    deleted: [],
    blobsDeleted: [],
  });
  const removed = store.remove('app:one');
  assert.deepEqual(removed.deleted, [one.id]);
  assert.deepEqual(removed.blobsDeleted.sort(), [one.manifest, one.id, ownOne.digest].sort());
  assert.deepEqual(
    (await blobDigests(store)).sort(),
    [base.digest, ownTwo.digest, two.id, two.manifest].sort(),
  );
  assert.throws(() => store.resolve(one.id), kind('NotFound', /not found/));

  // gc: an unreferenced blob goes, unless it is younger than the grace period (a pull in progress).
  const stray = await store.content.put('stray', digestOf('stray'));
  assert.deepEqual(await store.gc(), []);
  assert.deepEqual(await store.gc({ graceMs: 0 }), [stray.digest]);
  assert.equal(await store.content.exists(base.digest), true);

  store.remove(two.id);
  assert.deepEqual(await blobDigests(store), []);
  assert.deepEqual(store.list(), []);
});

test('removing by ID an image named in several repositories needs force', async (t) => {
  const store = await openStore(t);
  const img = await addImage(store, [makeLayer(t, { f: 'x' })]);
  await store.putImage(img.manifest, { names: ['a/one:1', 'b/two:2'] });
  assert.throws(
    () => store.remove(img.id),
    kind('FailedPrecondition', /referenced in multiple repositories/),
  );
  const result = store.remove(img.id, { force: true });
  assert.deepEqual(result.untagged.filter((r) => r.includes(':') && !r.includes('@')).sort(), [
    'docker.io/a/one:1',
    'docker.io/b/two:2',
  ]);
  assert.deepEqual(await blobDigests(store), []);
});

test('an image index resolves to the entry for the host platform; none matching is a clear error', async (t) => {
  const store = await openStore(t);
  const layer = makeLayer(t, { f: 'x' });
  const native = await addImage(store, [layer], { cmd: 'native' });
  const foreign = await addImage(store, [layer], { architecture: 's390x', cmd: 'foreign' });
  const host = hostPlatform();
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: foreign.manifest,
          size: foreign.bytes.length,
          platform: { os: 'linux', architecture: 's390x' },
        },
        {
          mediaType: MediaType.ociManifest,
          digest: native.manifest,
          size: native.bytes.length,
          platform: host,
        },
      ],
    }),
  );
  const indexDigest = (await store.content.put(index, digestOf(index))).digest;
  const image = await store.putImage(indexDigest, { names: ['multi:1'] });
  assert.equal(image.id, native.id);
  assert.equal(image.manifestDigest, native.manifest);
  assert.equal(store.resolve('multi:1').manifestDigest, native.manifest);
  assert.equal(store.resolve(`multi@${indexDigest}`).id, native.id);

  const riscv = await openStore(t, store.root, { os: 'linux', architecture: 'riscv64' });
  await assert.rejects(
    riscv.putImage(indexDigest),
    kind(
      'NotFound',
      new RegExp(
        `no manifest for platform linux/riscv64 \\(the index offers: linux/s390x, ${host.os}/${host.architecture}`,
      ),
    ),
  );
  // gc leaves the index and the selected manifest; the unselected one is garbage.
  assert.deepEqual(await store.gc({ graceMs: 0 }), [foreign.manifest, foreign.id].sort());
});

test('a missing layer blob refuses the image and records nothing', async (t) => {
  const store = await openStore(t);
  const layer = makeLayer(t, { f: 'x' });
  const img = await addImage(store, [layer]);
  await store.content.delete(layer.digest);
  await assert.rejects(
    store.putImage(img.manifest, { names: ['broken'] }),
    kind('FailedPrecondition', new RegExp(`blob ${layer.digest} is not in the content store`)),
  );
  assert.deepEqual(store.list(), []);
  assert.throws(() => store.resolve('broken'), kind('NotFound', /not found/));
});

test('stores in two roots are independent; two stores on one root share it', async (t) => {
  const a = await openStore(t);
  const b = await openStore(t);
  const layer = makeLayer(t, { f: 'x' });
  const img = await addImage(a, [layer]);
  await a.putImage(img.manifest, { names: ['shared:1'] });
  assert.throws(() => b.resolve('shared:1'), kind('NotFound', /not found/));
  assert.deepEqual(await blobDigests(b), []);

  const again = await openStore(t, a.root);
  assert.equal(again.resolve('shared:1').id, img.id);
  again.tag('shared:1', 'shared:2');
  assert.equal(a.resolve('shared:2').id, img.id);
  assert.deepEqual(readdirSync(a.root).sort(), [
    'blobs',
    'ingest',
    'oci-layout',
    'skiff.db',
    'skiff.db-shm',
    'skiff.db-wal',
  ]);
});

test('the store defaults to $SKIFF_ROOT, and refuses a database written by a newer skiff', async (t) => {
  const root = tempRoot(t);
  const saved = process.env.SKIFF_ROOT;
  process.env.SKIFF_ROOT = root;
  try {
    const store = await ImageStore.open();
    t.after(() => store.close());
    assert.equal(store.root, root);
  } finally {
    if (saved === undefined) delete process.env.SKIFF_ROOT;
    else process.env.SKIFF_ROOT = saved;
  }
  const db = openDatabase(path.join(root, 'skiff.db'));
  db.prepare("INSERT INTO schema_migrations VALUES ('image', 99, 'future', '2030-01-01')").run();
  db.close();
  await assert.rejects(
    ImageStore.open({ root }),
    kind('FailedPrecondition', /`image` is at version 99, newer than this skiff/),
  );
});

const runNode = async (script: string) => (await runNodeScript(script)).trim();

test('processes putting and removing images on one root at once keep it consistent', async (t) => {
  const store = await openStore(t);
  const base = makeLayer(t, { 'etc/base': 'base\n' });
  const drop = await addImage(store, [base, makeLayer(t, { drop: '1' })], { cmd: 'drop' });
  await store.putImage(drop.manifest, { names: ['drop:1'] });
  // As a pull does: lease the blobs of the image to come, then write the ones missing. Without the
  // lease, the removal of `drop` below may delete the shared base layer before `keep` names it.
  const keepLayer = makeLayer(t, { keep: '1' });
  const lease = store.createLease([base.digest, keepLayer.digest]);
  const keep = await addImage(store, [base, keepLayer], { cmd: 'keep' });
  const image = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/image/index.ts')).href;
  const prelude = `import { ImageStore } from ${JSON.stringify(image)};
    const store = await ImageStore.open({ root: ${JSON.stringify(store.root)} });`;
  const put = (n: number) =>
    runNode(
      `${prelude} console.log((await store.putImage(${JSON.stringify(keep.manifest)}, { names: ['keep:${n}'] })).id);`,
    );
  const remove = runNode(`${prelude} console.log(store.remove('drop:1').deleted.join());`);
  // allSettled: every child has exited before the root is removed, even when one fails.
  const settled = await Promise.allSettled([put(1), put(2), remove, put(3)]);
  store.releaseLease(lease);
  const outputs = settled.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)));
  assert.deepEqual(outputs, [keep.id, keep.id, drop.id, keep.id]);
  assert.deepEqual(store.resolve(keep.id).repoTags, [
    'docker.io/library/keep:1',
    'docker.io/library/keep:2',
    'docker.io/library/keep:3',
  ]);
  assert.equal(await store.content.exists(base.digest), true, 'the shared base layer survived the removal');
  assert.equal(await store.content.exists(drop.manifest), false);
  assert.deepEqual(await store.gc({ graceMs: 0 }), [], 'after the lease, the image itself holds its blobs');
  assert.deepEqual(
    store.list().map((i) => i.id),
    [keep.id],
  );
});

test('a lease keeps blobs from gc until it is released or expires', async (t) => {
  const store = await openStore(t);
  const a = await store.content.put('a', digestOf('a'));
  const b = await store.content.put('b', digestOf('b'));
  const lease = store.createLease([a.digest]);
  store.createLease([b.digest], -1); // already expired
  assert.deepEqual(await store.gc({ graceMs: 0 }), [b.digest]);
  assert.equal(await store.content.exists(a.digest), true);
  store.releaseLease(lease);
  assert.deepEqual(await store.gc({ graceMs: 0 }), [a.digest]);
  assert.throws(
    () => store.createLease(['sha256:nope']),
    kind('InvalidArgument', /`sha256:nope` is not a digest/),
  );
  assert.equal(await store.withLease([a.digest], async () => 'ran'), 'ran');
});

test('a manifest whose config size or layer count disagrees is refused, naming both', async (t) => {
  const store = await openStore(t);
  const layer = makeLayer(t, { f: 'x' });
  const img = await addImage(store, [layer]);
  const manifest = JSON.parse((await store.content.readBytes(img.manifest)).toString());
  const put = async (doc: unknown) => {
    const bytes = Buffer.from(JSON.stringify(doc));
    return store.putImage((await store.content.put(bytes, digestOf(bytes))).digest);
  };
  await assert.rejects(
    put({ ...manifest, config: { ...manifest.config, size: manifest.config.size + 1 } }),
    kind('InvalidArgument', /config: sha256:\w+ has \d+ bytes, the descriptor says \d+/),
  );
  await assert.rejects(
    put({ ...manifest, layers: [...manifest.layers, ...manifest.layers] }),
    kind('InvalidArgument', /lists 2 layers but its config has 1 diff_ids/),
  );
  assert.deepEqual(store.list(), []);
});

test('pruning removes dangling images only; name@digest is a name like a tag', async (t) => {
  const store = await openStore(t);
  const base = makeLayer(t, { 'etc/base': 'base\n' });
  const old = await addImage(store, [base, makeLayer(t, { v: '1' })], { cmd: 'v1' });
  const cur = await addImage(store, [base, makeLayer(t, { v: '2' })], { cmd: 'v2' });
  await store.putImage(old.manifest, { names: ['app:latest'] });
  await store.putImage(cur.manifest, { names: ['app:latest'] });
  assert.deepEqual(store.resolve(old.id).repoTags, [], 'the old image is dangling once its tag moved');

  const pruned = store.pruneDangling();
  assert.deepEqual(pruned.deleted, [old.id]);
  assert.deepEqual(pruned.untagged, [`docker.io/library/app@${old.manifest}`]);
  assert.equal(await store.content.exists(base.digest), true);
  assert.deepEqual(store.pruneDangling().deleted, []);

  // As Docker: removing one name of an image that keeps another only untags it.
  assert.deepEqual(store.remove(`app@${cur.manifest}`), {
    untagged: [`docker.io/library/app@${cur.manifest}`],
    deleted: [],
    blobsDeleted: [],
  });
  assert.deepEqual(store.remove('app').deleted, [cur.id]);
  assert.deepEqual(await blobDigests(store), []);
});
