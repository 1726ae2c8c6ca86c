// Volumes as the engine uses them (as root: owners are kept): copy-up from an image's tree into a new
// volume, in-use refusal and prune driven by the containers' recorded mounts.
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import {
  copyUpVolumes,
  enginePaths,
  openEngineDb,
  type ResolvedMount,
  resolveMounts,
  VolumeStore,
} from '../../../src/engine/index.ts';
import type { Mount } from '../../../src/oci/index.ts';

import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { hostMountsMentioning } from '../../helpers/host.ts';

const isRoot = process.getuid?.() === 0;

interface Ctx {
  after: (fn: () => void) => void;
}

function setup(t: Ctx) {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-volumes-'));
  const store = VolumeStore.open(enginePaths(root, path.join(root, 'run')));
  t.after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, store, rootfs: path.join(root, 'rootfs') };
}

/** An image's tree: /srv/data with owners, modes, a setuid file, links in and out, a hard link. */
function makeRootfs(rootfs: string): void {
  mkdirSync(path.join(rootfs, 'srv', 'data', 'sub'), { recursive: true });
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc', 'motd'), 'inside\n');
  const data = path.join(rootfs, 'srv', 'data');
  chownSync(data, 1000, 2000);
  chmodSync(data, 0o750);
  writeFileSync(path.join(data, 'conf'), 'hello\n');
  chownSync(path.join(data, 'conf'), 1001, 1002);
  chmodSync(path.join(data, 'conf'), 0o640);
  writeFileSync(path.join(data, 'tool'), '#!/bin/sh\n');
  chownSync(path.join(data, 'tool'), 0, 0);
  chmodSync(path.join(data, 'tool'), 0o4755);
  chmodSync(path.join(data, 'sub'), 0o1777);
  symlinkSync('/etc/shadow', path.join(data, 'escape'));
  symlinkSync('conf', path.join(data, 'relative'));
  lchownSync(path.join(data, 'relative'), 1003, 1003);
  // The image's /data is a link to /srv/data; /up climbs past the root, which stops at the root.
  symlinkSync('/srv/data', path.join(rootfs, 'data'));
  symlinkSync('../../../../../../etc', path.join(rootfs, 'up'));
}

function addContainer(root: string, id: string, mounts: ResolvedMount[]): void {
  const db = openEngineDb(root);
  db.prepare(
    `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts)
     VALUES (?, ?, 'img', 'sha256:x', '2026-01-01T00:00:00Z', 'created', '{}', '{}', ?)`,
  ).run(id, `c-${id.slice(0, 8)}`, JSON.stringify(mounts));
  db.close();
}

test('copy-up copies the image tree at the mount point once: owners, modes, links kept', {
  skip: !isRoot,
}, async (t) => {
  const { root, store, rootfs } = setup(t);
  makeRootfs(rootfs);
  const mounts = await resolveMounts(store, { Binds: ['appdata:/data'] }, { '/up': {} }, 'a'.repeat(64));
  assert.deepEqual(
    mounts.map((m) => [m.destination, m.copyUp]),
    [
      ['/data', true],
      ['/up', true],
    ],
  );
  await copyUpVolumes(store, mounts, rootfs);
  const vol = store.get('appdata');
  assert.equal(vol.populated, true);
  const d = vol.mountpoint;
  // The volume's root takes the owner and mode of the image's directory.
  assert.deepEqual([statSync(d).uid, statSync(d).gid, statSync(d).mode & 0o7777], [1000, 2000, 0o750]);
  const conf = statSync(path.join(d, 'conf'));
  assert.deepEqual([conf.uid, conf.gid, conf.mode & 0o7777], [1001, 1002, 0o640]);
  assert.equal(readFileSync(path.join(d, 'conf'), 'utf8'), 'hello\n');
  assert.equal(statSync(path.join(d, 'tool')).mode & 0o7777, 0o4755);
  assert.equal(statSync(path.join(d, 'sub')).mode & 0o7777, 0o1777);
  // Links stay links: the one pointing out of the rootfs is never followed (host /etc/shadow).
  assert.ok(lstatSync(path.join(d, 'escape')).isSymbolicLink());
  assert.equal(readlinkSync(path.join(d, 'escape')), '/etc/shadow');
  assert.ok(lstatSync(path.join(d, 'relative')).isSymbolicLink());
  assert.equal(lstatSync(path.join(d, 'relative')).uid, 1003);
  // /up resolved inside the rootfs: the image's /etc, not the host's.
  const up = mounts.find((m) => m.destination === '/up')!;
  assert.equal(readFileSync(path.join(up.source, 'motd'), 'utf8'), 'inside\n');
  assert.ok(!existsSync(path.join(up.source, 'passwd')));

  // A second container: the volume is populated, nothing is copied over the user's changes.
  rmSync(path.join(d, 'conf'));
  const again = await resolveMounts(store, { Binds: ['appdata:/data'] }, undefined, 'b'.repeat(64));
  assert.equal(again[0]!.copyUp, false);
  await copyUpVolumes(store, again, rootfs);
  assert.ok(!existsSync(path.join(d, 'conf')));
  assert.ok(existsSync(root));
});

test('nocopy, a missing image path and a non-empty volume copy nothing', { skip: !isRoot }, async (t) => {
  const { store, rootfs } = setup(t);
  makeRootfs(rootfs);
  const mounts = await resolveMounts(
    store,
    { Binds: ['v-nocopy:/data:nocopy', 'v-missing:/nowhere', 'v-full:/srv/data'] },
    undefined,
    'c'.repeat(64),
  );
  writeFileSync(path.join(store.get('v-full').mountpoint, 'mine'), 'x');
  await copyUpVolumes(store, mounts, rootfs);
  assert.deepEqual(readdir(store.get('v-nocopy').mountpoint), []);
  assert.equal(store.get('v-nocopy').populated, false);
  assert.deepEqual(readdir(store.get('v-missing').mountpoint), []);
  assert.equal(store.get('v-missing').populated, false);
  assert.deepEqual(readdir(store.get('v-full').mountpoint), ['mine']);
  assert.equal(store.get('v-full').populated, true);
});

const readdir = (dir: string) => readdirSync(dir).sort();

test('a volume in use is refused removal and survives prune; unused ones go', {
  skip: !isRoot,
}, async (t) => {
  const { root, store } = setup(t);
  const id = 'd'.repeat(64);
  const mounts = await resolveMounts(store, { Binds: ['kept:/k', '/anon'] }, undefined, id);
  addContainer(root, id, mounts);
  const anon = mounts.find((m) => m.anonymous)!.name!;
  const loose = await store.create();
  await store.create({ name: 'named-free' });
  await assert.rejects(
    store.remove('kept'),
    (err: unknown) => err instanceof SkiffError && err.message === `remove kept: volume is in use - [${id}]`,
  );
  const pruned = await store.prune();
  assert.deepEqual(pruned.deleted, [loose.name]);
  const all = await store.prune({ all: true });
  assert.deepEqual(all.deleted, ['named-free']);
  assert.deepEqual(
    store
      .list()
      .map((v) => v.name)
      .sort(),
    [anon, 'kept'].sort(),
  );
  // Once the container's record is gone, so is the refusal.
  const db = openEngineDb(root);
  db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  db.close();
  await store.remove('kept');
  assert.ok(!existsSync(path.join(root, 'volumes', 'kept')));
});

/** The OCI mounts the engine's spec builder makes of resolved mounts (as the test needs them). */
function ociMounts(mounts: readonly ResolvedMount[]): Mount[] {
  return mounts.map((m) =>
    m.type === 'tmpfs'
      ? {
          destination: m.destination,
          type: 'tmpfs',
          source: 'tmpfs',
          options: [...m.options, ...(m.readOnly ? ['ro'] : [])],
        }
      : {
          destination: m.destination,
          type: 'bind',
          source: m.source,
          options: ['rbind', m.propagation ?? 'rprivate', ...(m.readOnly ? ['ro'] : [])],
        },
  );
}

test('a container sees the copied-up volume and its tmpfs; what it writes stays for the next one', {
  skip: !isRoot,
}, async (t) => {
  const { store } = setup(t);
  const { runtime, cleanup } = makeRuntime();
  t.after(cleanup);
  const run = async (script: string, mounts: ResolvedMount[]) => {
    // Docker's default capabilities include CAP_DAC_OVERRIDE (runc spec's do not): root in the
    // container reads the image's 0750 directory as it would under Docker.
    const bundle = makeBundle(['/bin/sh', '-c', script], (spec) => {
      const caps = spec.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted'] as const)
        caps[set] = [...(caps[set] ?? []), 'CAP_DAC_OVERRIDE'];
    });
    t.after(() => bundle.cleanup());
    makeRootfs(bundle.rootfs);
    await copyUpVolumes(store, mounts, bundle.rootfs);
    bundle.spec.mounts = [...(bundle.spec.mounts ?? []), ...ociMounts(mounts)];
    bundle.save();
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout;
  };
  const first = await resolveMounts(
    store,
    { Binds: ['appdata:/srv/data'], Tmpfs: { '/scratch': 'size=1m,mode=1777' } },
    undefined,
    'e'.repeat(64),
  );
  const out = await run(
    'stat -c "%u %g %a" /srv/data /srv/data/conf; cat /srv/data/conf; readlink /srv/data/escape; ' +
      'echo kept > /srv/data/new; grep " /scratch " /proc/mounts',
    first,
  );
  const lines = out.split('\n');
  assert.deepEqual(lines.slice(0, 4), ['1000 2000 750', '1001 1002 640', 'hello', '/etc/shadow']);
  assert.match(lines[4]!, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k /);
  assert.equal(readFileSync(path.join(store.get('appdata').mountpoint, 'new'), 'utf8'), 'kept\n');
  // The next container: no copy over the data (the image's conf was removed by the user meanwhile).
  rmSync(path.join(store.get('appdata').mountpoint, 'conf'));
  const second = await resolveMounts(store, { Binds: ['appdata:/srv/data:ro'] }, undefined, 'f'.repeat(64));
  assert.equal(
    await run('ls /srv/data; touch /srv/data/x 2>/dev/null || echo read-only', second),
    'escape\nnew\nrelative\nsub\ntool\nread-only\n',
  );
  assert.deepEqual(hostMountsMentioning(store.get('appdata').mountpoint), []);
});

test('two containers starting on a new volume at once: one copies, the other finds it claimed', {
  skip: !isRoot,
}, async (t) => {
  const { store, rootfs } = setup(t);
  makeRootfs(rootfs);
  const mounts = await resolveMounts(store, { Binds: ['shared:/srv/data'] }, undefined, 'a'.repeat(64));
  const results = await Promise.all([
    store.copyUp('shared', rootfs, '/srv/data'),
    store.copyUp('shared', rootfs, '/srv/data'),
  ]);
  assert.deepEqual(results.sort(), [false, true]);
  assert.equal(mounts[0]!.copyUp, true);
  assert.equal(readFileSync(path.join(store.get('shared').mountpoint, 'conf'), 'utf8'), 'hello\n');
});
