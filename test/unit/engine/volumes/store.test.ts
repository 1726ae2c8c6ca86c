import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import {
  enginePaths,
  openEngineDb,
  parsePruneFilters,
  parseVolumeFilters,
  VolumeStore,
  validateVolumeName,
} from '../../../../src/engine/index.ts';

function tempStore(t: { after: (fn: () => void) => void }): { store: VolumeStore; root: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-vol-'));
  const store = VolumeStore.open(enginePaths(root, path.join(root, 'run')));
  t.after(() => {
    store.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { store, root };
}

/** A container record whose resolved mounts use the given volumes. */
function addContainer(root: string, id: string, volumes: string[]): void {
  const db = openEngineDb(root);
  const mounts = volumes.map((name) => ({
    type: 'volume',
    source: `/x/${name}`,
    destination: `/${name}`,
    readOnly: false,
    name,
    options: [],
  }));
  db.prepare(
    `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts)
     VALUES (?, ?, 'img', 'sha256:x', '2026-01-01T00:00:00Z', 'exited', '{}', '{}', ?)`,
  ).run(id, `c-${id.slice(0, 8)}`, JSON.stringify(mounts));
  db.close();
}

const kind = (k: string, message?: RegExp) => (err: unknown) =>
  err instanceof SkiffError && err.kind === k && (!message || message.test(err.message));

test('volume names follow Docker: an alphanumeric, then at least one of [a-zA-Z0-9_.-]', () => {
  for (const ok of ['ab', 'data', 'my_vol.1-x', '0a', 'A.b']) validateVolumeName(ok);
  for (const bad of ['a', '', '_ab', '.ab', '-ab', 'a/b', 'a b', 'a:b', 'é1', '/abs'])
    assert.throws(
      () => validateVolumeName(bad),
      kind(
        'InvalidArgument',
        /includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/,
      ),
      bad,
    );
});

test('create makes the record and _data, returns the existing volume on a second create', async (t) => {
  const { store, root } = tempStore(t);
  const v = await store.create({ name: 'data', labels: { a: 'b' } });
  assert.equal(v.name, 'data');
  assert.equal(v.driver, 'local');
  assert.deepEqual(v.labels, { a: 'b' });
  assert.equal(v.anonymous, false);
  assert.equal(v.mountpoint, path.join(root, 'volumes', 'data', '_data'));
  assert.ok(existsSync(v.mountpoint));
  const again = await store.create({ name: 'data', labels: { other: '1' } });
  assert.deepEqual(again, v);
  assert.deepEqual(
    store.list().map((x) => x.name),
    ['data'],
  );
});

test('anonymous volumes get 64-hex names and the anonymous label', async (t) => {
  const { store } = tempStore(t);
  const v = await store.create();
  assert.match(v.name, /^[0-9a-f]{64}$/);
  assert.equal(v.anonymous, true);
  assert.deepEqual(v.labels, { 'com.docker.volume.anonymous': '' });
});

test('create refuses other drivers, unknown options and unsupported local types', async (t) => {
  const { store } = tempStore(t);
  await assert.rejects(
    store.create({ name: 'x1', driver: 'nfs' }),
    kind('NotFound', /^create x1: error looking up volume plugin nfs: plugin "nfs" not found$/),
  );
  await assert.rejects(
    store.create({ name: 'x1', options: { foo: 'bar' } }),
    kind('InvalidArgument', /invalid option key: "foo"/),
  );
  await assert.rejects(
    store.create({ name: 'x1', options: { type: 'ext4', device: '/dev/sda1' } }),
    kind('NotImplemented', /type=ext4/),
  );
  await assert.rejects(
    store.create({ name: 'x1', options: { type: 'none', o: 'bind' } }),
    kind('InvalidArgument', /device/),
  );
  assert.deepEqual(store.list(), []);
  const bind = await store.create({ name: 'b1', options: { type: 'none', o: 'bind', device: '/srv' } });
  assert.deepEqual(bind.options, { type: 'none', o: 'bind', device: '/srv' });
});

test('get and remove of a missing volume use Docker words; rm force ignores it', async (t) => {
  const { store } = tempStore(t);
  assert.throws(() => store.get('nope'), kind('NotFound', /^get nope: no such volume$/));
  await assert.rejects(store.remove('nope'), kind('NotFound', /^get nope: no such volume$/));
  await store.remove('nope', { force: true });
});

test('a volume a container uses is refused removal (even forced) and is not dangling', async (t) => {
  const { store, root } = tempStore(t);
  const used = await store.create({ name: 'used' });
  await store.create({ name: 'free' });
  const id = 'a'.repeat(64);
  addContainer(root, id, ['used']);
  assert.deepEqual(store.usedBy('used'), [id]);
  await assert.rejects(
    store.remove('used'),
    kind('FailedPrecondition', new RegExp(`^remove used: volume is in use - \\[${id}\\]$`)),
  );
  await assert.rejects(store.remove('used', { force: true }), kind('FailedPrecondition'));
  assert.ok(existsSync(used.mountpoint));
  assert.deepEqual(
    store.list({ dangling: true }).map((v) => v.name),
    ['free'],
  );
  assert.deepEqual(
    store.list({ dangling: false }).map((v) => v.name),
    ['used'],
  );
  await store.remove('free');
  assert.equal(store.find('free'), undefined);
  assert.ok(!existsSync(path.join(root, 'volumes', 'free')));
});

test('list filters: name (regexp), label key and key=value, driver', async (t) => {
  const { store } = tempStore(t);
  await store.create({ name: 'web-data', labels: { tier: 'web', keep: '' } });
  await store.create({ name: 'db-data', labels: { tier: 'db' } });
  await store.create({ name: 'cache' });
  const names = (f: string[]) => store.list(parseVolumeFilters(f)).map((v) => v.name);
  assert.deepEqual(names(['name=data']), ['db-data', 'web-data']);
  assert.deepEqual(names(['name=^db']), ['db-data']);
  assert.deepEqual(names(['name=cache', 'name=^web']), ['cache', 'web-data']);
  assert.deepEqual(names(['label=tier']), ['db-data', 'web-data']);
  assert.deepEqual(names(['label=tier=web']), ['web-data']);
  assert.deepEqual(names(['label=tier', 'label=keep']), ['web-data']);
  assert.deepEqual(names(['driver=local', 'dangling=true']), ['cache', 'db-data', 'web-data']);
  assert.throws(() => parseVolumeFilters(['color=red']), kind('InvalidArgument', /^invalid filter 'color'$/));
  assert.throws(
    () => parseVolumeFilters(['dangling=maybe']),
    kind('InvalidArgument', /^Invalid filter 'dangling=maybe'$/),
  );
  assert.throws(() => parseVolumeFilters(['nokey']), kind('InvalidArgument', /expected name=value/));
});

test('prune removes unused anonymous volumes only, or every unused one with all', async (t) => {
  const { store, root } = tempStore(t);
  const anon = await store.create();
  const anonUsed = await store.create();
  await store.create({ name: 'named', labels: { keep: 'yes' } });
  await store.create({ name: 'named2' });
  writeFileSync(path.join(anon.mountpoint, 'f'), 'x'.repeat(1000));
  addContainer(root, 'b'.repeat(64), [anonUsed.name]);
  const first = await store.prune();
  assert.deepEqual(first, { deleted: [anon.name], reclaimed: 1000 });
  assert.ok(!existsSync(anon.mountpoint));
  const second = await store.prune(parsePruneFilters(['label!=keep'], true));
  assert.deepEqual(second.deleted, ['named2']);
  assert.throws(() => parsePruneFilters(['all=1'], true), kind('InvalidArgument', /conflicting options/));
  const third = await store.prune(parsePruneFilters(['all=true']));
  assert.deepEqual(third.deleted, ['named']);
  assert.deepEqual(
    store.list().map((v) => v.name),
    [anonUsed.name],
  );
});

test('prune also deletes data a crashed removal left aside', async (t) => {
  const { store, root } = tempStore(t);
  // A removal by a process that is gone (pid 2^22 + 1 is above the kernel's pid_max).
  const aside = path.join(root, 'volumes', `.removing-old-vol-${2 ** 22 + 1}-1`);
  mkdirSync(path.join(aside, '_data'), { recursive: true });
  const mine = path.join(root, 'volumes', `.removing-busy-${process.pid}-1`);
  mkdirSync(mine, { recursive: true });
  await store.prune();
  assert.ok(!existsSync(aside));
  assert.ok(existsSync(mine));
});
