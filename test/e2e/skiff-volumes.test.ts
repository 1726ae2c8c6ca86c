// `bin/skiff volume …` against a temporary $SKIFF_ROOT: exact output lines and exit codes, as docker's.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { enginePaths, openEngineDb, resolveMounts, VolumeStore } from '../../src/engine/index.ts';
import { type Result, skiffWithRoot, tempEngineRoot } from '../helpers/engine.ts';

const tempRoot = (t: { after: (fn: () => void) => void }) => tempEngineRoot(t, 'skiff-cli-vol-');
const skiff = (root: string, args: string[], input = ''): Result =>
  skiffWithRoot(root, args, { input, timeoutMs: 30_000 });

const lines = (s: string) => s.split('\n').slice(0, -1);
const ok = (r: Result) => {
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

/** A container record using a volume, as the engine writes it after resolveMounts. */
async function useVolume(root: string, id: string, name: string): Promise<void> {
  const store = VolumeStore.open(enginePaths(root, path.join(root, 'run')));
  const mounts = await resolveMounts(store, { Binds: [`${name}:/data`] }, undefined, id);
  store.close();
  const db = openEngineDb(root);
  db.prepare(
    `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts)
     VALUES (?, 'user', 'img', 'sha256:x', '2026-01-01T00:00:00Z', 'exited', '{}', '{}', ?)`,
  ).run(id, JSON.stringify(mounts));
  db.close();
}

test('volume create prints the name; ls lists DRIVER and VOLUME NAME in natural order', (t) => {
  const root = tempRoot(t);
  assert.deepEqual(skiff(root, ['volume', 'ls']), {
    status: 0,
    stdout: 'DRIVER    VOLUME NAME\n',
    stderr: '',
  });
  assert.equal(ok(skiff(root, ['volume', 'create', 'vol10'])), 'vol10\n');
  assert.equal(
    ok(skiff(root, ['volume', 'create', '--name', 'vol9', '--label', 'tier=db', '--label', 'keep'])),
    'vol9\n',
  );
  // Creating an existing volume is no error, as docker.
  assert.equal(ok(skiff(root, ['volume', 'create', 'vol10'])), 'vol10\n');
  const anon = ok(skiff(root, ['volume', 'create'])).trim();
  assert.match(anon, /^[0-9a-f]{64}$/);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls']))), [
    'DRIVER    VOLUME NAME',
    `local     ${anon}`,
    'local     vol9',
    'local     vol10',
  ]);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'list', '-q']))), [anon, 'vol9', 'vol10']);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls', '-q', '--filter', 'label=tier=db']))), ['vol9']);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls', '-q', '-f', 'name=vol1']))), ['vol10']);
  assert.deepEqual(
    lines(
      ok(skiff(root, ['volume', 'ls', '--format', '{{.Name}}:{{.Labels}}:{{.Scope}}', '-f', 'name=vol9'])),
    ),
    ['vol9:keep=,tier=db:local'],
  );
  assert.deepEqual(
    lines(ok(skiff(root, ['volume', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}', '-f', 'name=vol9']))),
    ['VOLUME NAME   DRIVER', 'vol9          local'],
  );
  const json = JSON.parse(
    lines(ok(skiff(root, ['volume', 'ls', '--format', 'json', '-f', 'name=vol10'])))[0]!,
  );
  assert.equal(json.Name, 'vol10');
  assert.equal(json.Mountpoint, path.join(root, 'volumes', 'vol10', '_data'));
  assert.deepEqual(skiff(root, ['volume', 'ls', '--filter', 'color=red']), {
    status: 1,
    stdout: '',
    stderr: "Error response from daemon: invalid filter 'color'\n",
  });
});

test('volume create errors: bad names, other drivers, both --name and an argument', (t) => {
  const root = tempRoot(t);
  assert.deepEqual(skiff(root, ['volume', 'create', 'a$']), {
    status: 1,
    stdout: '',
    stderr:
      'Error response from daemon: create a$: "a$" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path\n',
  });
  assert.deepEqual(skiff(root, ['volume', 'create', '-d', 'nfs', 'x1']), {
    status: 1,
    stdout: '',
    stderr:
      'Error response from daemon: create x1: error looking up volume plugin nfs: plugin "nfs" not found\n',
  });
  assert.deepEqual(skiff(root, ['volume', 'create', '--name', 'a1', 'b1']), {
    status: 1,
    stdout: '',
    stderr: 'conflicting options: cannot specify a volume-name through both --name and as a positional arg\n',
  });
  assert.equal(skiff(root, ['volume', 'create', '-o', 'bogus=1', 'x2']).status, 1);
  assert.equal(ok(skiff(root, ['volume', 'ls', '-q'])), '');
});

test('volume inspect prints Docker JSON; missing volumes are errors after the found ones', (t) => {
  const root = tempRoot(t);
  ok(
    skiff(root, [
      'volume',
      'create',
      '--label',
      'a=<b>',
      '-o',
      'type=none',
      '-o',
      'o=bind',
      '-o',
      'device=/srv',
      'data',
    ]),
  );
  const r = skiff(root, ['volume', 'inspect', 'data', 'nope']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'Error response from daemon: get nope: no such volume\n');
  assert.match(r.stdout, /"a": "\\u003cb\\u003e"/);
  const [v] = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(v), [
    'CreatedAt',
    'Driver',
    'Labels',
    'Mountpoint',
    'Name',
    'Options',
    'Scope',
  ]);
  assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(
    { ...v, CreatedAt: '' },
    {
      CreatedAt: '',
      Driver: 'local',
      Labels: { a: '<b>' },
      Mountpoint: path.join(root, 'volumes', 'data', '_data'),
      Name: 'data',
      Options: { type: 'none', o: 'bind', device: '/srv' },
      Scope: 'local',
    },
  );
  assert.equal(
    ok(skiff(root, ['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}}', 'data'])),
    'data local local\n',
  );
  assert.deepEqual(skiff(root, ['volume', 'inspect', 'nope']), {
    status: 1,
    stdout: '[]\n',
    stderr: 'Error response from daemon: get nope: no such volume\n',
  });
});

test('volume rm removes what it can, refuses volumes in use, -f ignores missing ones', async (t) => {
  const root = tempRoot(t);
  ok(skiff(root, ['volume', 'create', 'used']));
  ok(skiff(root, ['volume', 'create', 'free']));
  const id = 'e'.repeat(64);
  await useVolume(root, id, 'used');
  assert.deepEqual(skiff(root, ['volume', 'rm', 'used', 'free', 'nope']), {
    status: 1,
    stdout: 'free\n',
    stderr: `Error response from daemon: remove used: volume is in use - [${id}]\nError response from daemon: get nope: no such volume\n`,
  });
  assert.ok(!existsSync(path.join(root, 'volumes', 'free')));
  assert.deepEqual(skiff(root, ['volume', 'rm', '-f', 'nope']), { status: 0, stdout: 'nope\n', stderr: '' });
  assert.equal(skiff(root, ['volume', 'remove', '-f', 'used']).status, 1);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls', '-q']))), ['used']);
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls', '-q', '-f', 'dangling=true']))), []);
});

test('volume prune asks, removes unused anonymous volumes (all unused with -a), reports the space', async (t) => {
  const root = tempRoot(t);
  const anon = ok(skiff(root, ['volume', 'create'])).trim();
  ok(skiff(root, ['volume', 'create', 'named']));
  ok(skiff(root, ['volume', 'create', 'inuse']));
  await useVolume(root, 'f'.repeat(64), 'inuse');
  writeFileSync(path.join(root, 'volumes', anon, '_data', 'blob'), 'x'.repeat(2500));
  const declined = skiff(root, ['volume', 'prune'], 'n\n');
  assert.deepEqual(declined, {
    status: 0,
    stdout:
      'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ',
    stderr: '',
  });
  assert.deepEqual(skiff(root, ['volume', 'prune'], 'y\n'), {
    status: 0,
    stdout:
      'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ' +
      `Deleted Volumes:\n${anon}\n\nTotal reclaimed space: 2.5kB\n`,
    stderr: '',
  });
  assert.deepEqual(skiff(root, ['volume', 'prune', '-f']), {
    status: 0,
    stdout: 'Total reclaimed space: 0B\n',
    stderr: '',
  });
  assert.deepEqual(skiff(root, ['volume', 'prune', '-a', '-f']), {
    status: 0,
    stdout: 'Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n',
    stderr: '',
  });
  assert.deepEqual(lines(ok(skiff(root, ['volume', 'ls', '-q']))), ['inuse']);
});
