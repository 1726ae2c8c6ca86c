import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupPathIn, parseCgroupLayout, parseCgroupsPath } from '../../../../src/runtime/cgroups/index.ts';
import { HYBRID, V1, V2 } from './samples.ts';

test('no cgroupsPath: the container id, relative to the caller (runc cgroupfs)', () => {
  assert.deepEqual(parseCgroupsPath(undefined, 'abc'), { inner: 'abc', absolute: false });
  assert.deepEqual(parseCgroupsPath('', 'abc'), { inner: 'abc', absolute: false });
  assert.throws(() => parseCgroupsPath(undefined, 'a/b'), { name: 'InvalidArgument' });
});

test('absolute and relative paths are normalised', () => {
  assert.deepEqual(parseCgroupsPath('//skiff/./abc/', 'x'), { inner: '/skiff/abc', absolute: true });
  assert.deepEqual(parseCgroupsPath('skiff/abc', 'x'), { inner: 'skiff/abc', absolute: false });
});

test('systemd slice:prefix:name, `..` and the root itself are refused', () => {
  assert.throws(() => parseCgroupsPath('system.slice:skiff:abc', 'x'), {
    name: 'InvalidArgument',
    message: /systemd cgroup driver is not supported/,
  });
  assert.throws(() => parseCgroupsPath('/skiff/../../etc', 'x'), {
    name: 'InvalidArgument',
    message: /`\.\.`/,
  });
  assert.throws(() => parseCgroupsPath('../x', 'x'), { name: 'InvalidArgument' });
  assert.throws(() => parseCgroupsPath('/', 'x'), { name: 'InvalidArgument', message: /root itself/ });
});

test("absolute paths are from each hierarchy root; relative ones from the caller's own cgroup there", () => {
  const layout = parseCgroupLayout(V1);
  const memory = layout.hierarchies.find((h) => h.key === 'memory')!;
  const cpu = layout.hierarchies.find((h) => h.key === 'cpu,cpuacct')!;
  assert.equal(cgroupPathIn(memory, layout, parseCgroupsPath('/skiff/abc', 'abc')), '/skiff/abc');
  assert.equal(
    cgroupPathIn(memory, layout, parseCgroupsPath(undefined, 'abc')),
    '/user.slice/user-1000.slice/session-2.scope/abc',
  );
  assert.equal(cgroupPathIn(cpu, layout, parseCgroupsPath('skiff/abc', 'abc')), '/user.slice/skiff/abc');
});

test('pure v2 resolves relative paths from the parent of the own cgroup (fs2); hybrid from the own cgroup', () => {
  const v2 = parseCgroupLayout(V2);
  assert.equal(
    cgroupPathIn(v2.hierarchies[0]!, v2, parseCgroupsPath(undefined, 'abc')),
    '/user.slice/user-1000.slice/abc',
  );
  const hybrid = parseCgroupLayout(HYBRID);
  const unified = hybrid.hierarchies.find((h) => h.version === 2)!;
  assert.equal(cgroupPathIn(unified, hybrid, parseCgroupsPath(undefined, 'abc')), '/abc');
});
