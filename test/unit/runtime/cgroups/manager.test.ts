import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cgroupRecord,
  cgroupViews,
  loadCgroup,
  parseCgroupLayout,
  routeResources,
} from '../../../../src/runtime/cgroups/index.ts';
import { HYBRID, V1, V2 } from './samples.ts';

test('hybrid: each resource goes to the hierarchy holding its controller (hugetlb to cgroup2)', () => {
  const layout = parseCgroupLayout(HYBRID);
  const routes = routeResources(layout, {
    memory: { limit: 100 },
    cpu: { shares: 512, cpus: '0' },
    hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
    devices: [{ allow: false, access: 'rwm' }],
  });
  const byKey = Object.fromEntries([...routes.byHierarchy].map(([h, r]) => [h.key, r]));
  assert.deepEqual(byKey, {
    cpuset: { cpu: { cpus: '0' } },
    devices: { devices: [{ allow: false, access: 'rwm' }] },
    memory: { memory: { limit: 100 } },
    cpu: { cpu: { shares: 512 } },
    unified: { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] },
  });
});

test('a resource whose controller is absent names the controller; empty settings need none', () => {
  const layout = parseCgroupLayout(HYBRID);
  assert.throws(() => routeResources(layout, { rdma: { mlx4_0: { hcaHandles: 1 } } }), {
    name: 'FailedPrecondition',
    message: /needs the rdma cgroup controller/,
  });
  assert.throws(() => routeResources(layout, { network: { classID: 1 } }), { message: /net_cls/ });
  assert.equal(routeResources(layout, { memory: {}, blockIO: {}, cpu: {} }).byHierarchy.size, 0);
  const v1 = parseCgroupLayout(V1);
  assert.throws(() => routeResources(v1, { unified: { 'memory.high': '1' } }), {
    name: 'FailedPrecondition',
    message: /needs cgroup v2/,
  });
  assert.equal(routeResources(v1, { network: { classID: 1 } }).byHierarchy.size, 1);
});

test('device rules without a v1 devices controller: NotImplemented naming the rule, or skipped on request', () => {
  const layout = parseCgroupLayout(V2);
  const devices = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c' as const, major: 1, minor: 3 },
  ];
  assert.throws(() => routeResources(layout, { devices }), {
    name: 'NotImplemented',
    message: /device rule `deny a \*:\* rwm`.*eBPF/,
  });
  const skipped = routeResources(
    layout,
    { devices, memory: { limit: 1 } },
    { devicesWithoutController: 'skip' },
  );
  assert.equal(skipped.byHierarchy.size, 1);
  assert.match(skipped.warnings[0]!, /2 device rule/);
});

test('a record rebuilds the exact directories; views follow the mountpoints', () => {
  const layout = parseCgroupLayout(V1);
  const handle = loadCgroup(layout, 'abc');
  const record = cgroupRecord(handle);
  assert.equal(record.paths.memory, '/user.slice/user-1000.slice/session-2.scope/abc');
  assert.equal(record.paths['cpu,cpuacct'], '/user.slice/abc');
  assert.equal(record.paths['name=systemd'], '/user.slice/user-1000.slice/session-2.scope/abc');
  const again = loadCgroup(layout, JSON.parse(JSON.stringify(record)));
  assert.deepEqual(
    again.dirs.map((d) => d.dir),
    handle.dirs.map((d) => d.dir),
  );
  assert.ok(
    handle.procsFiles.includes(
      '/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-2.scope/abc/cgroup.procs',
    ),
  );
  assert.throws(() => loadCgroup(layout, { path: 'x', paths: { memory: '/../..' } }), {
    name: 'InvalidArgument',
  });
  const views = cgroupViews(layout, handle);
  assert.deepEqual(views.find((v) => v.name === 'cpu,cpuacct')?.aliases, ['cpu', 'cpuacct']);
  assert.ok(views.some((v) => v.name === 'systemd'));
  const v2 = parseCgroupLayout(V2);
  assert.deepEqual(cgroupViews(v2, loadCgroup(v2, '/skiff/abc')), [
    { name: '', hostDir: '/sys/fs/cgroup/skiff/abc', aliases: [] },
  ]);
});
