// The copy snapshotter against overlayfs itself, prepareRootfs, exportRootfs and hello-world, over
// real layer dirs in temporary roots (root: overlay mounts, whiteout devices).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  createSnapshotter,
  ensureHelloWorld,
  exportRootfs,
  ImageStore,
  LayerStore,
  loadArchive,
  mountSnapshot,
  NativeSnapshotter,
  OverlaySnapshotter,
  prepareRootfs,
  unmountSnapshot,
} from '../../../src/image/index.ts';
import { configFor, ociArchive } from '../../helpers/archive.ts';
import { hostMountsMentioning } from '../../helpers/host.ts';
import { makeTar, streamOf } from '../../helpers/tar.ts';

const base = mkdtempSync(path.join(tmpdir(), 'skiff-rootfs-it-'));
after(() => {
  for (const line of hostMountsMentioning(base)) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint) spawnSync('umount', ['-l', mountPoint]);
  }
  rmSync(base, { recursive: true, force: true });
});

async function openStore(): Promise<ImageStore> {
  const store = await ImageStore.open({ root: mkdtempSync(path.join(base, 'root-')) });
  after(() => store.close());
  return store;
}

/** Three layers that exercise every rule: whiteouts, opaque dirs, file↔dir replacement, symlinks. */
async function layeredImage(store: ImageStore): Promise<void> {
  const l1 = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root\n' },
    { name: 'etc/gone', content: 'x' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/old', content: 'old' },
    { name: 'opt/sub/', type: 'directory' },
    { name: 'opt/sub/deep', content: 'deep' },
    { name: 'swap', content: 'file first' },
    { name: 'link', type: 'symlink', linkname: '/etc' },
    { name: 'bin/', type: 'directory' },
    { name: 'bin/tool', content: 'v1', mode: 0o755 },
  ]);
  const l2 = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/.wh..wh..opq' },
    { name: 'opt/new', content: 'new' },
    { name: 'swap/', type: 'directory' },
    { name: 'swap/inside', content: 'dir now' },
    { name: 'link/', type: 'directory' },
    { name: 'link/passwd', content: 'not through the link' },
  ]);
  const l3 = await makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/tool', content: 'v2', mode: 0o700, uid: 1000, gid: 1000 },
    { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
    { name: '.wh.swap' },
  ]);
  await loadArchive(
    store,
    streamOf(
      await ociArchive([
        { layers: [l1, l2, l3], config: configFor([l1, l2, l3]), name: 'localhost/layered:1' },
      ]),
    ),
  );
}

/** Every path with its type, mode, owner, size and content/target, as find(1) sees it. */
function tree(dir: string): string {
  return execFileSync('find', ['.', '-mindepth', '1', '-printf', '%p %y %m %U:%G %s %l\n'], {
    cwd: dir,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .sort()
    .join('\n');
}

test('the native snapshotter copies exactly what overlayfs shows (whiteouts, opaque dirs, replacements)', async () => {
  const store = await openStore();
  await layeredImage(store);
  const dirs = await new LayerStore(store).ensureLayers(store.resolve('localhost/layered:1'));

  const overlay = new OverlaySnapshotter(path.join(store.root, 'snapshots'));
  const ovMounts = await overlay.view('ov', dirs);
  const ovTarget = mkdtempSync(path.join(base, 'mnt-'));
  await mountSnapshot(ovMounts, ovTarget);
  let expected: string;
  try {
    expected = tree(ovTarget);
  } finally {
    await unmountSnapshot(ovTarget, ovMounts.length);
  }

  const native = new NativeSnapshotter(path.join(store.root, 'snapshots-native'));
  const mounts = await native.prepare('copy', dirs);
  assert.deepEqual(mounts, [{ type: 'bind', source: native.rootfsDir('copy'), options: ['rbind', 'rw'] }]);
  const actual = tree(native.rootfsDir('copy'));
  assert.equal(actual, expected);
  assert.match(actual, /^\.\/opt\/new f/m);
  assert.doesNotMatch(actual, /opt\/old|opt\/sub|etc\/gone|swap/);
  assert.match(actual, /^\.\/link d/m, 'the dir replaced the symlink');
  assert.equal(readFileSync('/etc/passwd', 'utf8').includes('not through the link'), false);
  assert.equal(readFileSync(path.join(native.rootfsDir('copy'), 'bin/tool'), 'utf8'), 'v2');
  await native.remove('copy');
  await assert.rejects(native.mounts('copy'), /does not exist/);
});

test('prepareRootfs with SKIFF_SNAPSHOTTER=native: layers ensured, a bind mount of the merged copy', async () => {
  const store = await openStore();
  await layeredImage(store);
  assert.throws(() => createSnapshotter('zfs', store.root), /neither overlay nor native/);
  process.env.SKIFF_SNAPSHOTTER = 'native';
  try {
    const { image, mounts } = await prepareRootfs(store, 'localhost/layered:1', 'ctr1');
    assert.equal(image.layers.length, 3);
    assert.equal(mounts[0]!.type, 'bind');
    const target = mkdtempSync(path.join(base, 'mnt-'));
    await mountSnapshot(mounts, target);
    try {
      assert.equal(readFileSync(path.join(target, 'opt/new'), 'utf8'), 'new');
    } finally {
      await unmountSnapshot(target, mounts.length);
    }
  } finally {
    delete process.env.SKIFF_SNAPSHOTTER;
  }
  const { mounts } = await prepareRootfs(store, 'localhost/layered:1', 'ctr2');
  assert.equal(mounts[0]!.type, 'overlay', 'overlay by default');
});

test('exportRootfs writes the merged view of an image as a tar', async () => {
  const store = await openStore();
  await layeredImage(store);
  const out = path.join(base, 'export.tar');
  await exportRootfs(store, { image: 'localhost/layered:1' }, out);
  const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.ok(
    names.includes('./opt/new') && names.includes('./bin/hard') && names.includes('./link/passwd'),
    names.join(' '),
  );
  assert.ok(
    !names.some((n) => n.includes('.wh.') || n.includes('opt/old') || n.includes('swap')),
    names.join(' '),
  );
  assert.deepEqual(
    execFileSync('ls', [path.join(store.root, 'tmp')], { encoding: 'utf8' }),
    '',
    'no temp left',
  );
});

test('ensureHelloWorld builds hello-world:latest locally once: /hello, Cmd ["/hello"]', async () => {
  const store = await openStore();
  const image = await ensureHelloWorld(store);
  assert.deepEqual(image.repoTags, ['docker.io/library/hello-world:latest']);
  assert.equal((await ensureHelloWorld(store)).id, image.id, 'not rebuilt');
  const config = JSON.parse((await store.content.readBytes(image.id)).toString());
  assert.deepEqual(config.config.Cmd, ['/hello']);
  const [dir] = await new LayerStore(store).ensureLayers(image);
  const out = execFileSync(path.join(dir!, 'hello'), { encoding: 'utf8' });
  assert.match(out, /Hello from skiff!/);
  assert.equal(
    execFileSync('find', [dir!, '-mindepth', '1'], { encoding: 'utf8' }).trim(),
    path.join(dir!, 'hello'),
  );
});
