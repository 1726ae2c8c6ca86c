/**
 * The starter config.json that `skiff-runtime spec` writes: the same document as `runc spec` of runc
 * 1.1 (libcontainer/specconv Example and ToRootless), field for field and in runc's key order, so that
 * `JSON.stringify(spec, null, '\t')` matches runc's file except for two deliberate differences:
 *
 * - `hostname` is "skiff" instead of "runc".
 * - `ociVersion` is the runtime spec version skiff implements (OCI_RUNTIME_SPEC_VERSION) instead of the
 *   "1.0.2-dev" runc 1.1 was built against. Both runtimes write the version they implement; the
 *   document uses no field newer than 1.0, so it is valid under either.
 */
import { statfsSync } from 'node:fs';
import type { Capabilities, Mount, Namespace, Spec } from './runtime-spec.ts';
import { OCI_RUNTIME_SPEC_VERSION } from './version.ts';

export interface DefaultSpecOptions {
  /** As `runc spec --rootless`: a user namespace mapping root to the caller, no network namespace. */
  rootless?: boolean;
  /** Add a cgroup namespace; by default, as runc, when the host runs the unified cgroup v2 hierarchy. */
  cgroupNamespace?: boolean;
  /** The host ids that container root maps to when rootless; default the effective uid and gid. */
  hostUid?: number;
  hostGid?: number;
}

const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  // runc 1.1.2 dropped the inheritable set (CVE-2022-29162) but still lists ambient; an ambient
  // capability without its inheritable one cannot be raised, so the list is inert, as under runc.
  const capabilities: Capabilities = {
    bounding: [...DEFAULT_CAPABILITIES],
    effective: [...DEFAULT_CAPABILITIES],
    permitted: [...DEFAULT_CAPABILITIES],
    ambient: [...DEFAULT_CAPABILITIES],
  };
  const namespaces: Namespace[] = [
    { type: 'pid' },
    { type: 'network' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (options.cgroupNamespace ?? hostUsesCgroup2()) namespaces.push({ type: 'cgroup' });

  const spec: Spec = {
    ociVersion: OCI_RUNTIME_SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'skiff',
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (options.rootless)
    toRootless(spec, options.hostUid ?? process.geteuid!(), options.hostGid ?? process.getegid!());
  return spec;
}

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    },
  ];
}

/**
 * As runc's ToRootless: an unprivileged user can create a user namespace but not a network namespace
 * worth having (no way to connect it), cannot mount sysfs outside a network namespace of its own, cannot
 * map the gid that `gid=5` names, and cannot write cgroups it was not delegated.
 */
function toRootless(spec: Spec, hostUid: number, hostGid: number): void {
  const linux = spec.linux!;
  const keep = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  linux.namespaces = [...keep, { type: 'user' }];
  // runc assigns the mappings after the namespaces; keep its key order (uidMappings come first in
  // runc's output because its Linux struct declares them first).
  const { resources: _dropped, ...rest } = linux;
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
    ...rest,
  };
  spec.mounts = (spec.mounts ?? []).map((mount) => {
    if (mount.destination === '/sys') {
      return {
        destination: '/sys',
        type: 'none',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      };
    }
    if (mount.options === undefined) return mount;
    return { ...mount, options: mount.options.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid=')) };
  });
}

/** CGROUP2_SUPER_MAGIC, the filesystem type of /sys/fs/cgroup on a unified cgroup v2 host. */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Whether the host mounts the unified cgroup v2 hierarchy at /sys/fs/cgroup, as runc decides it. */
function hostUsesCgroup2(): boolean {
  try {
    return statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC;
  } catch {
    // No /sys/fs/cgroup at all (a chroot, a minimal sandbox): there is no cgroup v2 to give a namespace.
    return false;
  }
}
