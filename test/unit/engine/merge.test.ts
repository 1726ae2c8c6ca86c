// dockerd's merge of the image's config under the user's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeImageConfig } from '../../../src/engine/index.ts';

const IMAGE = {
  User: 'app',
  Env: ['PATH=/img/bin', 'LANG=C.UTF-8'],
  Entrypoint: ['/entry.sh'],
  Cmd: ['serve', '--port=80'],
  WorkingDir: '/srv',
  Labels: { maintainer: 'img', version: '1' },
  StopSignal: 'SIGQUIT',
  Volumes: { '/data': {} },
  ExposedPorts: { '80/tcp': {} },
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 },
};

test('an empty user config takes everything from the image', () => {
  const merged = mergeImageConfig({ Image: 'img' }, IMAGE);
  assert.equal(merged.User, 'app');
  assert.deepEqual(merged.Env, ['PATH=/img/bin', 'LANG=C.UTF-8']);
  assert.deepEqual(merged.Entrypoint, ['/entry.sh']);
  assert.deepEqual(merged.Cmd, ['serve', '--port=80']);
  assert.equal(merged.WorkingDir, '/srv');
  assert.deepEqual(merged.Labels, { maintainer: 'img', version: '1' });
  assert.equal(merged.StopSignal, 'SIGQUIT');
  assert.deepEqual(merged.Volumes, { '/data': {} });
  assert.deepEqual(merged.ExposedPorts, { '80/tcp': {} });
  assert.deepEqual(merged.Healthcheck, IMAGE.Healthcheck);
});

test("the user's values win; Env and Labels merge by key, Volumes and ports union", () => {
  const merged = mergeImageConfig(
    {
      User: '1000:1000',
      Env: ['LANG=fr_FR', 'EXTRA=1'],
      Labels: { version: '2' },
      WorkingDir: '/work',
      StopSignal: 'SIGINT',
      Volumes: { '/cache': {} },
      ExposedPorts: { '8080/tcp': {} },
      Healthcheck: { Test: [], Timeout: 1e9 },
    },
    IMAGE,
  );
  assert.equal(merged.User, '1000:1000');
  assert.deepEqual(merged.Env, ['LANG=fr_FR', 'EXTRA=1', 'PATH=/img/bin']);
  assert.deepEqual(merged.Labels, { maintainer: 'img', version: '2' });
  assert.equal(merged.WorkingDir, '/work');
  assert.equal(merged.StopSignal, 'SIGINT');
  assert.deepEqual(merged.Volumes, { '/cache': {}, '/data': {} });
  assert.deepEqual(merged.ExposedPorts, { '8080/tcp': {}, '80/tcp': {} });
  assert.deepEqual(merged.Healthcheck, { Test: ['CMD', 'true'], Timeout: 1e9, Interval: 5e9, Retries: 3 });
});

test('Cmd and Entrypoint: a user Cmd keeps the image Entrypoint; a user Entrypoint drops the image Cmd', () => {
  const cmdOnly = mergeImageConfig({ Cmd: ['sh'] }, IMAGE);
  assert.deepEqual([cmdOnly.Entrypoint, cmdOnly.Cmd], [['/entry.sh'], ['sh']]);
  const entry = mergeImageConfig({ Entrypoint: ['/bin/echo'] }, IMAGE);
  assert.deepEqual([entry.Entrypoint, entry.Cmd], [['/bin/echo'], undefined]);
  const both = mergeImageConfig({ Entrypoint: ['/bin/echo'], Cmd: ['hi'] }, IMAGE);
  assert.deepEqual([both.Entrypoint, both.Cmd], [['/bin/echo'], ['hi']]);
  // `--entrypoint ""` resets the entrypoint, and the image's Cmd with it.
  const reset = mergeImageConfig({ Entrypoint: [''], Cmd: ['ls'] }, IMAGE);
  assert.deepEqual([reset.Entrypoint, reset.Cmd], [[''], ['ls']]);
  const none = mergeImageConfig({}, {});
  assert.deepEqual([none.Entrypoint, none.Cmd, none.User, none.WorkingDir], [null, null, '', '']);
});

test('the input config is not modified', () => {
  const config = { Env: ['A=1'], Labels: { a: 'b' } };
  mergeImageConfig(config, IMAGE);
  assert.deepEqual(config, { Env: ['A=1'], Labels: { a: 'b' } });
});
