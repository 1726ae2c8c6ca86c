import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupLayout, restrictLayout } from '../../../../src/runtime/cgroups/index.ts';
import { HYBRID, V1, V2 } from './samples.ts';

test('v1: one hierarchy per superblock, co-mounted controllers together, own paths from /proc/self/cgroup', () => {
  const layout = parseCgroupLayout(V1);
  assert.equal(layout.kind, 'v1');
  assert.deepEqual(
    layout.hierarchies.map((h) => [h.key, h.mountpoint, h.ownPath]),
    [
      ['name=systemd', '/sys/fs/cgroup/systemd', '/user.slice/user-1000.slice/session-2.scope'],
      ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct', '/user.slice'],
      ['memory', '/sys/fs/cgroup/memory', '/user.slice/user-1000.slice/session-2.scope'],
      ['net_cls,net_prio', '/sys/fs/cgroup/net_cls,net_prio', '/'],
      ['cpuset', '/sys/fs/cgroup/cpuset', '/'],
      ['freezer', '/sys/fs/cgroup/freezer', '/'],
      ['devices', '/sys/fs/cgroup/devices', '/user.slice'],
      ['hugetlb', '/sys/fs/cgroup/hugetlb', '/'],
      ['pids', '/sys/fs/cgroup/pids', '/user.slice/user-1000.slice/session-2.scope'],
      ['blkio', '/sys/fs/cgroup/blkio', '/'],
    ],
  );
  assert.deepEqual(layout.hierarchies[1]!.controllers, ['cpu', 'cpuacct']);
  assert.ok(layout.hierarchies.every((h) => h.version === 1));
});

test('v2: controllers from the root cgroup.controllers', () => {
  const layout = parseCgroupLayout(V2);
  assert.equal(layout.kind, 'v2');
  assert.deepEqual(layout.hierarchies, [
    {
      version: 2,
      mountpoint: '/sys/fs/cgroup',
      root: '/',
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'],
      ownPath: '/user.slice/user-1000.slice/session-3.scope',
      key: 'unified',
    },
  ]);
});

test('hybrid: v1 controllers plus a cgroup2 mount that holds what v1 does not', () => {
  const layout = parseCgroupLayout(HYBRID);
  assert.equal(layout.kind, 'hybrid');
  const unified = layout.hierarchies.find((h) => h.version === 2)!;
  assert.deepEqual(
    [unified.mountpoint, unified.controllers, unified.ownPath],
    ['/sys/fs/cgroup/unified', ['hugetlb'], '/'],
  );
  assert.equal(layout.hierarchies.find((h) => h.key === 'memory')?.ownPath, '/process_api/2cf5');
  assert.equal(layout.hierarchies.length, 10);
  assert.equal(restrictLayout(layout, 2).kind, 'v2');
  assert.equal(restrictLayout(layout, 1).hierarchies.length, 9);
});

test('a hierarchy bind-mounted from deeper (a container without a cgroup namespace) has paths relative to its root', () => {
  const layout = parseCgroupLayout({
    mountinfo: '50 40 0:31 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n',
    procCgroup: '5:memory:/docker/abc/sub\n',
  });
  assert.deepEqual(
    layout.hierarchies.map((h) => [h.root, h.ownPath]),
    [['/docker/abc', '/sub']],
  );
});

test('mount fields are unescaped, and no cgroup mount at all is a failed precondition', () => {
  const layout = parseCgroupLayout({
    mountinfo: '44 30 0:31 / /mnt/memory\\040again rw - cgroup cgroup rw,memory\n',
    procCgroup: '5:memory:/\n',
  });
  assert.equal(layout.hierarchies[0]!.mountpoint, '/mnt/memory again');
  assert.throws(
    () => parseCgroupLayout({ mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n', procCgroup: '' }),
    { name: 'FailedPrecondition' },
  );
});
