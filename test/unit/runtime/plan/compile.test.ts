import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import {
  type CompileInput,
  compilePlan,
  encodePlan,
  type PlanStep,
} from '../../../../src/runtime/plan/index.ts';
import { CLONE_NEW, MS } from '../../../../src/runtime/plan/linux-constants.ts';

function baseSpec(): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'] },
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'mount' },
        { type: 'uts' },
        { type: 'network', path: '/run/netns/x' },
      ],
    },
  };
}

function input(spec: Spec, overrides: Partial<CompileInput> = {}): CompileInput {
  return {
    spec,
    bundle: '/bundle',
    fifo: '/run/x/exec.fifo',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: ['/sys/fs/cgroup/memory/c/cgroup.procs'],
    cgroupViews: [{ name: 'memory', hostDir: '/sys/fs/cgroup/memory/c', aliases: [] }],
    isDirectory: (p) => !p.endsWith('.txt'),
    ...overrides,
  };
}

const ops = (steps: PlanStep[]) => steps.map((s) => s.op);

test('new namespaces become clone flags, paths become joins', () => {
  const plan = compilePlan(input(baseSpec()));
  assert.equal(plan.setup.cloneFlags, CLONE_NEW.pid | CLONE_NEW.mnt | CLONE_NEW.uts);
  assert.deepEqual(plan.setup.joins, [{ type: 'net', path: '/run/netns/x' }]);
  assert.equal(plan.setup.uidMap, undefined);
});

test('a joined user namespace is entered before any other', () => {
  const spec = baseSpec();
  spec.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' });
  const plan = compilePlan(input(spec));
  assert.deepEqual(
    plan.setup.joins.map((j) => j.type),
    ['user', 'net'],
  );
});

test('a new user namespace carries id maps and becomes root first', () => {
  const spec = baseSpec();
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const plan = compilePlan(input(spec));
  assert.equal(plan.setup.uidMap, '0 100000 65536\n');
  assert.equal(plan.steps[0]!.op, 'become-root');
  // Devices cannot be made in a user namespace: they are bound from the host.
  const nullDev = plan.steps.find((s) => s.op === 'mount' && s.destination === '/dev/null');
  assert.deepEqual(nullDev && nullDev.op === 'mount' && [nullDev.source, nullDev.flags, nullDev.create], [
    '/dev/null',
    MS.BIND,
    'file',
  ]);
});

test('a new user namespace without mappings is refused', () => {
  const spec = baseSpec();
  spec.linux!.namespaces!.push({ type: 'user' });
  assert.throws(() => compilePlan(input(spec)), /uidMappings/);
});

test('steps come in runc order: rootfs, mounts, devices, sysctl, masks, pivot, process', () => {
  const spec = baseSpec();
  spec.linux!.sysctl = { 'kernel.domainname': 'example' };
  spec.linux!.maskedPaths = ['/proc/kcore'];
  spec.linux!.readonlyPaths = ['/proc/sys'];
  spec.root!.readonly = true;
  const steps = ops(compilePlan(input(spec)).steps);
  const order = [
    'hostname',
    'propagation',
    'rootfs',
    'mount',
    'mknod',
    'symlink',
    'sysctl',
    'mask',
    'readonly',
    'remount-root',
    'pivot',
    'user',
    'umask',
    'cwd',
    'env',
    'exec',
  ];
  const firstIndex = order.map((op) => steps.indexOf(op as PlanStep['op']));
  assert.ok(
    firstIndex.every((i) => i >= 0),
    `all ops present: ${steps.join(' ')}`,
  );
  assert.deepEqual(
    [...firstIndex].sort((a, b) => a - b),
    firstIndex,
  );
});

test('mount options split into flags, data and separate propagation', () => {
  const spec = baseSpec();
  spec.mounts = [
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k', 'rshared'],
    },
  ];
  const steps = compilePlan(input(spec)).steps;
  const mount = steps.find((s) => s.op === 'mount');
  assert.deepEqual(mount, {
    op: 'mount',
    source: 'shm',
    destination: '/dev/shm',
    fstype: 'tmpfs',
    flags: MS.NOSUID | MS.NOEXEC | MS.NODEV,
    data: 'mode=1777,size=65536k',
    create: 'dir',
  });
  assert.deepEqual(
    steps.find((s) => s.op === 'propagate'),
    { op: 'propagate', destination: '/dev/shm', flags: MS.SHARED | MS.REC },
  );
});

test('read-only binds are a bind then a remount; files stay files', () => {
  const spec = baseSpec();
  spec.mounts = [
    { destination: '/etc/hosts', type: 'bind', source: 'hosts.txt', options: ['rbind', 'ro', 'nosuid'] },
  ];
  const steps = compilePlan(input(spec)).steps;
  assert.deepEqual(steps.filter((s) => s.op === 'mount' || s.op === 'remount').slice(0, 2), [
    {
      op: 'mount',
      source: '/bundle/hosts.txt',
      destination: '/etc/hosts',
      fstype: '',
      flags: MS.BIND | MS.REC,
      data: '',
      create: 'file',
    },
    { op: 'remount', destination: '/etc/hosts', flags: MS.RDONLY | MS.NOSUID },
  ]);
});

test('a cgroup mount on v1 is a tmpfs with one bind per hierarchy', () => {
  const spec = baseSpec();
  spec.mounts = [
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'ro'],
    },
  ];
  const views = [
    { name: 'cpu,cpuacct', hostDir: '/sys/fs/cgroup/cpu,cpuacct/c', aliases: ['cpu', 'cpuacct'] },
    { name: 'memory', hostDir: '/sys/fs/cgroup/memory/c', aliases: [] },
  ];
  const steps = compilePlan(input(spec, { cgroupViews: views })).steps.filter(
    (s) => 'destination' in s || s.op === 'symlink',
  );
  const described = steps.map(
    (s) => `${s.op} ${'destination' in s ? s.destination : s.op === 'symlink' ? s.path : ''}`,
  );
  assert.deepEqual(described.slice(0, 8), [
    'mount /sys/fs/cgroup',
    'mount /sys/fs/cgroup/cpu,cpuacct',
    'remount /sys/fs/cgroup/cpu,cpuacct',
    'symlink /sys/fs/cgroup/cpu',
    'symlink /sys/fs/cgroup/cpuacct',
    'mount /sys/fs/cgroup/memory',
    'remount /sys/fs/cgroup/memory',
    'remount /sys/fs/cgroup',
  ]);
});

test('a bind onto /dev means no default devices', () => {
  const spec = baseSpec();
  spec.mounts!.push({ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] });
  assert.ok(!ops(compilePlan(input(spec)).steps).includes('mknod'));
});

test('configured devices replace the defaults of the same path', () => {
  const spec = baseSpec();
  spec.linux!.devices = [
    { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 5, gid: 6 },
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
  ];
  const nodes = compilePlan(input(spec)).steps.filter((s) => s.op === 'mknod');
  assert.equal(nodes.filter((n) => n.op === 'mknod' && n.path === '/dev/null').length, 1);
  assert.deepEqual(
    nodes.find((n) => n.op === 'mknod' && n.path === '/dev/null'),
    {
      op: 'mknod',
      path: '/dev/null',
      mode: 0o020600,
      major: 1,
      minor: 3,
      uid: 5,
      gid: 6,
    },
  );
  assert.ok(nodes.some((n) => n.op === 'mknod' && n.path === '/dev/fuse'));
});

test('rlimits map to resource numbers; unlimited becomes RLIM_INFINITY', () => {
  const spec = baseSpec();
  spec.process!.rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_CORE', soft: -1, hard: -1 },
  ];
  const limits = compilePlan(input(spec)).steps.filter((s) => s.op === 'rlimit');
  assert.deepEqual(limits, [
    { op: 'rlimit', resource: 7, soft: 1024n, hard: 4096n },
    { op: 'rlimit', resource: 4, soft: 0xffffffffffffffffn, hard: 0xffffffffffffffffn },
  ]);
  spec.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }];
  assert.throws(() => compilePlan(input(spec)), /RLIMIT_BOGUS/);
});

test('unsupported mount options are refused by name', () => {
  const spec = baseSpec();
  spec.mounts = [{ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'rro'] }];
  assert.throws(() => compilePlan(input(spec)), /"rro"/);
});

test('relative mount destinations are refused', () => {
  const spec = baseSpec();
  spec.mounts = [{ destination: 'proc', type: 'proc', source: 'proc' }];
  assert.throws(() => compilePlan(input(spec)), /mounts\[0\].*absolute/);
});

test('no-pivot moves the rootfs instead', () => {
  const plan = compilePlan(input(baseSpec(), { noPivot: true }));
  assert.deepEqual(
    plan.steps.find((s) => s.op === 'pivot'),
    { op: 'pivot', mode: 'move' },
  );
});

test('time offsets need a new time namespace and become offsets text', () => {
  const spec = baseSpec();
  spec.linux!.timeOffsets = { monotonic: { secs: 10 }, boottime: { secs: 1, nanosecs: 5 } };
  assert.throws(() => compilePlan(input(spec)), /time/);
  spec.linux!.namespaces!.push({ type: 'time' });
  const plan = compilePlan(input(spec));
  assert.equal(plan.setup.timeOffsets, 'monotonic 10 0\nboottime 1 5\n');
  assert.equal(plan.setup.cloneFlags & CLONE_NEW.time, 0, 'time namespace is not a clone flag');
});

test('the encoding is op, argument count, arguments, each NUL-terminated', () => {
  const plan = compilePlan(input(baseSpec()));
  const tokens = encodePlan(plan).toString().split('\0');
  assert.deepEqual(tokens.slice(0, 4), ['version', '1', '1', 'cgroup']);
  assert.equal(tokens.at(-1), '');
  const exec = tokens.lastIndexOf('exec');
  assert.deepEqual(tokens.slice(exec, exec + 3), ['exec', '1', '/bin/true']);
  const bad = compilePlan(input(baseSpec()));
  bad.steps.push({ op: 'env', entry: 'A=\0' });
  assert.throws(() => encodePlan(bad), /NUL/);
});
