import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import type { RootfsMount } from '../../../../src/runtime/plan/index.ts';
import { CREATE_CWD_ANNOTATION, encodePlan } from '../../../../src/runtime/plan/index.ts';
import { compileForTest } from '../../../helpers/plan.ts';

function spec(cwd: string, annotations?: Record<string, string>, readonly = false): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs', readonly },
    process: { cwd, user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'] },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    ...(annotations ? { annotations } : {}),
  };
}

function compile(s: Spec, rootfsMounts?: RootfsMount[]) {
  return compileForTest(s, { rootfsMounts });
}

test('rootfsMounts become host-mount records on root.path: flags and data split, bind flags kept', () => {
  const plan = compile(spec('/'), [
    {
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', 'lowerdir=l/a:l/b', 'upperdir=/u', 'ro'],
      cwd: '/snap',
    },
    { type: 'bind', source: '/src', options: ['rbind', 'ro', 'nosuid'] },
  ]);
  assert.deepEqual(plan.setup.hostMounts, [
    {
      target: '/b/rootfs',
      type: 'overlay',
      source: 'overlay',
      flags: 0x1,
      data: 'index=off,lowerdir=l/a:l/b,upperdir=/u',
      cwd: '/snap',
    },
    { target: '/b/rootfs', type: '', source: '/src', flags: 0x1000 | 0x4000 | 0x1 | 0x2, data: '', cwd: '' },
  ]);
  const text = encodePlan(plan).toString();
  assert.ok(
    text.includes(
      [
        'host-mount',
        '6',
        '/b/rootfs',
        'overlay',
        'overlay',
        '1',
        'index=off,lowerdir=l/a:l/b,upperdir=/u',
        '/snap',
        '',
      ].join('\0'),
    ),
  );
  assert.equal(compile(spec('/')).setup.hostMounts, undefined);
});

test('rootfsMounts: bad specs are refused by field', () => {
  assert.throws(
    () => compile(spec('/'), [{ type: '', source: 'x', options: [] }]),
    /rootfsMounts\[0\]: type is required/,
  );
  assert.throws(
    () => compile(spec('/'), [{ type: 'overlay', source: 'o', options: ['rshared'] }]),
    /rootfsMounts\[0\]: propagation/,
  );
  assert.throws(
    () => compile(spec('/'), [{ type: 'overlay', source: 'o', options: [], cwd: 'rel' }]),
    /cwd `rel` must be an absolute path/,
  );
});

test('create-cwd: mkdir-cwd of the normalized cwd, after the mounts and before remount-root and pivot', () => {
  const plan = compile(spec('/work//dir/', { [CREATE_CWD_ANNOTATION]: 'true' }, true));
  const ops = plan.steps.map((s) => s.op);
  const at = ops.indexOf('mkdir-cwd');
  assert.deepEqual(plan.steps[at], { op: 'mkdir-cwd', path: '/work/dir' });
  assert.ok(at > ops.lastIndexOf('mount') && at > ops.lastIndexOf('mask'));
  assert.equal(ops[at + 1], 'remount-root');
  assert.ok(at < ops.indexOf('pivot') && at < ops.indexOf('user') && ops.indexOf('cwd') > at);
  assert.ok(encodePlan(plan).toString().includes(['mkdir-cwd', '1', '/work/dir', ''].join('\0')));
});

test('create-cwd: nothing for /, without the annotation, or with another value', () => {
  for (const s of [
    spec('/', { [CREATE_CWD_ANNOTATION]: 'true' }),
    spec('/work'),
    spec('/work', { [CREATE_CWD_ANNOTATION]: 'false' }),
  ]) {
    assert.equal(
      compile(s).steps.some((step) => step.op === 'mkdir-cwd'),
      false,
    );
  }
});
