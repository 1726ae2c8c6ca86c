import { humanDuration } from '../../common/index.ts';
import type { MountSpec } from '../../image/index.ts';
import type { HealthState } from '../health/state.ts';
import { type Attachment, type EndpointConfig, endpointId, networkFilesIn } from '../networks/index.ts';
import { DEFAULT_NETWORK_NAME } from '../spec/index.ts';
import type { Container } from './records.ts';
import { isRestarting } from './restart-policy.ts';

/** Go's zero time.Time as Docker prints a time that never happened. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Docker's State.Status: created | running | paused | restarting | removing | exited | dead. */
export function dockerStateString(c: Container): string {
  if (c.state === 'running') return c.paused ? 'paused' : 'running';
  if (isRestarting(c)) return 'restarting';
  if (c.state === 'removing') return 'removing';
  return c.startedAt === undefined ? 'created' : 'exited';
}

const since = (iso: string | undefined, now: number) =>
  humanDuration(Math.max(0, now - Date.parse(iso ?? '')));

/** Docker's State.String(), the STATUS column: "Up 5 seconds", "Exited (0) 3 minutes ago", "Created". */
export function statusText(c: Container, now = Date.now()): string {
  if (c.state === 'running') return `Up ${since(c.startedAt, now)}${c.paused ? ' (Paused)' : ''}`;
  if (c.state === 'removing') return 'Removal In Progress';
  if (isRestarting(c)) return `Restarting (${c.exitCode ?? 0}) ${since(c.finishedAt, now)} ago`;
  if (c.startedAt === undefined) return 'Created';
  if (c.finishedAt === undefined) return '';
  return `Exited (${c.exitCode ?? 0}) ${since(c.finishedAt, now)} ago`;
}

/** The process a container runs: Entrypoint then Cmd (Docker's Path and Args). */
export function containerCommand(c: Container): { path: string; args: string[] } {
  const argv = [...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])];
  return { path: argv[0] ?? '', args: argv.slice(1) };
}

/** The `Command` of Docker's container list: path and args joined by spaces (unquoted). */
export function commandLine(c: Container): string {
  const { path, args } = containerCommand(c);
  return [path, ...args].join(' ');
}

/** What Docker calls the network a container is on: its NetworkMode (none, host, …). */
export function networkName(c: Container): string {
  const mode = c.hostConfig.NetworkMode;
  return !mode || mode === 'default' || mode === 'bridge' ? DEFAULT_NETWORK_NAME : mode;
}

export interface GraphDriver {
  Name: string;
  Data: Record<string, string> | null;
}

/**
 * Docker's GraphDriver from the snapshot's mount specs: overlay2 with its Lower/Upper/Work/Merged
 * dirs (lowerdirs made absolute when the spec mounts relative links from a working directory).
 */
export function graphDriverOf(specs: readonly MountSpec[], merged: string): GraphDriver {
  const overlay = specs.find((s) => s.type === 'overlay');
  if (!overlay) {
    const bind = specs.find((s) => s.type === 'bind');
    return { Name: 'vfs', Data: bind ? { MergedDir: merged, UpperDir: bind.source } : null };
  }
  const opt = (key: string) =>
    overlay.options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1) ?? undefined;
  const absolute = (p: string) => (overlay.cwd && !p.startsWith('/') ? `${overlay.cwd}/${p}` : p);
  const data: Record<string, string> = {};
  const lower = opt('lowerdir');
  if (lower !== undefined) data.LowerDir = lower.split(':').map(absolute).join(':');
  data.MergedDir = merged;
  const upper = opt('upperdir');
  if (upper !== undefined) data.UpperDir = upper;
  const work = opt('workdir');
  if (work !== undefined) data.WorkDir = work;
  return { Name: 'overlay2', Data: data };
}

/**
 * The mounts Docker lists as the container's MountPoints: every bind, volume and `--mount
 * type=tmpfs`, but not the `--tmpfs` ones (Docker keeps those in HostConfig.Tmpfs only).
 */
export function listedMounts(c: Container): Container['mounts'] {
  const tmpfs = c.hostConfig.Tmpfs ?? {};
  return c.mounts.filter((m) => !(m.type === 'tmpfs' && Object.hasOwn(tmpfs, m.destination)));
}

/** Docker's MountPoint list (inspect's Mounts). */
export function mountPoints(c: Container): Record<string, unknown>[] {
  return listedMounts(c).map((m) => {
    const out: Record<string, unknown> = { Type: m.type };
    if (m.type === 'volume') out.Name = m.name ?? '';
    out.Source = m.type === 'tmpfs' ? '' : m.source;
    out.Destination = m.destination;
    if (m.type === 'volume') out.Driver = 'local';
    out.Mode = m.type === 'bind' && m.readOnly ? 'ro' : m.type === 'volume' ? 'z' : '';
    out.RW = !m.readOnly;
    out.Propagation = m.type === 'bind' ? (m.propagation ?? 'rprivate') : '';
    return out;
  });
}

/** The Config fields Docker always prints, under what the container was created with. */
function fullConfig(c: Container): Record<string, unknown> {
  return {
    Hostname: c.config.Hostname || c.id.slice(0, 12),
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: c.image,
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: {},
    ...c.config,
    ...(c.config.Hostname ? {} : { Hostname: c.id.slice(0, 12) }),
  };
}

/** The HostConfig fields scripts read, with Docker's defaults under the stored ones. */
function fullHostConfig(c: Container): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: networkName(c),
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: null,
    CapDrop: null,
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'runc',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: [],
    Init: null,
    ...c.hostConfig,
  };
  // Docker's daemon stores the mode it resolved ("default" becomes its default network).
  out.NetworkMode = networkName(c);
  return out;
}

/**
 * Docker's NetworkSettings: for none and host one network entry without addresses; on CNI networks
 * what each attachment recorded (network.json beside the bundle) while it runs, the networks it is to
 * be on (networks.json) when it does not, and the published ports. The top-level address fields are
 * filled for the default network only, as docker's.
 */
function networkSettings(c: Container, dir: string): Record<string, unknown> {
  const { state, desired } = networkFilesIn(dir);
  const networks: Record<string, unknown> = {};
  for (const a of state?.attachments ?? []) networks[a.network] = endpointJson(c, a, desired?.[a.network]);
  for (const name of Object.keys(desired ?? {}))
    networks[name] ??= endpointJson(c, undefined, desired?.[name]);
  if (Object.keys(networks).length === 0) networks[networkName(c)] = endpointJson(c, undefined, undefined);
  const primary = state?.attachments[0];
  const top =
    primary?.network === DEFAULT_NETWORK_NAME
      ? (networks[primary.network] as Record<string, unknown>)
      : undefined;
  const ports: Record<string, unknown> = {};
  for (const key of Object.keys(c.config.ExposedPorts ?? {})) ports[key] = null;
  Object.assign(ports, primary?.ports ?? {});
  return {
    Bridge: '',
    SandboxID: '',
    SandboxKey: state?.netns ?? '',
    Ports: ports,
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: top?.EndpointID ?? '',
    Gateway: top?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: top?.IPAddress ?? '',
    IPPrefixLen: top?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: top?.MacAddress ?? '',
    Networks: networks,
  };
}

function endpointJson(
  c: Container,
  a: Attachment | undefined,
  cfg: EndpointConfig | undefined,
): Record<string, unknown> {
  const e = a?.endpoint;
  const ip = cfg?.IPAMConfig?.IPv4Address;
  return {
    IPAMConfig: ip ? { IPv4Address: ip } : null,
    Links: null,
    Aliases: cfg?.Aliases?.length ? cfg.Aliases : null,
    MacAddress: e?.macAddress ?? '',
    DriverOpts: null,
    NetworkID: a?.networkId ?? '',
    EndpointID: a ? endpointId(a.networkId, c.id) : '',
    Gateway: e?.gateway ?? '',
    IPAddress: e?.ipAddress ?? '',
    IPPrefixLen: e?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: a && a.network !== DEFAULT_NETWORK_NAME ? [c.name, c.id.slice(0, 12), ...a.aliases] : null,
  };
}

export interface InspectPaths {
  /** The bundle dir (hostname, hosts, resolv.conf live there). */
  dir: string;
  log: string;
}

export interface InspectExtras {
  paths: InspectPaths;
  graphDriver: GraphDriver;
  /** With `inspect -s`: the writable layer's size and the whole rootfs's. */
  size?: { rw: number; rootFs: number };
  /** State.Health (containers with a health check that have started). */
  health?: HealthState;
}

/** Docker's ContainerJSON, field order as Docker's. */
export function inspectContainer(c: Container, extras: InspectExtras): Record<string, unknown> {
  const { path: cmdPath, args } = containerCommand(c);
  const running = c.state === 'running';
  // Docker keeps Running true while a restart waits out its back-off.
  const restarting = isRestarting(c);
  const logging = c.hostConfig.LogConfig?.Type !== 'none';
  return {
    Id: c.id,
    Created: c.created,
    Path: cmdPath,
    Args: args,
    State: {
      Status: dockerStateString(c),
      Running: running || restarting,
      Paused: running && c.paused === true,
      Restarting: restarting,
      OOMKilled: c.oomKilled,
      Dead: false,
      Pid: running ? (c.pid ?? 0) : 0,
      ExitCode: running ? 0 : (c.exitCode ?? 0),
      Error: c.error ?? '',
      StartedAt: c.startedAt ?? ZERO_TIME,
      FinishedAt: c.finishedAt ?? ZERO_TIME,
      ...(extras.health ? { Health: extras.health } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: `${extras.paths.dir}/resolv.conf`,
    HostnamePath: `${extras.paths.dir}/hostname`,
    HostsPath: `${extras.paths.dir}/hosts`,
    LogPath: logging ? extras.paths.log : '',
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: extras.graphDriver.Name,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: fullHostConfig(c),
    GraphDriver: extras.graphDriver,
    ...(extras.size ? { SizeRw: extras.size.rw, SizeRootFs: extras.size.rootFs } : {}),
    Mounts: mountPoints(c),
    Config: fullConfig(c),
    NetworkSettings: networkSettings(c, extras.paths.dir),
  };
}
