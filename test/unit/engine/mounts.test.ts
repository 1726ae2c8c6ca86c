import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import {
  enginePaths,
  openEngineDb,
  type ResolvedMount,
  removeAnonymousVolumes,
  resolveMounts,
  VolumeStore,
} from '../../../src/engine/index.ts';

function tempStore(t: { after: (fn: () => void) => void }): { store: VolumeStore; root: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-mounts-'));
  const store = VolumeStore.open(enginePaths(root, path.join(root, 'run')));
  t.after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { store, root };
}

const ID = 'c'.repeat(64);
const invalid = (message: string | RegExp) => (err: unknown) =>
  err instanceof SkiffError &&
  err.kind === 'InvalidArgument' &&
  (typeof message === 'string' ? err.message === message : message.test(err.message));

test('-v binds: host path, modes, propagation; a missing host directory is created', async (t) => {
  const { store, root } = tempStore(t);
  const host = path.join(root, 'host', 'deep');
  const mounts = await resolveMounts(
    store,
    { Binds: [`${host}:/data:ro,z`, `${root}/:/shared/:rshared`, `${root}:/x:Z,rw`] },
    undefined,
    ID,
  );
  assert.ok(statSync(host).isDirectory());
  assert.equal(statSync(host).mode & 0o777, 0o755);
  assert.deepEqual(mounts, [
    {
      type: 'bind',
      source: host,
      destination: '/data',
      readOnly: true,
      options: [],
      propagation: 'rprivate',
    },
    {
      type: 'bind',
      source: root,
      destination: '/shared',
      readOnly: false,
      options: [],
      propagation: 'rshared',
    },
    { type: 'bind', source: root, destination: '/x', readOnly: false, options: [], propagation: 'rprivate' },
  ] satisfies ResolvedMount[]);
});

test('-v name:/path creates the named volume; anonymous volumes for /path and Config.Volumes', async (t) => {
  const { store } = tempStore(t);
  const mounts = await resolveMounts(
    store,
    { Binds: ['data:/var/lib/data', '/anon'], Tmpfs: { '/run': '' } },
    { '/var/lib/data': {}, '/cache': {}, '/run': {} },
    ID,
  );
  const data = store.get('data');
  assert.equal(data.anonymous, false);
  const byDest = Object.fromEntries(mounts.map((m) => [m.destination, m]));
  assert.deepEqual(Object.keys(byDest), ['/anon', '/run', '/cache', '/var/lib/data']);
  assert.deepEqual(byDest['/var/lib/data'], {
    type: 'volume',
    source: data.mountpoint,
    destination: '/var/lib/data',
    readOnly: false,
    options: [],
    name: 'data',
    copyUp: true,
  });
  for (const dest of ['/anon', '/cache']) {
    const m = byDest[dest]!;
    assert.equal(m.type, 'volume');
    assert.equal(m.anonymous, true);
    assert.match(m.name!, /^[0-9a-f]{64}$/);
    assert.equal(m.source, store.get(m.name!).mountpoint);
  }
  // The image's /run is a tmpfs here: the explicit mount wins.
  assert.equal(byDest['/run']!.type, 'tmpfs');
  assert.equal(store.list().length, 3);
});

test('nocopy and --mount VolumeOptions.NoCopy turn copy-up off; labels go to a new volume', async (t) => {
  const { store } = tempStore(t);
  const mounts = await resolveMounts(
    store,
    {
      Binds: ['v1:/a:nocopy,ro'],
      Mounts: [
        { Type: 'volume', Source: 'v2', Target: '/b', VolumeOptions: { NoCopy: true, Labels: { x: 'y' } } },
        { Type: 'volume', Source: 'v3', Target: '/c', ReadOnly: true },
      ],
    },
    undefined,
    ID,
  );
  assert.deepEqual(
    mounts.map((m) => [m.destination, m.copyUp, m.readOnly]),
    [
      ['/a', false, true],
      ['/b', false, false],
      ['/c', true, true],
    ],
  );
  assert.deepEqual(store.get('v2').labels, { x: 'y' });
  assert.equal(mounts[2]!.name, 'v3');
});

test('--mount bind needs an existing source; propagation from BindOptions', async (t) => {
  const { store, root } = tempStore(t);
  const missing = path.join(root, 'missing');
  await assert.rejects(
    resolveMounts(store, { Mounts: [{ Type: 'bind', Source: missing, Target: '/m' }] }, undefined, ID),
    invalid(`invalid mount config for type "bind": bind mount source path does not exist: ${missing}`),
  );
  assert.ok(!existsSync(missing));
  const [m] = await resolveMounts(
    store,
    {
      Mounts: [
        { Type: 'bind', Source: root, Target: '/m', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
      ],
    },
    undefined,
    ID,
  );
  assert.deepEqual(m, {
    type: 'bind',
    source: root,
    destination: '/m',
    readOnly: true,
    options: [],
    propagation: 'rslave',
  });
});

test('tmpfs from --tmpfs and --mount: Docker defaults merged with the options given', async (t) => {
  const { store } = tempStore(t);
  const mounts = await resolveMounts(
    store,
    {
      Tmpfs: { '/run': 'size=64m,mode=1777', '/exec': 'exec,ro' },
      Mounts: [
        {
          Type: 'tmpfs',
          Target: '/t',
          TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o700, Options: [['exec']] },
        },
      ],
    },
    undefined,
    ID,
  );
  assert.deepEqual(mounts, [
    {
      type: 'tmpfs',
      source: '',
      destination: '/t',
      readOnly: false,
      options: ['nosuid', 'nodev', 'mode=700', 'size=64m', 'exec'],
    },
    {
      type: 'tmpfs',
      source: '',
      destination: '/run',
      readOnly: false,
      options: ['noexec', 'nosuid', 'nodev', 'size=64m', 'mode=1777'],
    },
    { type: 'tmpfs', source: '', destination: '/exec', readOnly: true, options: ['nosuid', 'nodev', 'exec'] },
  ]);
  await assert.rejects(
    resolveMounts(store, { Tmpfs: { '/x': 'mode=999' } }, undefined, ID),
    invalid(/mode must be octal/),
  );
});

test('errors: bad specs, relative or root destinations, duplicates, bad modes, bad names', async (t) => {
  const { store } = tempStore(t);
  const cases: [Parameters<typeof resolveMounts>[1], string | RegExp][] = [
    [{ Binds: ['/a:/b:/c:/d'] }, "invalid volume specification: '/a:/b:/c:/d'"],
    [{ Binds: [':/b'] }, "invalid volume specification: ':/b'"],
    [{ Binds: ['/foo:rw'] }, "invalid volume specification: '/foo:rw'"],
    [{ Binds: ['/a:/b:xx'] }, 'invalid mode: xx'],
    [{ Binds: ['/a:/b:ro,rw'] }, 'invalid mode: ro,rw'],
    [{ Binds: ['/a:rel'] }, /mount path must be absolute/],
    [
      { Binds: ['/a:/'] },
      `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
    ],
    [{ Binds: ['/'] }, /^invalid volume specification: '\/': .*destination can't be '\/'$/],
    [
      { Binds: ['/a:rel'] },
      `invalid volume specification: '/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`,
    ],
    [
      { Binds: ['v1:/x:rshared'] },
      `invalid volume specification: 'v1:/x:rshared': invalid mount config for type "volume": field BindOptions must not be specified`,
    ],
    [
      { Mounts: [{ Type: 'volume', Target: '/a', ReadOnly: true }] },
      /must not set ReadOnly mode when using anonymous volumes/,
    ],
    [
      { Mounts: [{ Type: 'tmpfs', Target: '/a', TmpfsOptions: { Options: [['suid']] } }] },
      /invalid option: suid/,
    ],
    [{ Binds: ['/a:/x', 'v1:/x/'] }, 'Duplicate mount point: /x'],
    [{ Binds: ['/a:/x'], Tmpfs: { '/x': '' } }, 'Duplicate mount point: /x'],
    [{ Binds: ['/a:/x:nocopy'] }, /field VolumeOptions must not be specified/],
    [{ Binds: ['./rel:/x'] }, /includes invalid characters for a local volume name/],
    [
      { Mounts: [{ Type: 'bind', Source: '/a' }] },
      'invalid mount config for type "bind": field Target must not be empty',
    ],
    [
      { Mounts: [{ Type: 'bind', Target: '/a' }] },
      'invalid mount config for type "bind": field Source must not be empty',
    ],
    [
      { Mounts: [{ Type: 'tmpfs', Source: 'x', Target: '/a' }] },
      /type "tmpfs": field Source must not be specified/,
    ],
    [
      { Mounts: [{ Type: 'volume', Target: '/a', BindOptions: {} }] },
      /field BindOptions must not be specified/,
    ],
    [
      { Mounts: [{ Type: 'npipe', Target: '/a' }] },
      'invalid mount config for type "npipe": mount type unknown',
    ],
    [
      { Mounts: [{ Type: 'bind', Source: '/', Target: '/a', BindOptions: { Propagation: 'weird' } }] },
      /invalid propagation mode: weird/,
    ],
  ];
  for (const [hostConfig, message] of cases)
    await assert.rejects(
      resolveMounts(store, hostConfig, undefined, ID),
      invalid(message),
      JSON.stringify(hostConfig),
    );
  await assert.rejects(resolveMounts(store, {}, ['relative'], ID), invalid(/mount path must be absolute/));
  // Nothing was created for the refused configurations.
  assert.deepEqual(store.list(), []);
});

test('a failure while creating volumes removes the anonymous ones made for the container', async (t) => {
  const { store } = tempStore(t);
  await assert.rejects(
    resolveMounts(
      store,
      {
        Binds: ['/anon'],
        Mounts: [
          { Type: 'volume', Source: 'v9', Target: '/z/z', VolumeOptions: { DriverConfig: { Name: 'nfs' } } },
        ],
      },
      undefined,
      ID,
    ),
    (err: unknown) => err instanceof SkiffError && /plugin "nfs" not found/.test(err.message),
  );
  assert.deepEqual(store.list(), []);
});

test('a bind-type local volume mounts its device directory', async (t) => {
  const { store, root } = tempStore(t);
  await store.create({ name: 'dev1', options: { type: 'none', o: 'bind', device: root } });
  const [m] = await resolveMounts(store, { Binds: ['dev1:/d'] }, undefined, ID);
  assert.deepEqual(m, {
    type: 'volume',
    source: root,
    destination: '/d',
    readOnly: false,
    options: [],
    name: 'dev1',
    copyUp: false,
  });
});

test('a bind-type local volume whose device is gone fails at mount time, naming it', async (t) => {
  const { store, root } = tempStore(t);
  const device = path.join(root, 'gone');
  await store.create({ name: 'dev2', options: { type: 'none', o: 'bind', device } });
  await assert.rejects(
    resolveMounts(store, { Binds: ['dev2:/d'] }, undefined, ID),
    (err: unknown) =>
      err instanceof SkiffError &&
      err.kind === 'FailedPrecondition' &&
      err.message.includes(`mount ${device}:`),
  );
});

test('removeAnonymousVolumes removes the anonymous volumes no other container uses, keeps named ones', async (t) => {
  const { store, root } = tempStore(t);
  const mounts = await resolveMounts(store, { Binds: ['named1:/n', '/a1', '/a2'] }, undefined, ID);
  const [a1, a2] = mounts.filter((m) => m.anonymous).map((m) => m.name!);
  // Another container shares /a2's volume.
  const db = openEngineDb(root);
  db.prepare(
    `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts)
     VALUES (?, 'other', 'img', 'sha256:x', '2026-01-01T00:00:00Z', 'exited', '{}', '{}', ?)`,
  ).run('9'.repeat(64), JSON.stringify(mounts.filter((m) => m.name === a2)));
  db.close();
  assert.deepEqual(await removeAnonymousVolumes(store, mounts), [a1]);
  assert.deepEqual(
    store
      .list()
      .map((v) => v.name)
      .sort(),
    [a2!, 'named1'].sort(),
  );
});
