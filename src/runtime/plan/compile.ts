import path from 'node:path';
import { invalidArgument } from '../../common/index.ts';
import type { Device, IdMapping, Linux, Mount, Spec } from '../../oci/index.ts';
import { hookSteps } from './hooks.ts';
import { hostMounts, type RootfsMount } from './host-mounts.ts';
import { withMountLabel } from './labels.ts';
import { CLONE_NEW, MS, S_IFBLK, S_IFCHR, S_IFIFO } from './linux-constants.ts';
import { parseMountOptions, parsePropagation } from './mount-options.ts';
import { compileProcessSteps } from './process.ts';
import { schedulingSteps } from './process-extras.ts';
import { seccompListenerSteps } from './seccomp.ts';
import { seccompCacheSetup } from './seccomp-cache.ts';
import type { CreateKind, NamespaceType, Plan, PlanSetup, PlanStep } from './types.ts';

/** One cgroup hierarchy as the container should see it under its cgroup mount. */
export interface CgroupView {
  /** Directory name under the cgroup mount (`memory`, `cpu,cpuacct`, `systemd`, `unified`, or '' for v2). */
  name: string;
  /** The container's cgroup directory on the host. */
  hostDir: string;
  /** Links to `name` for co-mounted controllers (`cpu` and `cpuacct` → `cpu,cpuacct`). */
  aliases: string[];
}

/** Facts about the host the compiler needs; gathered by the caller so that compiling stays pure. */
export interface CompileInput {
  spec: Spec;
  /** Absolute bundle directory; relative paths in the spec are relative to it. */
  bundle: string;
  fifo: string;
  preserveFds: number;
  noPivot: boolean;
  /** `cgroup.procs` files of the container's cgroups. */
  cgroupProcs: string[];
  /** The container's cgroups as they appear under a `cgroup` mount. */
  cgroupViews: CgroupView[];
  /** The container's id, for what the seccomp agent is told (`linux.seccomp.listenerPath`). */
  containerId?: string;
  /** Tells whether a host path is a directory (bind sources decide what the destination must be). */
  isDirectory: (hostPath: string) => boolean;
  /** `--console-socket`: where the init sends its terminal (process.terminal). */
  consoleSocket?: string | undefined;
  /** Without a console socket, a terminal is relayed by the shim in the foreground. */
  relayTerminal?: boolean | undefined;
  /** Appended to process.env (socket activation's LISTEN_FDS and LISTEN_PID, as runc). */
  extraEnv?: string[] | undefined;
  /** Where the shim keeps compiled seccomp filters (named in the plan only when there is a filter). */
  seccompCache?: string | undefined;
  /** Mounted by the shim on root.path, on the host, before the init exists (`host-mount`). */
  rootfsMounts?: readonly RootfsMount[] | undefined;
}

export const NAMESPACE_TYPES: Readonly<Record<string, NamespaceType>> = {
  user: 'user',
  mount: 'mnt',
  pid: 'pid',
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

// The devices every container gets (runc's AllowedDevices), unless the config names the same path.
const DEFAULT_DEVICES: readonly Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666 },
];

const DEV_SYMLINKS: readonly [string, string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

/** Compiles a validated OCI spec into the plan the shim performs. Pure: no I/O but `isDirectory`. */
export function compilePlan(input: CompileInput): Plan {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const namespaces = classifyNamespaces(spec);
  if (!namespaces.fresh.has('mnt')) {
    throw invalidArgument('config.json: linux.namespaces must include a new "mount" namespace');
  }
  const userns = namespaces.fresh.has('user');
  const setup: PlanSetup = {
    cgroupProcs: input.cgroupProcs,
    joins: namespaces.joins,
    cloneFlags: [...namespaces.fresh].filter((t) => t !== 'time').reduce((f, t) => f | CLONE_NEW[t], 0),
    timeOffsets: namespaces.fresh.has('time') ? timeOffsetsText(linux.timeOffsets) : undefined,
    uidMap: userns ? idMapText(linux.uidMappings, 'uidMappings') : undefined,
    gidMap: userns ? idMapText(linux.gidMappings, 'gidMappings') : undefined,
    fifo: input.fifo,
    preserveFds: input.preserveFds,
    consoleSocket: input.consoleSocket,
    consoleRelay: Boolean(spec.process?.terminal && input.consoleSocket === undefined && input.relayTerminal),
    ...seccompCacheSetup(spec, input.seccompCache),
    ...(input.rootfsMounts?.length ? { hostMounts: hostMounts(input.rootfsMounts, rootfsPath(input)) } : {}),
  };
  if (!namespaces.fresh.has('time') && linux.timeOffsets) {
    throw invalidArgument('config.json: linux.timeOffsets requires a new "time" namespace');
  }

  const steps: PlanStep[] = [];
  if (userns) steps.push({ op: 'become-root' });
  if (spec.process?.oomScoreAdj !== undefined)
    steps.push({ op: 'oom-score-adj', value: spec.process.oomScoreAdj });
  if (spec.hostname !== undefined) steps.push({ op: 'hostname', name: spec.hostname });
  if (spec.domainname !== undefined) steps.push({ op: 'domainname', name: spec.domainname });

  const rootPropagation = linux.rootfsPropagation
    ? parsePropagation(linux.rootfsPropagation, 'linux.rootfsPropagation')
    : undefined;
  // As runc: the host's mounts reach the container (rslave) but nothing travels back, unless asked.
  steps.push({ op: 'propagation', flags: rootPropagation ?? MS.SLAVE | MS.REC });
  if (linux.mountLabel) steps.push({ op: 'selinux-mount-label', label: linux.mountLabel });
  steps.push({ op: 'rootfs', path: rootfsPath(input) });

  const mounts = spec.mounts ?? [];
  mounts.forEach((mount, i) => {
    steps.push(...withMountLabel(mountSteps(mount, i, input), linux.mountLabel));
  });
  if (!mounts.some((m) => m.destination === '/dev' && isBind(m))) {
    // mknod needs the host's user namespace, whether ours is new or joined.
    const inUserns = userns || namespaces.joins.some((j) => j.type === 'user');
    steps.push(...deviceSteps(linux.devices ?? [], inUserns));
  }
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    steps.push({ op: 'sysctl', key: key.replaceAll('.', '/'), value });
  }
  for (const p of linux.maskedPaths ?? []) steps.push({ op: 'mask', path: p });
  for (const p of linux.readonlyPaths ?? []) steps.push({ op: 'readonly', path: p });
  // Before a read-only root is remounted: the engine's rw layer takes the directory, as with dockerd.
  steps.push(...createCwdSteps(spec));
  if (spec.root?.readonly) steps.push({ op: 'remount-root', flags: MS.RDONLY });
  // The agent's socket is a host path: reached before the pivot.
  steps.push(
    ...seccompListenerSteps(linux.seccomp, {
      id: input.containerId ?? '',
      bundle: input.bundle,
      annotations: spec.annotations,
    }),
  );
  steps.push(...hookSteps(spec));
  steps.push({ op: 'pivot', mode: input.noPivot ? 'move' : 'pivot_root' });
  if (rootPropagation !== undefined) steps.push({ op: 'propagation', flags: rootPropagation });

  steps.push(...schedulingSteps(spec));
  steps.push(...processSteps(spec, input));
  if (spec.annotations?.[INIT_ANNOTATION] === 'true') steps.splice(steps.length - 1, 0, { op: 'reaper' });
  return { version: 1, setup, steps };
}

/** Docker's --init: the shim's init stays PID 1 of the container as a reaper (PLAN.md `reaper`). */
export const INIT_ANNOTATION = 'run.skiff.init';

/**
 * The engine's: make a missing process.cwd (dockerd's SetupWorkingDirectory) in the container, for
 * a rootfs the engine has not mounted itself (PLAN.md `mkdir-cwd`).
 */
export const CREATE_CWD_ANNOTATION = 'run.skiff.create-cwd';

function createCwdSteps(spec: Spec): PlanStep[] {
  const cwd = spec.process?.cwd;
  if (spec.annotations?.[CREATE_CWD_ANNOTATION] !== 'true' || !cwd || !path.posix.isAbsolute(cwd)) return [];
  const normalized = path.posix.normalize(cwd).replace(/(.)\/+$/, '$1');
  return normalized === '/' ? [] : [{ op: 'mkdir-cwd', path: normalized }];
}

function classifyNamespaces(spec: Spec): {
  fresh: Set<NamespaceType>;
  joins: { type: NamespaceType; path: string }[];
} {
  const fresh = new Set<NamespaceType>();
  const joins: { type: NamespaceType; path: string }[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    const type = NAMESPACE_TYPES[ns.type];
    if (!type) throw invalidArgument(`config.json: linux.namespaces: unknown namespace type "${ns.type}"`);
    if (ns.path) joins.push({ type, path: ns.path });
    else fresh.add(type);
  }
  // A joined user namespace owns what the init creates, so it must be entered first.
  joins.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  return { fresh, joins };
}

function idMapText(mappings: IdMapping[] | undefined, field: string): string {
  if (!mappings?.length) {
    throw invalidArgument(`config.json: a new user namespace needs linux.${field}`);
  }
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function timeOffsetsText(offsets: Linux['timeOffsets']): string {
  return Object.entries(offsets ?? {})
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join('');
}

function rootfsPath(input: CompileInput): string {
  const root = input.spec.root?.path;
  if (!root) throw invalidArgument('config.json: root.path is required');
  return path.resolve(input.bundle, root);
}

function isBind(mount: Mount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function mountSteps(mount: Mount, index: number, input: CompileInput): PlanStep[] {
  const where = `config.json: mounts[${index}] (${mount.destination})`;
  if (!path.isAbsolute(mount.destination)) {
    throw invalidArgument(`${where}: destination must be an absolute path`);
  }
  const destination = path.posix.normalize(mount.destination);
  const options = parseMountOptions(mount.options ?? [], where);
  if (mount.type === 'cgroup' || mount.type === 'cgroup2') {
    return cgroupMountSteps(destination, options.flags, input.cgroupViews);
  }
  const steps: PlanStep[] = [];
  if (isBind(mount)) {
    if (!mount.source) throw invalidArgument(`${where}: a bind mount needs a source`);
    const source = path.resolve(input.bundle, mount.source);
    const create: CreateKind = input.isDirectory(source) ? 'dir' : 'file';
    const bindFlags = options.flags & (MS.BIND | MS.REC);
    steps.push({ op: 'mount', source, destination, fstype: '', flags: bindFlags, data: '', create });
    // mount(2) ignores every flag of a bind but MS_REC; the others need a remount of the new mount.
    const rest = options.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (rest) steps.push({ op: 'remount', destination, flags: rest });
  } else {
    steps.push({
      op: 'mount',
      source: mount.source ?? mount.type ?? 'none',
      destination,
      fstype: mount.type ?? '',
      flags: options.flags,
      data: options.data.join(','),
      create: 'dir',
    });
  }
  for (const flags of options.propagation) steps.push({ op: 'propagate', destination, flags });
  return steps;
}

/**
 * A `cgroup` mount shows the container its own cgroups: on v1 a tmpfs with one bind per hierarchy
 * (as runc), on v2 a bind of the container's cgroup2 directory. The mount is read-only when asked.
 */
function cgroupMountSteps(destination: string, flags: number, views: CgroupView[]): PlanStep[] {
  const readonly = flags & MS.RDONLY;
  const bindRemount = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY);
  const steps: PlanStep[] = [];
  const unified = views.length === 1 && views[0]!.name === '';
  if (unified) {
    const view = views[0]!;
    steps.push({
      op: 'mount',
      source: view.hostDir,
      destination,
      fstype: '',
      flags: MS.BIND,
      data: '',
      create: 'dir',
    });
    steps.push({ op: 'remount', destination, flags: bindRemount });
    return steps;
  }
  const tmpfsFlags = (flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC)) | MS.NOSUID | MS.NODEV | MS.NOEXEC;
  steps.push({
    op: 'mount',
    source: 'tmpfs',
    destination,
    fstype: 'tmpfs',
    flags: tmpfsFlags,
    data: 'mode=755',
    create: 'dir',
  });
  for (const view of views) {
    const dest = path.posix.join(destination, view.name);
    steps.push({
      op: 'mount',
      source: view.hostDir,
      destination: dest,
      fstype: '',
      flags: MS.BIND,
      data: '',
      create: 'dir',
    });
    steps.push({ op: 'remount', destination: dest, flags: bindRemount });
    for (const alias of view.aliases) {
      steps.push({ op: 'symlink', target: view.name, path: path.posix.join(destination, alias) });
    }
  }
  if (readonly) steps.push({ op: 'remount', destination, flags: tmpfsFlags | MS.RDONLY });
  return steps;
}

function deviceSteps(devices: Device[], userns: boolean): PlanStep[] {
  const configured = new Set(devices.map((d) => path.posix.normalize(d.path)));
  const all = [...DEFAULT_DEVICES.filter((d) => !configured.has(d.path)), ...devices];
  const steps: PlanStep[] = all.map((device) => deviceStep(device, userns));
  for (const [target, link] of DEV_SYMLINKS) steps.push({ op: 'symlink', target, path: link });
  steps.push({ op: 'symlink', target: 'pts/ptmx', path: '/dev/ptmx' });
  return steps;
}

function deviceStep(device: Device, userns: boolean): PlanStep {
  const devicePath = path.posix.normalize(device.path);
  if (!devicePath.startsWith('/dev/')) {
    throw invalidArgument(`config.json: linux.devices: "${device.path}" must be under /dev`);
  }
  // mknod is not permitted in a user namespace: bind the host's node instead, as runc does.
  if (userns) {
    return {
      op: 'mount',
      source: devicePath,
      destination: devicePath,
      fstype: '',
      flags: MS.BIND,
      data: '',
      create: 'file',
    };
  }
  const typeBits = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO }[device.type];
  if (typeBits === undefined) {
    throw invalidArgument(`config.json: linux.devices: "${device.path}" has unknown type "${device.type}"`);
  }
  if (device.type !== 'p' && (device.major === undefined || device.minor === undefined)) {
    throw invalidArgument(`config.json: linux.devices: "${device.path}" needs major and minor numbers`);
  }
  return {
    op: 'mknod',
    path: devicePath,
    mode: typeBits | ((device.fileMode ?? 0o666) & 0o7777),
    major: device.major ?? 0,
    minor: device.minor ?? 0,
    uid: device.uid ?? 0,
    gid: device.gid ?? 0,
  };
}

function processSteps(spec: Spec, input: CompileInput): PlanStep[] {
  return compileProcessSteps(spec.process, {
    where: 'config.json: process',
    seccomp: spec.linux?.seccomp,
    consoleSocket: input.consoleSocket,
    relayTerminal: input.relayTerminal,
    mountConsole: true,
    extraEnv: input.extraEnv ?? [],
  });
}
