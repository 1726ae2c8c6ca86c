import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import { OverlaySnapshotter } from '../../../../src/image/snapshot/index.ts';

const base = mkdtempSync(path.join(tmpdir(), 'skiff-snap-unit-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const snapshotter = () => new OverlaySnapshotter(path.join(base, `root-${++n}`));

test('prepare returns an overlay mount: lowerdir top first, a private upper and work dir', async () => {
  const s = snapshotter();
  const mounts = await s.prepare('c1', ['/l/base', '/l/mid', '/l/top']);
  assert.deepEqual(mounts, [
    {
      type: 'overlay',
      source: 'overlay',
      options: [
        'index=off',
        'lowerdir=/l/top:/l/mid:/l/base',
        `upperdir=${s.root}/c1/upper`,
        `workdir=${s.root}/c1/work`,
      ],
    },
  ]);
  assert.ok(existsSync(`${s.root}/c1/upper`) && existsSync(`${s.root}/c1/work`));
  assert.deepEqual(await s.mounts('c1'), mounts, 'the same mounts again from the record');
});

test('no layers: the upper dir bound read-write; a one-layer view: the layer bound read-only', async () => {
  const s = snapshotter();
  assert.deepEqual(await s.prepare('empty', []), [
    { type: 'bind', source: `${s.root}/empty/upper`, options: ['rbind', 'rw'] },
  ]);
  assert.deepEqual(await s.view('v1', ['/l/only']), [
    { type: 'bind', source: '/l/only', options: ['rbind', 'ro'] },
  ]);
  assert.deepEqual(await s.view('v2', ['/l/a', '/l/b']), [
    { type: 'overlay', source: 'overlay', options: ['index=off', 'lowerdir=/l/b:/l/a'] },
  ]);
  assert.equal(existsSync(`${s.root}/v2/upper`), false);
});

test('bad keys, layer paths that would break the option string, duplicates and unknown keys are refused', async () => {
  const s = snapshotter();
  const kind = (k: string) => (err: unknown) => err instanceof SkiffError && err.kind === k;
  for (const key of ['', '../x', 'a/b', 'l', '.hidden']) {
    await assert.rejects(s.prepare(key, []), kind('InvalidArgument'), key);
  }
  for (const layer of ['relative/dir', '/a:b', '/a,upperdir=/etc', '/a/../b', '/a\\b']) {
    await assert.rejects(s.prepare('k', [layer]), kind('InvalidArgument'), layer);
  }
  await s.prepare('dup', []);
  await assert.rejects(s.prepare('dup', []), kind('AlreadyExists'));
  await assert.rejects(s.mounts('nope'), kind('NotFound'));
  await s.remove('dup');
  await assert.rejects(s.mounts('dup'), kind('NotFound'));
});

test('too many long layer paths for one page of mount data become short relative links under <root>/l/', async () => {
  const s = snapshotter();
  const layers = Array.from(
    { length: 100 },
    (_, i) => `/var/lib/skiff/layers/${String(i).padStart(64, 'f')}`,
  );
  const [mount] = await s.prepare('deep', layers);
  const lowerdir = mount!.options
    .find((o) => o.startsWith('lowerdir='))!
    .slice('lowerdir='.length)
    .split(':');
  assert.equal(lowerdir.length, 100);
  assert.ok(mount!.options.join(',').length < 4096);
  assert.equal(mount!.cwd, s.root, 'relative links: mounted from the root');
  assert.equal(readlinkSync(path.join(s.root, lowerdir[0]!)), layers[99], 'top first');
  assert.equal(readlinkSync(path.join(s.root, lowerdir[99]!)), layers[0]);
  assert.match(lowerdir[0]!, /^l\/[0-9a-f]{12}$/);
  await assert.rejects(
    s.prepare(
      'too-many',
      Array.from({ length: 501 }, (_, i) => `/l/${i}`),
    ),
    /more than overlayfs stacks/,
  );
});
