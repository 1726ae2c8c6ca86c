/**
 * The plan: everything `skiff-shim` performs, decided in TypeScript (see native/PLAN.md).
 * Set-up fields are consumed before the init exists; `steps` run in the init, in order.
 */

export type NamespaceType = 'user' | 'mnt' | 'pid' | 'net' | 'ipc' | 'uts' | 'cgroup' | 'time';

export interface PlanSetup {
  /** `cgroup.procs` files the intermediate joins before it clones the init. */
  cgroupProcs: string[];
  /** Namespaces to join, in order (user first). */
  joins: { type: NamespaceType; path: string }[];
  /** CLONE_NEW* flags for clone3 (never CLONE_NEWTIME). */
  cloneFlags: number;
  /** Offsets text for a new time namespace, or undefined when the time namespace is not new. */
  timeOffsets?: string | undefined;
  uidMap?: string | undefined;
  gidMap?: string | undefined;
  setgroups?: 'allow' | 'deny' | undefined;
  /** The exec fifo of a create; absent in an exec plan (the process runs at once). */
  fifo?: string | undefined;
  preserveFds: number;
  /** Unix socket the shim connects to; the `terminal` step sends the pty master over it. */
  consoleSocket?: string | undefined;
  /** The shim (in --foreground) receives the pty master itself and relays it to its own stdio. */
  consoleRelay?: boolean | undefined;
  /** Directory of compiled seccomp filters (`seccomp-cache`); only in plans with a filter. */
  seccompCache?: string | undefined;
  /** Mounts the shim performs on the host before the init exists (`host-mount`: the rootfs). */
  hostMounts?: HostMount[] | undefined;
}

/** One `host-mount` record: mount(2)'s arguments, with the directory relative paths in data resolve in. */
export interface HostMount {
  target: string;
  type: string;
  source: string;
  flags: number;
  data: string;
  /** '' : no change of directory. */
  cwd: string;
}

export type CreateKind = 'dir' | 'file' | 'none';
export type PivotMode = 'pivot_root' | 'move';

export type SeccompAction =
  | 'allow'
  | 'errno'
  | 'kill-thread'
  | 'kill-process'
  | 'trap'
  | 'trace'
  | 'log'
  | 'notify';

/** One argument comparison of a seccomp rule (libseccomp's SCMP_CMP_*). */
export interface SeccompCondition {
  index: number;
  op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked-eq';
  value: bigint;
  valueTwo: bigint;
}

export type PlanStep =
  | { op: 'become-root' }
  | { op: 'oom-score-adj'; value: number }
  | { op: 'hostname'; name: string }
  | { op: 'domainname'; name: string }
  | { op: 'propagation'; flags: number }
  | { op: 'rootfs'; path: string }
  | {
      op: 'mount';
      source: string;
      destination: string;
      fstype: string;
      flags: number;
      data: string;
      create: CreateKind;
    }
  | { op: 'remount'; destination: string; flags: number }
  | { op: 'propagate'; destination: string; flags: number }
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number; uid: number; gid: number }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'mask'; path: string }
  | { op: 'readonly'; path: string }
  | { op: 'sysctl'; key: string; value: string }
  | { op: 'remount-root'; flags: number }
  | { op: 'pivot'; mode: PivotMode }
  | { op: 'rlimit'; resource: number; soft: bigint; hard: bigint }
  | { op: 'user'; uid: number; gid: number; additionalGids: number[] }
  | { op: 'umask'; mask: number }
  | { op: 'cwd'; path: string }
  | { op: 'env'; entry: string }
  | { op: 'sync'; name: string }
  | { op: 'hook-state'; when: 'create' | 'start' }
  | { op: 'hook'; when: 'now' | 'start'; path: string; timeout: number; args: string[]; env: string[] }
  | { op: 'ioprio'; ioClass: number; level: number }
  | {
      op: 'sched';
      policy: number;
      nice: number;
      priority: number;
      flags: bigint;
      runtime: bigint;
      deadline: bigint;
      period: bigint;
    }
  | { op: 'personality'; persona: number }
  | { op: 'reaper' }
  | { op: 'mkdir-cwd'; path: string }
  | { op: 'exec'; args: string[] }
  // Security records (PLAN.md, "Security records"); capability sets are bit masks by number.
  | { op: 'bounding'; mask: bigint }
  | { op: 'keep-caps' }
  | { op: 'caps'; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
  | { op: 'no-new-privs' }
  | { op: 'seccomp'; action: SeccompAction; errno: number; flags: number }
  | { op: 'seccomp-arch'; arch: string }
  | {
      op: 'seccomp-rule';
      action: SeccompAction;
      errno: number;
      syscall: string;
      conditions: SeccompCondition[];
    }
  | { op: 'seccomp-load' }
  | { op: 'seccomp-listener'; path: string; ociVersion: string; metadata: string; state: string }
  | { op: 'apparmor'; profile: string }
  | { op: 'selinux-label'; label: string }
  | { op: 'selinux-mount-label'; label: string }
  | { op: 'terminal'; rows: number; cols: number; uid: number; gid: number; console: boolean };

export interface Plan {
  version: 1;
  setup: PlanSetup;
  steps: PlanStep[];
}
