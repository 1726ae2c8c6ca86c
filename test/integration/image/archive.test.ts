// Archives (load/save/import) and the layer store, over real stores in temporary roots.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import {
  collectGarbage,
  ImageStore,
  importRootfs,
  LayerStore,
  loadArchive,
  removeImage,
  saveArchive,
} from '../../../src/image/index.ts';
import {
  configFor,
  dockerArchive,
  layerOf,
  ociArchive,
  sha256,
  type TestImage,
} from '../../helpers/archive.ts';
import { makeTar, streamOf } from '../../helpers/tar.ts';

interface TestContext {
  after: (fn: () => void) => void;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-archive-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openStores(t: TestContext): Promise<{ store: ImageStore; layers: LayerStore; root: string }> {
  const root = tempDir(t);
  const store = await ImageStore.open({ root });
  t.after(() => store.close());
  return { store, layers: new LayerStore(store), root };
}

async function twoImages(): Promise<TestImage[]> {
  const base = await layerOf({ 'etc/os-release': 'base\n', 'bin/tool': 'tool' });
  const a = await layerOf({ 'a.txt': 'a' });
  const b = await layerOf({ 'b.txt': 'b' });
  return [
    { layers: [base, a], config: configFor([base, a], ['/a']), name: 'localhost/a:1' },
    { layers: [base, b], config: configFor([base, b], ['/b']), name: 'localhost/b:1' },
  ];
}

/** What must not change when a load fails. */
async function storeState(store: ImageStore, root: string) {
  const tmp = path.join(root, 'tmp');
  return {
    images: store.list().map((i) => i.id),
    blobs: (await store.content.list()).map((b) => b.digest).sort(),
    tmp: existsSync(tmp) ? readdirSync(tmp) : [],
  };
}

async function tarNames(file: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      names.push(entry.header.name);
      entry.resume();
    }
  })();
  extract.end(readFileSync(file));
  await done;
  return names;
}

test('ensureLayers unpacks each layer once into layers/<chain-id>, shared by the images that have it', async (t) => {
  const { store, layers } = await openStores(t);
  const loaded = await loadArchive(store, streamOf(await ociArchive(await twoImages())));
  assert.deepEqual(
    loaded.map((l) => l.names),
    [['localhost/a:1'], ['localhost/b:1']],
  );
  const a = store.resolve('localhost/a:1');
  const b = store.resolve('localhost/b:1');
  const dirsA = await layers.ensureLayers(a);
  const baseIno = statSync(dirsA[0]!).ino;
  const dirsB = await layers.ensureLayers(b);
  assert.equal(dirsA[0], dirsB[0], 'the base layer is shared');
  assert.equal(statSync(dirsB[0]!).ino, baseIno, 'and not unpacked again');
  assert.equal(path.basename(dirsA[1]!), a.layers[1]!.chainId.slice(7));
  assert.equal(readFileSync(path.join(dirsA[0]!, 'etc/os-release'), 'utf8'), 'base\n');
  assert.equal(readFileSync(path.join(dirsB[1]!, 'b.txt'), 'utf8'), 'b');
  assert.equal((await layers.list()).length, 3);
  // Again: nothing to do, same dirs.
  assert.deepEqual(await layers.ensureLayers(a), dirsA);

  const removedA = await removeImage(layers, 'localhost/a:1');
  assert.deepEqual(removedA.layersRemoved, [a.layers[1]!.chainId]);
  assert.ok(existsSync(dirsA[0]!), 'the base layer stays while b uses it');
  assert.ok(!existsSync(dirsA[1]!));
  const removedB = await removeImage(layers, 'localhost/b:1');
  assert.deepEqual(removedB.layersRemoved.sort(), [b.layers[0]!.chainId, b.layers[1]!.chainId].sort());
  assert.deepEqual(await layers.list(), []);
});

test('ensureLayers refuses a layer blob that does not match its diffID and leaves no layer dir', async (t) => {
  const { store, layers } = await openStores(t);
  const [image] = await loadArchive(store, streamOf(await ociArchive([(await twoImages())[0]!])));
  const resolved = store.resolve(image!.id);
  // Corrupt the top layer's blob behind the content store's back (a bad disk, say).
  writeFileSync(store.content.blobPath(resolved.layers[1]!.blob.digest), await layerOf({ 'evil.txt': 'x' }));
  await assert.rejects(layers.ensureLayers(resolved), /unpack layer sha256:[0-9a-f]{64}.*diffID is sha256:/);
  assert.deepEqual(await layers.list(), [resolved.layers[0]!.chainId]);
  assert.deepEqual(
    readdirSync(layers.root).filter((n) => n.startsWith('.')),
    [],
    'no temporary unpack dir is left',
  );
});

for (const format of ['docker-archive', 'oci-archive'] as const) {
  test(`saveArchive ${format}: several images, each layer written once, loads into a fresh store`, async (t) => {
    const { store } = await openStores(t);
    await loadArchive(store, streamOf(await dockerArchive(await twoImages())));
    const file = path.join(tempDir(t), 'out.tar');
    await saveArchive(store, ['localhost/a:1', 'localhost/b:1'], format, file);
    const names = await tarNames(file);
    const base = store.resolve('localhost/a:1').layers[0]!;
    const baseName =
      format === 'docker-archive'
        ? `${base.diffId.slice(7)}/layer.tar`
        : `blobs/sha256/${base.blob.digest.slice(7)}`;
    assert.equal(names.filter((n) => n === baseName).length, 1, `${baseName} once in ${names.join(' ')}`);
    const fresh = await openStores(t);
    const loaded = await loadArchive(fresh.store, file);
    assert.deepEqual(
      loaded.flatMap((l) => l.names),
      ['localhost/a:1', 'localhost/b:1'],
    );
    for (const name of ['localhost/a:1', 'localhost/b:1'])
      assert.equal(fresh.store.resolve(name).id, store.resolve(name).id, 'the same config, so the same ID');
    const dirs = await fresh.layers.ensureLayers(fresh.store.resolve('localhost/b:1'));
    assert.equal(readFileSync(path.join(dirs[1]!, 'b.txt'), 'utf8'), 'b');
  });
}

test('gzip and zstd compressed archives are recognized by their magic bytes', async (t) => {
  const { store } = await openStores(t);
  const images = await twoImages();
  const [g] = await loadArchive(store, streamOf(gzipSync(await ociArchive([images[0]!]))));
  const [z] = await loadArchive(store, streamOf(zstdCompressSync(await dockerArchive([images[1]!]))));
  assert.deepEqual(g!.names, ['localhost/a:1']);
  assert.deepEqual(z!.names, ['localhost/b:1']);
});

test('a docker-archive whose layer.tar entries are symlinks (as podman writes them) loads', async (t) => {
  const { store } = await openStores(t);
  const [image] = await twoImages();
  const base = image!.layers[0]!;
  const top = image!.layers[1]!;
  const config = `${sha256(image!.config).slice(7)}.json`;
  const archive = await makeTar([
    { name: `${sha256(base).slice(7)}.tar`, content: base },
    { name: 'l1/', type: 'directory' },
    { name: 'l1/layer.tar', type: 'symlink', linkname: `../${sha256(base).slice(7)}.tar` },
    { name: 'l2.tar', content: top },
    { name: 'l2/layer.tar', type: 'link', linkname: 'l2.tar' },
    { name: config, content: image!.config },
    {
      name: 'manifest.json',
      content: JSON.stringify([
        { Config: config, RepoTags: ['a:1'], Layers: ['l1/layer.tar', 'l2/layer.tar'] },
      ]),
    },
  ]);
  const [loaded] = await loadArchive(store, streamOf(archive));
  assert.deepEqual(loaded!.names, ['docker.io/library/a:1']);
});

test('the Docker 25+ docker-archive layout (blobs/sha256/, index.json beside manifest.json) with a gzip layer loads', async (t) => {
  const { store, layers, root } = await openStores(t);
  const [image] = await twoImages();
  const [base, top] = image!.layers;
  const topGz = gzipSync(top!);
  const blob = (b: Buffer) => `blobs/sha256/${sha256(b).slice(7)}`;
  const archive = await makeTar([
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    { name: blob(base!), content: base! },
    { name: blob(topGz), content: topGz },
    { name: blob(image!.config), content: image!.config },
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests: [] }) },
    {
      name: 'manifest.json',
      content: JSON.stringify([
        { Config: blob(image!.config), RepoTags: ['example.com/x/y:2'], Layers: [blob(base!), blob(topGz)] },
      ]),
    },
  ]);
  const [loaded] = await loadArchive(store, streamOf(archive));
  assert.deepEqual(loaded!.names, ['example.com/x/y:2']);
  const resolved = store.resolve('example.com/x/y:2');
  assert.equal(resolved.layers[1]!.blob.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
  assert.equal(resolved.layers[1]!.blob.digest, sha256(topGz));
  const dirs = await layers.ensureLayers(resolved);
  assert.equal(readFileSync(path.join(dirs[1]!, 'a.txt'), 'utf8'), 'a');
  // A blob named by a digest its content does not have is refused.
  const renamed = await makeTar([
    { name: blob(base!), content: top! },
    { name: 'c.json', content: image!.config },
    {
      name: 'manifest.json',
      content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: [blob(base!), blob(top!)] }]),
    },
  ]);
  await assert.rejects(loadArchive(store, streamOf(renamed)), /holds content with digest/);
  // collectGarbage leaves a fresh temp area alone and clears a stale one.
  mkdirSync(path.join(root, 'tmp', 'load-crashed'), { recursive: true });
  await collectGarbage(layers, { graceMs: 60_000 });
  assert.ok(existsSync(path.join(root, 'tmp', 'load-crashed')));
  await collectGarbage(layers, { graceMs: 0 });
  assert.deepEqual(readdirSync(path.join(root, 'tmp')), []);
  assert.equal((await layers.list()).length, 2, 'the image still uses its layers');
});

test('hostile or broken archives are refused with a clear error and leave the store as it was', async (t) => {
  const { store, root } = await openStores(t);
  await loadArchive(store, streamOf(await ociArchive([(await twoImages())[0]!])));
  const before = await storeState(store, root);
  const [good] = await twoImages();
  const other = await layerOf({ 'x.txt': 'x' });
  const outside = path.join(path.dirname(root), `skiff-archive-escape-${process.pid}`);
  const goodDocker = await dockerArchive([good!]);
  const cases: [string, Buffer, RegExp][] = [
    [
      'a `..` entry',
      await ociArchive([good!], [{ name: `../${path.basename(outside)}`, content: 'x' }]),
      /climbs out with `\.\.`/,
    ],
    [
      'an absolute entry',
      await ociArchive([good!], [{ name: outside, content: 'x' }]),
      /is an absolute path/,
    ],
    [
      'a symlink out of the archive',
      await makeTar([
        {
          name: 'manifest.json',
          content: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: [] }]),
        },
        { name: 'c.json', type: 'symlink', linkname: '../../../../etc/passwd' },
      ]),
      /link `c.json` points out of the archive/,
    ],
    [
      'a device entry',
      await ociArchive([good!], [{ name: 'dev', type: 'character-device', devmajor: 1, devminor: 3 }]),
      /is a character-device/,
    ],
    [
      'a missing blob',
      await ociArchive([good!], [], [sha256(good!.layers[1]!)]),
      /blob sha256:[0-9a-f]+ is missing from the archive/,
    ],
    [
      'a blob whose content does not match its digest',
      await makeTar([
        { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
        {
          name: 'index.json',
          content: JSON.stringify({
            schemaVersion: 2,
            manifests: [
              { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256('good'), size: 4 },
            ],
          }),
        },
        { name: `blobs/sha256/${sha256('good').slice(7)}`, content: 'evil' },
      ]),
      /has digest sha256:/,
    ],
    [
      'a docker-archive layer that is not its diffID',
      await dockerArchive([{ ...good!, config: configFor([good!.layers[0]!, other]) }]),
      /has diffID sha256:[0-9a-f]+, its config says/,
    ],
    ['a truncated archive', goodDocker.subarray(0, goodDocker.length - 3000), /truncated|Unexpected end/i],
    [
      'not an archive of images',
      await makeTar([{ name: 'hello', content: 'x' }]),
      /neither a docker-archive/,
    ],
  ];
  await assert.rejects(loadArchive(store, `${outside}.tar`), /open `.*\.tar`: ENOENT/);
  assert.deepEqual(await storeState(store, root), before, 'a missing file: the store is unchanged');
  for (const [what, archive, expected] of cases) {
    await assert.rejects(loadArchive(store, streamOf(archive)), expected, what);
    assert.deepEqual(await storeState(store, root), before, `${what}: the store is unchanged`);
    assert.ok(!existsSync(outside), `${what}: nothing written outside`);
  }
});

test('importRootfs makes a single-layer image with --change instructions and a message', async (t) => {
  const { store, layers } = await openStores(t);
  const rootfs = await layerOf({ 'bin/hello': 'hi', 'etc/motd': 'welcome' });
  const image = await importRootfs(store, streamOf(gzipSync(rootfs)), {
    reference: 'imported:v1',
    changes: ['CMD ["/bin/hello"]', 'ENV GREETING=hi', 'WORKDIR /srv', 'EXPOSE 8080'],
    message: 'from a tarball',
  });
  assert.deepEqual(image.repoTags, ['docker.io/library/imported:v1']);
  assert.equal(image.layers.length, 1);
  assert.equal(image.layers[0]!.diffId, sha256(rootfs), 'the diffID is the plain tar, not the gzip given');
  const config = JSON.parse((await store.content.readBytes(image.id)).toString());
  assert.deepEqual(config.config, {
    Cmd: ['/bin/hello'],
    Env: ['GREETING=hi'],
    WorkingDir: '/srv',
    ExposedPorts: { '8080/tcp': {} },
  });
  assert.equal(config.history[0].comment, 'from a tarball');
  const [dir] = await layers.ensureLayers(image);
  assert.equal(readFileSync(path.join(dir!, 'etc/motd'), 'utf8'), 'welcome');
  await assert.rejects(
    importRootfs(store, streamOf(rootfs), { changes: ['RUN x'] }),
    /`RUN` cannot be changed/,
  );
});

test('saveArchive to a stream by image ID (unnamed), and a missing image fails before any output', async (t) => {
  const { store } = await openStores(t);
  const [loaded] = await loadArchive(store, streamOf(await ociArchive([(await twoImages())[0]!])));
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await saveArchive(store, [loaded!.id.slice(7, 19)], 'docker-archive', sink);
  const fresh = await openStores(t);
  const [again] = await loadArchive(fresh.store, streamOf(Buffer.concat(chunks)));
  assert.equal(again!.id, loaded!.id);
  assert.deepEqual(again!.names, [], 'saved by ID: no name');
  const file = path.join(tempDir(t), 'never.tar');
  await assert.rejects(saveArchive(store, ['localhost/nope:1'], 'oci-archive', file), /not found/);
  assert.ok(!existsSync(file));
  await assert.rejects(saveArchive(store, [], 'oci-archive', file), /no image given/);
});
