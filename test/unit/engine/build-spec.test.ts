// Docker's config and host config into an OCI runtime spec, flag by flag, with Docker's defaults.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import {
  type BuildSpecInput,
  buildSpec,
  type HostConfig,
  INIT_ANNOTATION,
  type ResolvedMount,
  validateContainerConfig,
  validateHostConfig,
} from '../../../src/engine/index.ts';
import { checkSpec } from '../../../src/oci/index.ts';

const ID = 'a'.repeat(12) + 'b'.repeat(52);
const DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

function input(over: Partial<BuildSpecInput> = {}, hostConfig: HostConfig = {}): BuildSpecInput {
  return {
    id: ID,
    config: { Cmd: ['sh'] },
    hostConfig,
    rootfs: '/var/lib/skiff/containers/x/rootfs',
    mounts: [],
    files: { hostname: '/c/hostname', hosts: '/c/hosts', resolvConf: '/c/resolv.conf' },
    user: { uid: 0, gid: 0, additionalGids: [] },
    host: {
      capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'],
      nofileHard: 20000,
      swapAccounting: true,
      kernel: '6.1.0',
      goArch: 'amd64',
      cpus: 2,
      devices: () => [{ type: 'c', path: '/dev/kmsg', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }],
    },
    ...over,
  };
}

const build = (hostConfig: HostConfig, over: Partial<BuildSpecInput> = {}) =>
  buildSpec(input(over, hostConfig));
const dests = (spec: ReturnType<typeof buildSpec>) => spec.mounts!.map((m) => m.destination);

test("defaults: Docker's capabilities, mounts, namespaces, masked paths, seccomp, env and cwd", () => {
  const spec = build({});
  assert.deepEqual(checkSpec(spec), []);
  assert.equal(spec.hostname, 'aaaaaaaaaaaa');
  assert.deepEqual(spec.root, { path: '/var/lib/skiff/containers/x/rootfs' });
  assert.deepEqual(spec.process!.args, ['sh']);
  assert.equal(spec.process!.cwd, '/');
  assert.deepEqual(spec.process!.env, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'HOSTNAME=aaaaaaaaaaaa',
  ]);
  assert.equal(spec.process!.terminal, false);
  assert.deepEqual(spec.process!.capabilities, {
    bounding: DEFAULT_CAPS,
    effective: DEFAULT_CAPS,
    permitted: DEFAULT_CAPS,
  });
  assert.deepEqual(spec.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }]);
  assert.deepEqual(dests(spec), [
    '/proc',
    '/dev',
    '/dev/pts',
    '/sys',
    '/sys/fs/cgroup',
    '/dev/mqueue',
    '/dev/shm',
    '/etc/resolv.conf',
    '/etc/hostname',
    '/etc/hosts',
  ]);
  const shm = spec.mounts!.find((m) => m.destination === '/dev/shm')!;
  assert.deepEqual(shm.options, ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']);
  assert.ok(spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.deepEqual(
    spec.mounts!.find((m) => m.destination === '/etc/hosts'),
    {
      destination: '/etc/hosts',
      type: 'bind',
      source: '/c/hosts',
      options: ['rbind', 'rprivate'],
    },
  );
  assert.deepEqual(
    spec.linux!.namespaces!.map((n) => n.type),
    ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network'],
  );
  assert.equal(spec.linux!.cgroupsPath, `/skiff/${ID}`);
  assert.deepEqual(spec.linux!.resources, { devices: [{ allow: false, access: 'rwm' }] });
  assert.ok(spec.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.ok(spec.linux!.readonlyPaths!.includes('/proc/sys'));
  assert.equal(spec.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(spec.annotations, undefined);
  assert.equal(spec.process!.noNewPrivileges, undefined);
});

test('args from Entrypoint and Cmd; no command is an error; --entrypoint "" means none', () => {
  const args = (config: BuildSpecInput['config']) => buildSpec(input({ config })).process!.args;
  assert.deepEqual(args({ Entrypoint: ['/e', '-x'], Cmd: ['a', 'b'] }), ['/e', '-x', 'a', 'b']);
  assert.deepEqual(args({ Entrypoint: [''], Cmd: ['ls', '-l'] }), ['ls', '-l']);
  assert.throws(() => args({ Entrypoint: null, Cmd: null }), /No command specified/);
  assert.throws(() => args({ Entrypoint: [''] }), /No command specified/);
});

test('env: image and user Env over the defaults by key, TERM with a tty, bare KEY unsets', () => {
  const spec = buildSpec(
    input({
      config: { Cmd: ['sh'], Tty: true, Hostname: 'web', Env: ['PATH=/opt/bin', 'A=1', 'TERM', 'A=2'] },
    }),
  );
  assert.deepEqual(spec.process!.env, ['PATH=/opt/bin', 'HOSTNAME=web', 'A=1', 'A=2']);
  assert.equal(spec.process!.terminal, true);
  assert.equal(spec.hostname, 'web');
  const tty = buildSpec(input({ config: { Cmd: ['sh'], Tty: true } }));
  assert.ok(tty.process!.env!.includes('TERM=xterm'));
});

test('Config checks at create: StopSignal must be a signal', () => {
  validateContainerConfig({ StopSignal: 'SIGQUIT', WorkingDir: '/x' });
  validateContainerConfig({ StopSignal: '9' });
  assert.throws(() => validateContainerConfig({ StopSignal: 'SIGNOPE' }), /Invalid signal: SIGNOPE/);
  assert.throws(() => validateContainerConfig({ WorkingDir: 'x' }), /needs to be an absolute path/);
});

test('WorkingDir, Domainname, user with supplementary groups; a relative WorkingDir is refused', () => {
  const spec = buildSpec(
    input({
      config: { Cmd: ['sh'], WorkingDir: '/srv/app', Domainname: 'example.org' },
      user: { uid: 1000, gid: 1001, additionalGids: [10] },
    }),
  );
  assert.equal(spec.process!.cwd, '/srv/app');
  assert.equal(spec.domainname, 'example.org');
  assert.deepEqual(spec.process!.user, { uid: 1000, gid: 1001, additionalGids: [10] });
  // A non-root user keeps only the bounding set, as execve would leave it.
  assert.deepEqual(spec.process!.capabilities, { bounding: DEFAULT_CAPS });
  assert.throws(
    () => buildSpec(input({ config: { Cmd: ['sh'], WorkingDir: 'rel' } })),
    /the working directory 'rel' is invalid, it needs to be an absolute path/,
  );
});

test('resolved mounts: binds and volumes as rbind, tmpfs with Docker options, sorted by depth', () => {
  const mounts: ResolvedMount[] = [
    { type: 'bind', source: '/host/a', destination: '/data/sub', readOnly: true, options: [] },
    {
      type: 'volume',
      source: '/vols/v/_data',
      destination: '/data',
      readOnly: false,
      name: 'v',
      options: [],
    },
    {
      type: 'tmpfs',
      source: '',
      destination: '/run',
      readOnly: false,
      options: ['size=65536k', 'mode=1777', 'exec'],
    },
    {
      type: 'bind',
      source: '/host/hosts',
      destination: '/etc/hosts',
      readOnly: false,
      propagation: 'rshared',
      options: [],
    },
  ];
  const spec = build({}, { mounts });
  const user = spec.mounts!.slice(7);
  assert.deepEqual(
    user.map((m) => [m.destination, m.type, m.source, m.options]),
    [
      ['/data', 'bind', '/vols/v/_data', ['rbind', 'rprivate']],
      ['/run', 'tmpfs', 'tmpfs', ['nosuid', 'nodev', 'rprivate', 'size=65536k', 'mode=1777', 'exec']],
      ['/data/sub', 'bind', '/host/a', ['rbind', 'ro', 'rprivate']],
      ['/etc/hosts', 'bind', '/host/hosts', ['rbind', 'rshared']],
      ['/etc/resolv.conf', 'bind', '/c/resolv.conf', ['rbind', 'rprivate']],
      ['/etc/hostname', 'bind', '/c/hostname', ['rbind', 'rprivate']],
    ],
  );
  assert.equal(spec.linux!.rootfsPropagation, 'rshared');
  assert.deepEqual(checkSpec(spec), []);
});

test('a user mount over /dev/shm or /dev replaces the defaults there', () => {
  const tmp = (destination: string): ResolvedMount => ({
    type: 'tmpfs',
    source: '',
    destination,
    readOnly: false,
    options: [],
  });
  assert.deepEqual(dests(build({}, { mounts: [tmp('/dev/shm')] })).filter((d) => d === '/dev/shm').length, 1);
  const dev = dests(build({}, { mounts: [tmp('/dev')] }));
  assert.deepEqual(
    dev.filter((d) => d.startsWith('/dev')),
    ['/dev'],
  );
});

test('--read-only and --shm-size', () => {
  const spec = build({ ReadonlyRootfs: true, ShmSize: 128 * 1024 * 1024 });
  assert.equal(spec.root!.readonly, true);
  assert.ok(spec.mounts!.find((m) => m.destination === '/dev/shm')!.options!.includes('size=134217728'));
  assert.deepEqual(spec.mounts!.find((m) => m.destination === '/etc/resolv.conf')!.options, [
    'rbind',
    'ro',
    'rprivate',
  ]);
});

test('resources: memory, swap, reservation, cpus, shares, cpuset, pids', () => {
  const mib = 1024 * 1024;
  const spec = build({
    Memory: 512 * mib,
    MemoryReservation: 256 * mib,
    NanoCpus: 1.5e9,
    CpuShares: 512,
    CpusetCpus: '0-1',
    PidsLimit: 100,
  });
  assert.deepEqual(spec.linux!.resources!.memory, {
    limit: 512 * mib,
    reservation: 256 * mib,
    swap: 1024 * mib,
  });
  assert.deepEqual(spec.linux!.resources!.cpu, { period: 100000, quota: 150000, shares: 512, cpus: '0-1' });
  assert.deepEqual(spec.linux!.resources!.pids, { limit: 100 });
  assert.equal(build({ Memory: 64 * mib, MemorySwap: -1 }).linux!.resources!.memory!.swap, -1);
  assert.equal(build({ Memory: 64 * mib, MemorySwap: 96 * mib }).linux!.resources!.memory!.swap, 96 * mib);
  const noSwap = buildSpec({
    ...input({}, { Memory: 64 * mib }),
    host: { ...input().host, swapAccounting: false },
  });
  assert.deepEqual(noSwap.linux!.resources!.memory, { limit: 64 * mib });
  assert.equal(build({ PidsLimit: -1 }).linux!.resources!.pids, undefined);
});

test("resource checks worded as dockerd's", () => {
  const mib = 1024 * 1024;
  const refuse = (hc: HostConfig, message: RegExp) => assert.throws(() => validateHostConfig(hc, 2), message);
  refuse({ Memory: 1024 }, /Minimum memory limit allowed is 6MB/);
  refuse(
    { Memory: 64 * mib, MemorySwap: 32 * mib },
    /Minimum memoryswap limit should be larger than memory limit/,
  );
  refuse({ MemorySwap: 32 * mib }, /You should always set the Memory limit when using Memoryswap limit/);
  refuse({ Memory: 64 * mib, MemoryReservation: 128 * mib }, /can not be less than memory reservation limit/);
  refuse({ NanoCpus: 3e9 }, /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available/);
  refuse({ NanoCpus: 1e9, CpuQuota: 5000 }, /Nano CPUs and CPU Quota cannot both be set/);
  refuse({ CpusetCpus: '0-7' }, /Requested CPUs are not available - requested 0-7, available: 0-1/);
  refuse({ CpusetCpus: 'x' }, /Invalid value x for cpuset cpus/);
  refuse({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] }, /invalid ulimit type: bogus/);
  validateHostConfig({ Memory: 64 * mib, MemorySwap: -1, NanoCpus: 2e9, CpusetCpus: '0,1' }, 2);
});

test('ulimits replace the default open-files limit', () => {
  const spec = build({
    Ulimits: [
      { Name: 'nofile', Soft: 100, Hard: 200 },
      { Name: 'nproc', Soft: 50, Hard: 60 },
    ],
  });
  assert.deepEqual(spec.process!.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'RLIMIT_NPROC', soft: 50, hard: 60 },
  ]);
  const generous = buildSpec({ ...input(), host: { ...input().host, nofileHard: 1048576 } });
  assert.deepEqual(generous.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 524288 }]);
});

test('--cap-add / --cap-drop as moby TweakCapabilities', () => {
  const caps = (hc: HostConfig) => build(hc).process!.capabilities!.bounding;
  assert.deepEqual(caps({ CapAdd: ['net_admin'], CapDrop: ['CAP_CHOWN', 'mknod'] }), [
    ...DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_MKNOD'),
    'CAP_NET_ADMIN',
  ]);
  assert.deepEqual(caps({ CapDrop: ['ALL'], CapAdd: ['KILL'] }), ['CAP_KILL']);
  assert.deepEqual(caps({ CapAdd: ['ALL'], CapDrop: ['sys_admin'] }), ['CAP_CHOWN', 'CAP_NET_ADMIN']);
  assert.throws(() => caps({ CapAdd: ['bogus'] }), /unknown capability: "CAP_BOGUS"/);
  // The default seccomp profile follows the capabilities: unshare only with CAP_SYS_ADMIN.
  const withAdmin = build({ CapAdd: ['SYS_ADMIN'] }).linux!.seccomp!.syscalls!.flatMap((s) => s.names);
  assert.ok(withAdmin.includes('unshare'));
});

test('--privileged: every capability held, host devices, no seccomp, no masked paths, rw /sys', () => {
  const spec = build({ Privileged: true, CapDrop: ['CHOWN'] });
  assert.deepEqual(spec.process!.capabilities!.bounding, ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
  assert.equal(spec.linux!.seccomp, undefined);
  assert.equal(spec.linux!.maskedPaths, undefined);
  assert.equal(spec.linux!.readonlyPaths, undefined);
  assert.deepEqual(
    spec.linux!.devices!.map((d) => d.path),
    ['/dev/kmsg'],
  );
  assert.deepEqual(spec.linux!.resources!.devices, [{ allow: true, access: 'rwm' }]);
  assert.ok(!spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
});

test('--security-opt: seccomp unconfined or a profile, no-new-privileges, apparmor/label accepted', () => {
  assert.equal(build({ SecurityOpt: ['seccomp=unconfined'] }).linux!.seccomp, undefined);
  const custom = build({
    SecurityOpt: [
      `seccomp=${JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] })}`,
      'no-new-privileges',
      'apparmor=unconfined',
      'label=disable',
    ],
  });
  assert.deepEqual(custom.linux!.seccomp, {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  });
  assert.equal(custom.process!.noNewPrivileges, true);
  assert.equal(build({ SecurityOpt: ['no-new-privileges=false'] }).process!.noNewPrivileges, undefined);
  assert.throws(() => build({ SecurityOpt: ['bogus=1'] }), /invalid --security-opt 2: "bogus=1"/);
  assert.throws(() => build({ SecurityOpt: ['bogus'] }), /invalid --security-opt 1: "bogus"/);
  assert.throws(() => build({ SecurityOpt: ['no-new-privileges=maybe'] }), /invalid --security-opt 2/);
});

test('--device: the host node with its numbers, an allow rule, a path in the container', () => {
  const spec = build({
    Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rw' }],
  });
  assert.deepEqual(spec.linux!.devices, [
    {
      type: 'c',
      path: '/dev/mynull',
      major: 1,
      minor: 3,
      fileMode: statSync('/dev/null').mode & 0o7777,
      uid: 0,
      gid: 0,
    },
  ]);
  assert.deepEqual(spec.linux!.resources!.devices, [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
  ]);
  assert.throws(
    () => build({ Devices: [{ PathOnHost: '/etc/hostname', PathInContainer: '/dev/x' }] }),
    /error gathering device information while adding custom device "\/etc\/hostname": not a device node/,
  );
  assert.throws(
    () => build({ Devices: [{ PathOnHost: '/dev/nope-skiff' }] }),
    /stat `\/dev\/nope-skiff`: ENOENT/,
  );
});

test('--sysctl, --network host and none, --init, annotations, oom score', () => {
  const spec = build({
    Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' },
    Init: true,
    OomScoreAdj: 100,
  });
  assert.deepEqual(spec.linux!.sysctl, { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' });
  assert.equal(spec.annotations![INIT_ANNOTATION], 'true');
  assert.equal(spec.process!.oomScoreAdj, 100);
  const host = build({ NetworkMode: 'host', Sysctls: { 'kernel.shmmax': '1' } });
  assert.ok(!host.linux!.namespaces!.some((n) => n.type === 'network'));
  assert.equal(host.hostname, readFileSync('/proc/sys/kernel/hostname', 'utf8').trim());
  assert.throws(
    () => build({ NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } }),
    /sysctl "net.core.somaxconn" not allowed in host network namespace/,
  );
  assert.throws(
    () => build({ Sysctls: { 'kernel.hostname': 'x' } }),
    /sysctl "kernel.hostname" is not in a separate kernel namespace/,
  );
  assert.ok(build({ NetworkMode: 'none' }).linux!.namespaces!.some((n) => n.type === 'network'));
  // A CNI network: the namespace pinned by the engine, joined by path.
  assert.deepEqual(
    build({ NetworkMode: 'mynet' }, { netns: '/run/skiff/netns/abc' }).linux!.namespaces!.find(
      (n) => n.type === 'network',
    ),
    { type: 'network', path: '/run/skiff/netns/abc' },
  );
  assert.throws(() => build({ NetworkMode: 'bridge' }), /network namespace was not prepared/);
  assert.deepEqual(
    build({ NetworkMode: 'container:web' }, { netns: '/proc/42/ns/net' }).linux!.namespaces!.find(
      (n) => n.type === 'network',
    ),
    { type: 'network', path: '/proc/42/ns/net' },
  );
  assert.throws(() => build({ NetworkMode: 'container:' }), /needs a container name or id/);
  assert.throws(
    () =>
      build(
        { NetworkMode: 'container:web', Sysctls: { 'net.ipv4.ip_forward': '1' } },
        { netns: '/proc/42/ns/net' },
      ),
    /not allowed: the network namespace is another container's/,
  );
});

test('PidMode, IpcMode, UTSMode and CgroupnsMode "host" share the host\'s namespaces', () => {
  const spec = build({ PidMode: 'host', IpcMode: 'host', UTSMode: 'host', CgroupnsMode: 'host' });
  assert.deepEqual(
    spec.linux!.namespaces!.map((n) => n.type),
    ['mount', 'network'],
  );
  assert.equal(spec.hostname, undefined);
  assert.deepEqual(checkSpec(spec), []);
  assert.deepEqual(
    build({ IpcMode: 'shareable', CgroupnsMode: 'private' }).linux!.namespaces!.map((n) => n.type),
    ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'network'],
  );
  assert.throws(() => build({ PidMode: 'container:abc' }), /PidMode "container:abc" is not supported/);
});

test('every spec built here passes the runtime schema', () => {
  const all: HostConfig[] = [
    { Privileged: true },
    { Memory: 64 * 1024 * 1024, NanoCpus: 5e8, PidsLimit: 5, Ulimits: [{ Name: 'core', Soft: 0, Hard: 0 }] },
    { SecurityOpt: ['seccomp=unconfined', 'no-new-privileges'], ReadonlyRootfs: true, NetworkMode: 'host' },
  ];
  for (const hc of all) assert.deepEqual(checkSpec(build(hc)), []);
});
