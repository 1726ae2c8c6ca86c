/**
 * The Docker Engine API's container configuration (specs/docker-engine-api.yaml: ContainerConfig,
 * HostConfig with its Resources, Mount, RestartPolicy, HealthConfig), with Docker's PascalCase field
 * names, so that the engine takes, stores and prints (`inspect`) what Docker clients send and read.
 * Only the fields skiff reads or keeps are listed; every field is optional as in the API.
 */

/** `"80/tcp": {}` and `"/data": {}`: the API's sets are objects with empty values. */
export type EmptyObjectSet = Record<string, Record<string, never>>;

export interface HealthConfig {
  /** [] inherit, ["NONE"], ["CMD", args…], ["CMD-SHELL", command]. */
  Test?: string[];
  /** Nanoseconds; 0 inherits. */
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
  StartInterval?: number;
}

/** The API's ContainerConfig (what `inspect` prints as Config). */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: EmptyObjectSet | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  /** `VAR=value` entries. */
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: EmptyObjectSet | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  /** Seconds. */
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'image' | 'npipe' | 'cluster';

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

export interface BindOptions {
  Propagation?: Propagation;
  NonRecursive?: boolean;
  CreateMountpoint?: boolean;
  ReadOnlyNonRecursive?: boolean;
  ReadOnlyForceRecursive?: boolean;
}

export interface VolumeOptions {
  NoCopy?: boolean;
  Labels?: Record<string, string>;
  DriverConfig?: { Name?: string; Options?: Record<string, string> };
  Subpath?: string;
}

export interface TmpfsOptions {
  /** Bytes; 0 or absent: the kernel's default (half the RAM). */
  SizeBytes?: number;
  /** File mode of the tmpfs root (an integer, e.g. 0o1777). */
  Mode?: number;
  /** Further options as [name] or [name, value] pairs. */
  Options?: string[][];
}

/** An entry of HostConfig.Mounts (`--mount`). */
export interface Mount {
  Target?: string;
  Source?: string;
  Type?: MountType;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: BindOptions;
  VolumeOptions?: VolumeOptions;
  TmpfsOptions?: TmpfsOptions;
}

/** A mount as `inspect` prints it under Mounts (the API's MountPoint). */
export interface MountPoint {
  Type?: MountType;
  Name?: string;
  Source?: string;
  Destination?: string;
  Driver?: string;
  Mode?: string;
  RW?: boolean;
  Propagation?: string;
}

export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  /** Some of r, w, m. */
  CgroupPermissions?: string;
}

export interface Ulimit {
  Name?: string;
  Soft?: number;
  Hard?: number;
}

export interface RestartPolicy {
  Name?: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface LogConfig {
  Type?: string;
  Config?: Record<string, string>;
}

/** The API's Resources, the part of HostConfig that `docker update` may change. */
export interface Resources {
  CpuShares?: number;
  Memory?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  MemoryReservation?: number;
  /** Memory + swap; -1 unlimited swap. */
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  NanoCpus?: number;
  OomKillDisable?: boolean | null;
  Init?: boolean | null;
  /** 0 or -1: unlimited; null: unchanged. */
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
}

/** The API's HostConfig. */
export interface HostConfig extends Resources {
  /** `-v`, verbatim: `src:dst[:opts]`. */
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: LogConfig;
  NetworkMode?: string;
  PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: Mount[] | null;
  ConsoleSize?: [number, number] | null;
  Annotations?: Record<string, string> | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: 'private' | 'host' | '';
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  /** `--tmpfs`: destination -> mount options ("size=64m,mode=1777"). */
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  /** Bytes of /dev/shm; 0: Docker's 64 MiB. */
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}
