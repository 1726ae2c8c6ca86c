import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { apply } from '../../../src/image/layer/index.ts';
import {
  type MountSpec,
  mountSnapshot,
  OverlaySnapshotter,
  unmountSnapshot,
} from '../../../src/image/snapshot/index.ts';
import { hostMountsMentioning } from '../../helpers/host.ts';
import { makeTar, streamOf, type TarEntry } from '../../helpers/tar.ts';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const base = mkdtempSync(path.join(tmpdir(), 'skiff-snap-it-'));
after(() => {
  for (const line of hostMountsMentioning(base)) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint) spawnSync('umount', ['-l', mountPoint]);
  }
  rmSync(base, { recursive: true, force: true });
});

/** Layers live as the store keeps them: layers/<chain-id-like 64 hex>/. */
async function layer(entries: TarEntry[]): Promise<string> {
  const tarBuf = await makeTar(entries);
  const dir = path.join(base, 'layers', createHash('sha256').update(tarBuf).digest('hex'));
  mkdirSync(path.dirname(dir), { recursive: true });
  await apply(streamOf(tarBuf), TAR, dir);
  return dir;
}

/** The spec as mount(8) reads it, from the spec's cwd: proves the spec alone is enough. */
function performMount(spec: MountSpec, target: string): void {
  execFileSync('mount', ['-t', spec.type, spec.source, target, '-o', spec.options.join(',')], {
    cwd: spec.cwd ?? '/',
  });
}

function mountPoint(): string {
  const dir = mkdtempSync(path.join(base, 'mnt-'));
  return dir;
}

test('an active snapshot: the merged view hides whiteouts and opaque dirs, and writes land in the upper dir', async () => {
  const lower = await layer([
    { name: 'etc/passwd', content: 'root\n' },
    { name: 'etc/hosts', content: 'hosts\n' },
    { name: 'var/cache/a', content: 'a' },
  ]);
  const upper = await layer([
    { name: 'etc/.wh.hosts', content: '' },
    { name: 'var/cache/.wh..wh..opq', content: '' },
    { name: 'var/cache/b', content: 'b' },
  ]);
  const snapshots = new OverlaySnapshotter(path.join(base, 'snapshots'));
  const [spec] = await snapshots.prepare('c1', [lower, upper]);
  const mnt = mountPoint();
  performMount(spec!, mnt);
  try {
    assert.deepEqual(readdirSync(path.join(mnt, 'etc')), ['passwd']);
    assert.deepEqual(readdirSync(path.join(mnt, 'var/cache')), ['b']);
    writeFileSync(path.join(mnt, 'etc/new'), 'written');
    rmSync(path.join(mnt, 'etc/passwd'));
  } finally {
    execFileSync('umount', [mnt]);
  }
  assert.equal(readFileSync(path.join(snapshots.upperDir('c1'), 'etc/new'), 'utf8'), 'written');
  const whiteout = await lstat(path.join(snapshots.upperDir('c1'), 'etc/passwd'));
  assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0, 'the kernel whited out the lower file');
  assert.equal(
    readFileSync(path.join(lower, 'etc/passwd'), 'utf8'),
    'root\n',
    'the shared layer is untouched',
  );
  await snapshots.remove('c1');
  assert.equal(existsSync(path.join(snapshots.root, 'c1')), false);
  assert.deepEqual(hostMountsMentioning(mnt), []);
});

test('an image with more layers than one page of absolute lowerdirs mounts through short links', async () => {
  const layers: string[] = [];
  for (let i = 0; i < 150; i++) {
    layers.push(
      await layer([
        { name: `f${i}`, content: String(i) },
        { name: 'which', content: String(i) },
      ]),
    );
  }
  const snapshots = new OverlaySnapshotter(path.join(base, 'snapshots-deep'));
  const [spec] = await snapshots.view('deep', layers);
  assert.equal(spec!.cwd, snapshots.root, 'absolute paths would not fit');
  const mnt = mountPoint();
  performMount(spec!, mnt);
  try {
    assert.equal(readdirSync(mnt).length, 151);
    assert.equal(readFileSync(path.join(mnt, 'which'), 'utf8'), '149', 'the top layer wins');
    assert.equal(readFileSync(path.join(mnt, 'f0'), 'utf8'), '0', 'the bottom layer is there');
  } finally {
    execFileSync('umount', [mnt]);
  }
  await snapshots.remove('deep');
});

test('mountSnapshot performs the specs with skiff-mount: an active overlay, a read-only single-layer bind', async () => {
  const bottom = await layer([{ name: 'etc/os-release', content: 'skiff\n' }]);
  const top = await layer([
    { name: 'etc/.wh.os-release', content: '' },
    { name: 'bin/true', content: '' },
  ]);
  const snapshots = new OverlaySnapshotter(path.join(base, 'snapshots-api'));
  const rootfs = mountPoint();
  await mountSnapshot(await snapshots.prepare('c2', [bottom, top]), rootfs);
  try {
    assert.deepEqual(readdirSync(path.join(rootfs, 'etc')), []);
    writeFileSync(path.join(rootfs, 'bin/false'), '');
    assert.ok(existsSync(path.join(snapshots.upperDir('c2'), 'bin/false')));
  } finally {
    await unmountSnapshot(rootfs);
  }
  assert.deepEqual(hostMountsMentioning(rootfs), []);
  const view = mountPoint();
  await mountSnapshot(await snapshots.view('v', [bottom]), view);
  try {
    assert.equal(readFileSync(path.join(view, 'etc/os-release'), 'utf8'), 'skiff\n');
    assert.throws(() => writeFileSync(path.join(view, 'x'), ''), /EROFS/);
  } finally {
    await unmountSnapshot(view);
  }
  await assert.rejects(unmountSnapshot(view), /skiff-mount: umount `.*`: EINVAL/);
  await snapshots.remove('c2');
  await snapshots.remove('v');
});
