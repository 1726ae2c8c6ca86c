/**
 * The OCI runtime spec of a Docker container: dockerd's createSpec (daemon/oci_linux.go) over the
 * merged Config and the HostConfig, with Docker's defaults (moby oci.DefaultLinuxSpec).
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { invalidArgument, notImplemented } from '../../common/index.ts';
import type { Device, DeviceCgroup, Mount, Namespace, Seccomp, Spec } from '../../oci/index.ts';
import { OCI_RUNTIME_SPEC_VERSION } from '../../oci/index.ts';
import { parseSignal } from '../../runtime/index.ts';
import type { ContainerConfig, HostConfig } from '../docker-types.ts';
import type { ResolvedMount } from '../mount-types.ts';
import { hostCapabilities, tweakCapabilities } from './capabilities.ts';
import { devicesFromMapping, hostDevices } from './devices.ts';
import { ociResources, ociRlimits, validateHostConfig } from './resources.ts';
import { defaultSeccomp, dockerSeccompToOci, parseSeccompProfile } from './seccomp.ts';
import { parseSecurityOpts } from './security-opt.ts';
import type { ResolvedUser } from './user.ts';
import { dockerDefaults } from './vendored.ts';

/** OCI annotation that asks skiff-shim to stay PID 1 as Docker's --init (native/PLAN.md `reaper`). */
export const INIT_ANNOTATION = 'run.skiff.init';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Facts of the host a spec depends on; each defaults to this machine's (tests pin them). */
export interface SpecHost {
  /** The capabilities a privileged container gets (default: this process's bounding set). */
  readonly capabilities?: readonly string[];
  /** This process's hard RLIMIT_NOFILE (default: /proc/self/limits). */
  readonly nofileHard?: number;
  readonly swapAccounting?: boolean;
  readonly kernel?: string;
  readonly goArch?: string;
  readonly cpus?: number;
  /** The host's device nodes for a privileged container (default: walk /dev). */
  readonly devices?: () => Device[];
}

export interface BuildSpecInput {
  readonly id: string;
  /** The merged config (mergeImageConfig). */
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  /** Host path of the container's mounted rootfs. */
  readonly rootfs: string;
  /** The resolved Binds / Mounts / Tmpfs / image volumes (mounts.ts). */
  readonly mounts: readonly ResolvedMount[];
  /** Host paths of the container's generated files (files.ts writes their content). */
  readonly files: { readonly hostname: string; readonly hosts: string; readonly resolvConf: string };
  readonly user: ResolvedUser;
  /** The pinned network namespace of a container on a CNI network. */
  readonly netns?: string;
  readonly host?: SpecHost;
}

/**
 * The kind of network a container has: a namespace of its own with only loopback (`none`, and the
 * default until the default network is switched on), the host's (`host`), or a CNI network's
 * (`bridge`: the network's name is networkNameOf()).
 */
export type NetworkKind = 'none' | 'host' | 'bridge' | 'container';

export function networkModeOf(hostConfig: HostConfig): NetworkKind {
  const mode = hostConfig.NetworkMode ?? '';
  if (mode === '' || mode === 'default' || mode === 'none') return 'none';
  if (mode === 'host') return 'host';
  if (mode.startsWith('container:')) {
    if (mode.length === 'container:'.length)
      throw invalidArgument(
        'network mode "container:" needs a container name or id: --network container:NAME',
      );
    return 'container';
  }
  return 'bridge';
}

/** The CNI network a `bridge`-kind container joins: docker's `bridge` is skiff's default network. */
export function networkNameOf(hostConfig: HostConfig): string | undefined {
  if (networkModeOf(hostConfig) !== 'bridge') return undefined;
  const mode = hostConfig.NetworkMode!;
  return mode === 'bridge' ? DEFAULT_NETWORK_NAME : mode;
}

/** The default network's name (network/networks.ts DEFAULT_NETWORK). */
export const DEFAULT_NETWORK_NAME = 'skiff';

/** Config.Hostname when the user gave none: the id's first 12 digits, or the host's on its network. */
export function defaultHostname(id: string, hostConfig: HostConfig): string {
  return networkModeOf(hostConfig) === 'host' ? osHostname() : id.slice(0, 12);
}

/** moby's ReplaceOrAppendEnvValues: overrides replace by key, `KEY` without `=` unsets. */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map(defaults.map((e, i) => [e.split('=', 1)[0]!, i]));
  for (const value of overrides) {
    const eq = value.indexOf('=');
    const at = index.get(eq < 0 ? value : value.slice(0, eq));
    if (eq < 0) {
      if (at !== undefined) out[at] = undefined;
    } else if (at !== undefined) out[at] = value;
    else out.push(value);
  }
  return out.filter((e): e is string => e !== undefined);
}

function processEnv(config: ContainerConfig, hostname: string): string[] {
  const base = [DEFAULT_PATH_ENV, `HOSTNAME=${hostname}`];
  if (config.Tty) base.push('TERM=xterm');
  return replaceOrAppendEnv(base, config.Env ?? []);
}

/** Entrypoint then Cmd; `--entrypoint ""` (Entrypoint [""]) means none. */
export function processArgs(config: ContainerConfig): string[] {
  let entrypoint = config.Entrypoint ?? [];
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  const args = [...entrypoint, ...(config.Cmd ?? [])];
  if (args.length === 0) throw invalidArgument('No command specified');
  return args;
}

const depth = (dest: string) => path.normalize(dest).split('/').length;

/** Docker's tmpfs option merge (mount.MergeTmpfsOptions): later flags and key=values win. */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const opposite: Record<string, string> = {
    exec: 'noexec',
    suid: 'nosuid',
    dev: 'nodev',
    ro: 'rw',
    atime: 'noatime',
    diratime: 'nodiratime',
  };
  for (const [a, b] of Object.entries(opposite)) opposite[b] = a;
  const out: string[] = [];
  for (const opt of options) {
    const key = opt.split('=', 1)[0]!;
    const drop = (o: string) =>
      o === opposite[opt] || o === opt || (opt.includes('=') && o.startsWith(`${key}=`));
    for (let i = out.length - 1; i >= 0; i--) if (drop(out[i]!)) out.splice(i, 1);
    out.push(opt);
  }
  return out;
}

function userMount(m: ResolvedMount): Mount {
  if (m.type === 'tmpfs')
    return {
      destination: m.destination,
      type: 'tmpfs',
      source: 'tmpfs',
      options: mergeTmpfsOptions([
        'noexec',
        'nosuid',
        'nodev',
        'rprivate',
        ...m.options,
        ...(m.readOnly ? ['ro'] : []),
      ]),
    };
  return {
    destination: m.destination,
    type: 'bind',
    source: m.source,
    options: ['rbind', ...(m.readOnly ? ['ro'] : []), m.propagation || 'rprivate', ...m.options],
  };
}

/** moby oci.DefaultLinuxSpec's mounts, /dev/shm sized, /sys writable when privileged. */
function defaultMounts(shmSize: number, privileged: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
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
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', ...(privileged ? [] : ['ro'])],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['ro', 'nosuid', 'noexec', 'nodev'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    },
  ];
}

/** Defaults first (less those the user mounts over), then user and network-file mounts by depth. */
function specMounts(input: BuildSpecInput): Mount[] {
  const hc = input.hostConfig;
  const taken = new Set(input.mounts.map((m) => path.normalize(m.destination)));
  const writable = !hc.ReadonlyRootfs;
  const files: ResolvedMount[] = (
    [
      ['/etc/resolv.conf', input.files.resolvConf],
      ['/etc/hostname', input.files.hostname],
      ['/etc/hosts', input.files.hosts],
    ] as const
  )
    .filter(([dest]) => !taken.has(dest))
    .map(([destination, source]) => ({
      type: 'bind',
      source,
      destination,
      readOnly: !writable,
      options: [],
    }));
  const mountsDev = taken.has('/dev');
  const defaults = defaultMounts(hc.ShmSize || dockerDefaults().shmSize, !!hc.Privileged).filter(
    (m) => !taken.has(m.destination) && !(mountsDev && m.destination.startsWith('/dev/')),
  );
  const users = [...input.mounts, ...files]
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i)
    .map(({ m }) => userMount(m));
  return [...defaults, ...users];
}

/** Shared or slave bind mounts need the rootfs mount to propagate too (dockerd sets it alike). */
function rootfsPropagation(mounts: readonly ResolvedMount[]): string | undefined {
  const props = mounts.map((m) => m.propagation ?? '');
  if (props.some((p) => p === 'shared' || p === 'rshared')) return 'rshared';
  if (props.some((p) => p === 'slave' || p === 'rslave')) return 'rslave';
  return undefined;
}

/** The IPC sysctls a container's own IPC namespace has (docker's ValidateSysctl list). */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/** Whether a sysctl belongs to a namespace the container has of its own (IPC, network, mqueue). */
export function isNamespacedSysctl(key: string): boolean {
  return IPC_SYSCTLS.has(key) || key.startsWith('net.') || key.startsWith('fs.mqueue.');
}

/** linux.sysctl; on the host's network the net.* ones would change the host's and are refused. */
function sysctls(hc: HostConfig, mode: NetworkKind): Record<string, string> | undefined {
  const entries = Object.entries(hc.Sysctls ?? {});
  if (entries.length === 0) return undefined;
  for (const [key] of entries) {
    if (!isNamespacedSysctl(key))
      throw invalidArgument(`sysctl "${key}" is not in a separate kernel namespace`);
    if (mode === 'host' && key.startsWith('net.'))
      throw invalidArgument(`sysctl "${key}" not allowed in host network namespace`);
    if (mode === 'container' && key.startsWith('net.'))
      throw invalidArgument(`sysctl "${key}" not allowed: the network namespace is another container's`);
  }
  return Object.fromEntries(entries);
}

/** dockerd's checks of a Config at create: an absolute WorkingDir, a StopSignal it knows. */
export function validateContainerConfig(config: ContainerConfig): void {
  const cwd = config.WorkingDir ?? '';
  if (cwd !== '' && !cwd.startsWith('/'))
    throw invalidArgument(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  if (config.StopSignal) {
    try {
      parseSignal(config.StopSignal);
    } catch (err) {
      throw invalidArgument(`Invalid signal: ${config.StopSignal}`, err);
    }
  }
}

/**
 * Private pid, ipc, uts, mount and cgroup namespaces, and a network namespace of its own unless on
 * the host's network. PidMode, IpcMode, UTSMode "host" and CgroupnsMode "host" share the host's, as
 * Docker; joining another container's ("container:<id>") is not supported yet.
 */
function namespacesOf(hc: HostConfig, mode: NetworkKind, netns: string | undefined): Namespace[] {
  const share = (field: string, value: string | undefined): boolean => {
    if (!value || value === 'private' || value === 'shareable') return false;
    if (value === 'host') return true;
    throw notImplemented(`${field} "${value}" is not supported (use "host" or leave it unset)`);
  };
  const namespaces: Namespace[] = [];
  if (!share('PidMode', hc.PidMode)) namespaces.push({ type: 'pid' });
  if (!share('IpcMode', hc.IpcMode)) namespaces.push({ type: 'ipc' });
  if (!share('UTSMode', hc.UTSMode)) namespaces.push({ type: 'uts' });
  namespaces.push({ type: 'mount' });
  if (!share('CgroupnsMode', hc.CgroupnsMode)) namespaces.push({ type: 'cgroup' });
  if (mode === 'none') namespaces.push({ type: 'network' });
  if (mode === 'bridge' || mode === 'container') {
    // Made and configured by CNI before the container (DESIGN.md, "Process model"), or another
    // container's (--network container:X): joined by path.
    if (!netns)
      throw invalidArgument(`network ${hc.NetworkMode}: the container's network namespace was not prepared`);
    namespaces.push({ type: 'network', path: netns });
  }
  return namespaces;
}

function nofileHardOfThisProcess(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  return !m || m[2] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[2]);
}

function swapAccountingHere(): boolean {
  return (
    existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') ||
    (existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/memory'))
  );
}

function seccompOf(
  option: string,
  privileged: boolean,
  bounding: readonly string[],
  host: SpecHost,
): Seccomp | undefined {
  if (option === 'unconfined' || privileged) return undefined;
  const facts = {
    bounding,
    ...(host.kernel && { kernel: host.kernel }),
    ...(host.goArch && { goArch: host.goArch }),
  };
  if (option === 'builtin' || option === 'default') return defaultSeccomp(facts);
  return dockerSeccompToOci(parseSeccompProfile(option), facts);
}

export function buildSpec(input: BuildSpecInput): Spec {
  const { config, hostConfig: hc, user } = input;
  const host = input.host ?? {};
  validateHostConfig(hc, host.cpus);
  const mode = networkModeOf(hc);
  const privileged = !!hc.Privileged;
  const security = parseSecurityOpts(hc.SecurityOpt);
  const defaults = dockerDefaults();
  const all = () => host.capabilities ?? hostCapabilities();
  const caps = tweakCapabilities(defaults.capabilities, hc.CapAdd ?? [], hc.CapDrop ?? [], privileged, all);
  const hostname = config.Hostname || defaultHostname(input.id, hc);
  validateContainerConfig(config);
  const cwd = config.WorkingDir || '/';

  const devices: Device[] = [];
  const deviceRules: DeviceCgroup[] = [];
  if (privileged) {
    devices.push(...(host.devices ?? hostDevices)());
    deviceRules.push({ allow: true, access: 'rwm' });
  } else {
    deviceRules.push({ allow: false, access: 'rwm' });
    for (const mapping of hc.Devices ?? []) {
      const found = devicesFromMapping(mapping);
      devices.push(...found.devices);
      deviceRules.push(...found.rules);
    }
  }

  const namespaces = namespacesOf(hc, mode, input.netns);
  const utsHost = !namespaces.some((n) => n.type === 'uts');

  const seccomp = seccompOf(security.seccomp, privileged, caps, host);
  const sysctl = sysctls(hc, mode);
  const propagation = rootfsPropagation(input.mounts);
  const annotations: Record<string, string> = { ...(hc.Annotations ?? {}) };
  if (hc.Init) annotations[INIT_ANNOTATION] = 'true';
  const consoleSize = hc.ConsoleSize?.[0] && hc.ConsoleSize[1] ? hc.ConsoleSize : undefined;

  return {
    ociVersion: OCI_RUNTIME_SPEC_VERSION,
    root: { path: input.rootfs, ...(hc.ReadonlyRootfs && { readonly: true }) },
    // With the host's UTS namespace the runtime must not set a hostname (it would be the host's).
    ...(!utsHost && { hostname }),
    ...(!utsHost && config.Domainname && { domainname: config.Domainname }),
    mounts: specMounts(input),
    process: {
      terminal: !!config.Tty,
      ...(consoleSize && { consoleSize: { height: consoleSize[0], width: consoleSize[1] } }),
      user: {
        uid: user.uid,
        gid: user.gid,
        ...(user.additionalGids.length > 0 && { additionalGids: [...user.additionalGids] }),
      },
      args: processArgs(config),
      env: processEnv(config, hostname),
      cwd,
      // As moby's SetCapabilities: a non-root user gets only the bounding set, as execve would leave it.
      capabilities:
        user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps },
      rlimits: ociRlimits(hc, host.nofileHard ?? nofileHardOfThisProcess()),
      ...(security.noNewPrivileges && { noNewPrivileges: true }),
      ...(hc.OomScoreAdj && { oomScoreAdj: hc.OomScoreAdj }),
    },
    ...(Object.keys(annotations).length > 0 && { annotations }),
    linux: {
      namespaces,
      ...(devices.length > 0 && { devices }),
      cgroupsPath: `/skiff/${input.id}`,
      resources: {
        ...ociResources(hc, { swapAccounting: host.swapAccounting ?? swapAccountingHere() }),
        devices: deviceRules,
      },
      ...(propagation && { rootfsPropagation: propagation }),
      ...(seccomp && { seccomp }),
      ...(sysctl && { sysctl }),
      ...(!privileged && {
        maskedPaths: [...(hc.MaskedPaths ?? defaults.maskedPaths)],
        readonlyPaths: [...(hc.ReadonlyPaths ?? defaults.readonlyPaths)],
      }),
    },
  };
}
