/**
 * The facts `skiff diagnose` collects and the findings it draws from them. This is also the stable
 * shape of `skiff diagnose --format json` (schemaVersion 1): fields are only ever added; a field
 * whose meaning changes gets a new name. Sizes are bytes, times are milliseconds unless a field name
 * says otherwise (`…Ns`, `…Us`), ratios are 0…1, and `null` means "no limit" or "the kernel does not
 * offer it" as the field's comment says.
 */

export const DIAGNOSE_SCHEMA_VERSION = 1;

export interface DiagnoseReport {
  schemaVersion: number;
  id: string;
  name: string;
  image: string;
  /** The container's state: running, created, exited (a running container is diagnosed live). */
  state: string;
  /** When the sampling window ended (ISO 8601 UTC). */
  sampledAt: string;
  /** The sampling window: counters and process states are read at its start and end. */
  intervalMs: number;
  /** The last exit of a container that is not running (null while it runs or before its first start). */
  lastExit: LastExit | null;
  /** null when the container is not running. */
  process: ProcessFacts | null;
  /** The 8 namespaces of the init; empty when the container is not running. */
  namespaces: NamespaceFacts[];
  /** null when the container is not running. */
  cgroup: CgroupFacts | null;
  /** null when the container's snapshot is gone. */
  rootfs: RootfsFacts | null;
  /** null when the container is not running. */
  limits: LimitFacts | null;
  /** Empty when nothing is wrong. */
  findings: Finding[];
}

export interface LastExit {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: string | null;
  /** The last start's failure (docker's State.Error), if any. */
  error: string | null;
}

// ---- process -------------------------------------------------------------------------------------

/** One letter of /proc/PID/stat: R running, S sleeping, D uninterruptible (I/O), Z zombie, T stopped, … */
export type ProcessState = string;

export interface ProcessInfo {
  /** Host pid. */
  pid: number;
  /** Pid inside the container's pid namespace (the last NSpid of /proc/PID/status). */
  nsPid: number | null;
  /** Host pid of the parent. */
  ppid: number;
  /** Depth in the tree under the init (0 = the init, or a process whose parent is outside: exec). */
  depth: number;
  command: string;
  /** The command line (empty for a zombie). */
  args: string[];
  state: ProcessState;
  threads: number;
  /** Threads (the main one included) in D state at the last sample. */
  threadsInD: number;
  /** Open fds (entries of /proc/PID/fd); null when unreadable (a zombie has none). */
  fds: number | null;
  /** RLIMIT_NOFILE soft limit (/proc/PID/limits); null = unlimited or unreadable. */
  nofileLimit: number | null;
  /** How long it has been seen in D state without a sample saying otherwise (ms); 0 when not in D now. */
  dStateMs: number;
  /** How long it has been seen a zombie (ms); 0 when it is not one. */
  zombieMs: number;
}

export interface ProcessFacts {
  /** Host pid of the container's init. */
  pid: number;
  /** Every process of the container, in tree order (parents before children). */
  processes: ProcessInfo[];
  /** Number of processes by state letter. */
  states: Record<string, number>;
  threads: number;
  /** The time between the first and the last sample of the states (ms): a dStateMs or zombieMs this long was seen in every sample. */
  observedMs: number;
}

// ---- namespaces ----------------------------------------------------------------------------------

export const NAMESPACE_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface NamespaceFacts {
  type: NamespaceType;
  /** The namespace's inode (/proc/PID/ns/TYPE); null when the kernel lacks the type. */
  inode: number | null;
  /** Same inode as the host's (see hostReference). */
  sharedWithHost: boolean;
  /** Names of other running containers in the same namespace. */
  sharedWith: string[];
  /** What "the host" was compared with: /proc/1/ns, or skiff's own /proc/self/ns where PID 1's are unreadable. */
  hostReference: string;
}

// ---- cgroup --------------------------------------------------------------------------------------

export interface CgroupFacts {
  /** v1, v2, or hybrid (v1 controllers with cgroup2 beside them). */
  layout: string;
  /** Path of the container's cgroup per hierarchy (`memory`, `cpu,cpuacct`, `unified`, …), from /proc/PID/cgroup. */
  paths: Record<string, string>;
  /** Paused: frozen by the v1 freezer or cgroup2's cgroup.freeze (its processes then show as D). */
  frozen: boolean;
  memory: MemoryFacts | null;
  cpu: CpuFacts | null;
  pids: PidsFacts | null;
  io: IoFacts | null;
  pressure: PressureFacts;
}

export interface MemoryFacts {
  /** Which version's files these come from. */
  version: 1 | 2;
  /** Hard limit (v1 memory.limit_in_bytes, v2 memory.max); null = none. */
  limit: number | null;
  /** --memory-reservation (v1 memory.soft_limit_in_bytes, v2 memory.low); null = none. */
  reservation: number | null;
  /** v2 memory.high; null = none or v1. */
  high: number | null;
  /** Memory + swap limit (v1 memory.memsw.limit_in_bytes; v2 memory.max + memory.swap.max); null = none. */
  swapLimit: number | null;
  usage: number;
  /** usage minus inactive file cache: what the kernel cannot drop (what `docker stats` shows). */
  workingSet: number;
  /** Peak usage (v1 memory.max_usage_in_bytes, v2 memory.peak); null when the kernel lacks it. */
  peak: number | null;
  events: MemoryEvents;
}

export interface MemoryEvents {
  /** v2 memory.events `oom`: allocations that hit the limit and failed reclaim; null on v1. */
  oom: number | null;
  /** Processes the OOM killer killed (v2 memory.events, v1 memory.oom_control `oom_kill`). */
  oomKill: number;
  /** v2 `high` (throttled above memory.high); null on v1. */
  high: number | null;
  /** v2 `max` (usage hit memory.max); null on v1. */
  max: number | null;
  /** v1 memory.failcnt (charges that hit the limit); null on v2. */
  failcnt: number | null;
  /** v1 memory.oom_control `under_oom` (processes are waiting on the OOM killer now); null on v2. */
  underOom: boolean | null;
}

export interface ThrottleWindow {
  periods: number;
  throttled: number;
  /** throttled / periods; null when no period elapsed with a quota. */
  ratio: number | null;
}

export interface CpuFacts {
  version: 1 | 2;
  /** CFS quota per period (µs); null = no quota. */
  quotaUs: number | null;
  periodUs: number | null;
  /** quota / period: the CPUs the quota allows (docker's --cpus); null = no quota. */
  cpus: number | null;
  /** v1 cpu.shares; null on v2. */
  shares: number | null;
  /** v2 cpu.weight; null on v1. */
  weight: number | null;
  /** cpuset.cpus / cpuset.mems (effective on v2); null when no cpuset controller holds the cgroup. */
  cpuset: { cpus: string; mems: string } | null;
  /** CPU time used since start (ns). */
  usageNs: number | null;
  throttling: {
    /** Over the sampling window. */
    window: ThrottleWindow;
    /** Since the cgroup was made (the container's start). */
    sinceStart: ThrottleWindow;
    /** Total time throttled since start (ns). */
    throttledTimeNs: number;
  };
}

export interface PidsFacts {
  current: number;
  /** pids.max; null = no limit. */
  max: number | null;
  /** pids.events `max`: forks refused because of the limit. */
  refusedForks: number | null;
}

export interface IoFacts {
  version: 1 | 2;
  /** blkio.weight / io.weight default; null when not offered. */
  weight: number | null;
  /** blkio.bfq.weight / io.bfq.weight (BFQ scheduler); null when not offered. */
  bfqWeight: number | null;
}

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time (µs). */
  totalUs: number;
}

export interface PressureResource {
  some: PressureLine;
  /** null for cpu where the kernel offers no `full` line. */
  full: PressureLine | null;
}

export interface PressureFacts {
  /** cgroup: the container's own cgroup2 files; host: /proc/pressure (whole machine); unavailable. */
  scope: 'cgroup' | 'host' | 'unavailable';
  cpu: PressureResource | null;
  memory: PressureResource | null;
  io: PressureResource | null;
}

// ---- root filesystem -----------------------------------------------------------------------------

export interface LayerFacts {
  /** The lower directory as mounted. */
  dir: string;
  /** The image layer it is, when it is one of the container's image's (else null). */
  chainId: string | null;
  diffId: string | null;
  /** Uncompressed size of the layer as recorded at unpack; null when unknown. */
  size: number | null;
}

export interface RootfsFacts {
  /** overlay, or bind for the native (copy) snapshotter. */
  driver: string;
  /** Where the facts come from: the kernel's mount table of the container, or the snapshot record. */
  source: 'mountinfo' | 'snapshot';
  /** Lower layers, bottom to top. */
  layers: LayerFacts[];
  upperDir: string | null;
  /** Bytes written by the container (the upper dir's files). */
  writableSize: number;
}

// ---- limits --------------------------------------------------------------------------------------

export interface UsageAgainstLimit {
  used: number;
  /** null = no limit. */
  limit: number | null;
  /** used / limit; null without a limit. */
  ratio: number | null;
}

export interface LimitFacts {
  /** The process closest to its RLIMIT_NOFILE (null when no fd count is readable). */
  fds: (UsageAgainstLimit & { pid: number; command: string }) | null;
  pids: UsageAgainstLimit | null;
  /** Working set against the memory limit. */
  memory: UsageAgainstLimit | null;
}

// ---- findings ------------------------------------------------------------------------------------

export interface Finding {
  /** Stable identifier for scripts: cpu-throttled, oom-kills, zombies, d-state, memory-near-limit, … */
  code: string;
  /** error: something broke (a kill, a hang); warning: close to a limit or degraded. */
  severity: 'error' | 'warning';
  /** Plain words with the advice: "CPU throttled in 38% of periods over the last 10 s: raise --cpus or look at bursts". */
  message: string;
  /** Where the numbers come from: "cpu.stat: nr_throttled 38 of nr_periods 100 …". */
  evidence: string[];
}
