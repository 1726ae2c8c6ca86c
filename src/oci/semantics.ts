/**
 * The rules a Linux runtime needs beyond what the JSON schema can say: values that must be absolute
 * paths, namespaces that other settings depend on, sysctls that would leak onto the host. The checks
 * follow the runtime spec's MUSTs and, where runc refuses a config (libcontainer/configs/validate),
 * runc's rules, so a config skiff accepts runs under runc and the other way round.
 */
import { type ConfigIssue, fieldPath } from './config-issue.ts';
import type { Namespace, NamespaceKind, Spec } from './runtime-spec.ts';

/** The major version of the runtime spec skiff implements; configs of another major are refused. */
const SUPPORTED_MAJOR = 1;

const NAMESPACE_KINDS: ReadonlySet<string> = new Set<NamespaceKind>([
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
]);

/** The resources setrlimit(2) knows on Linux. */
export const RLIMIT_TYPES: ReadonlySet<string> = new Set([
  'RLIMIT_AS',
  'RLIMIT_CORE',
  'RLIMIT_CPU',
  'RLIMIT_DATA',
  'RLIMIT_FSIZE',
  'RLIMIT_LOCKS',
  'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_NOFILE',
  'RLIMIT_NPROC',
  'RLIMIT_RSS',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
  'RLIMIT_SIGPENDING',
  'RLIMIT_STACK',
]);

/** Problems a schema-valid config has for a Linux runtime; empty if none. */
export function checkSemantics(spec: Spec): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const report = (path: (string | number)[], message: string) =>
    issues.push({ path: fieldPath(path), message });

  checkVersion(spec, report);
  checkRoot(spec, report);
  checkProcess(spec, report);
  checkMounts(spec, report);
  const namespaces = checkNamespaces(spec, report);
  checkNamespaceNeeds(spec, namespaces, report);
  checkSysctls(spec, namespaces, report);
  checkLinuxPaths(spec, report);
  return issues;
}

type Report = (path: (string | number)[], message: string) => void;

function checkVersion(spec: Spec, report: Report): void {
  const match = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(spec.ociVersion);
  if (!match) {
    report(
      ['ociVersion'],
      `${JSON.stringify(spec.ociVersion)} is not a SemVer version; write the runtime spec version the config follows, e.g. "1.2.0"`,
    );
  } else if (Number(match[1]) !== SUPPORTED_MAJOR) {
    report(
      ['ociVersion'],
      `version ${spec.ociVersion} is not supported: skiff implements the OCI runtime spec ${SUPPORTED_MAJOR}.x`,
    );
  }
}

function checkRoot(spec: Spec, report: Report): void {
  // The schema makes `root` optional (Hyper-V containers have none) but on Linux the path is required.
  if (spec.root === undefined) {
    report(['root', 'path'], 'is required on Linux: set root.path to the root filesystem, e.g. "rootfs"');
  } else if (spec.root.path === '') {
    report(['root', 'path'], 'must not be empty: set it to the root filesystem, e.g. "rootfs"');
  }
}

function checkProcess(spec: Spec, report: Report): void {
  const process = spec.process;
  if (process === undefined) return;
  if (!process.cwd.startsWith('/')) {
    report(
      ['process', 'cwd'],
      `${JSON.stringify(process.cwd)} is not an absolute path; the working directory must start with "/"`,
    );
  }
  if (process.args === undefined || process.args.length === 0) {
    report(['process', 'args'], 'must name the program to run (at least one entry), e.g. ["sh"]');
  }
  // The schema lets `user` and its ids be left out; the spec requires them on POSIX platforms, and
  // guessing root for a missing user is not a runtime's call.
  if (process.user === undefined) {
    report(['process', 'user'], 'is required on Linux: set {"uid": 0, "gid": 0} to run as root');
  } else {
    if (process.user.uid === undefined) report(['process', 'user', 'uid'], 'is required on Linux');
    if (process.user.gid === undefined) report(['process', 'user', 'gid'], 'is required on Linux');
  }
  if (process.oomScoreAdj !== undefined && (process.oomScoreAdj < -1000 || process.oomScoreAdj > 1000)) {
    report(
      ['process', 'oomScoreAdj'],
      `${process.oomScoreAdj} is out of range: it must be within -1000..1000`,
    );
  }
  const seen = new Map<string, number>();
  process.rlimits?.forEach((rlimit, i) => {
    if (!RLIMIT_TYPES.has(rlimit.type)) {
      report(
        ['process', 'rlimits', i, 'type'],
        `unknown resource ${JSON.stringify(rlimit.type)}; Linux knows ${[...RLIMIT_TYPES].join(', ')}`,
      );
    }
    const first = seen.get(rlimit.type);
    if (first !== undefined) {
      report(
        ['process', 'rlimits', i, 'type'],
        `${rlimit.type} is set twice (also at ${fieldPath(['process', 'rlimits', first])}); keep one entry`,
      );
    } else {
      seen.set(rlimit.type, i);
    }
    if (rlimit.soft > rlimit.hard) {
      report(
        ['process', 'rlimits', i],
        `soft limit ${rlimit.soft} exceeds hard limit ${rlimit.hard}; setrlimit(2) refuses that`,
      );
    }
  });
}

function checkMounts(spec: Spec, report: Report): void {
  // config.md: "destination ... For the Linux platform ... MUST be an absolute path." runc still
  // accepts relative destinations from very old configs; skiff follows the spec.
  spec.mounts?.forEach((mount, i) => {
    if (!mount.destination.startsWith('/')) {
      report(
        ['mounts', i, 'destination'],
        `${JSON.stringify(mount.destination)} is not an absolute path; write it as seen inside the container, e.g. "/${mount.destination}"`,
      );
    }
  });
}

/** The namespaces by type, after reporting unknown and duplicate entries. */
function checkNamespaces(spec: Spec, report: Report): Map<string, Namespace> {
  const byType = new Map<string, Namespace>();
  const index = new Map<string, number>();
  spec.linux?.namespaces?.forEach((ns, i) => {
    if (!NAMESPACE_KINDS.has(ns.type)) {
      report(
        ['linux', 'namespaces', i, 'type'],
        `unknown namespace type ${JSON.stringify(ns.type)}; use one of ${[...NAMESPACE_KINDS].join(', ')}`,
      );
      return;
    }
    const first = index.get(ns.type);
    if (first !== undefined) {
      report(
        ['linux', 'namespaces', i, 'type'],
        `namespace "${ns.type}" is listed twice (also at ${fieldPath(['linux', 'namespaces', first])}); list each type once`,
      );
      return;
    }
    index.set(ns.type, i);
    byType.set(ns.type, ns);
    if (ns.path !== undefined && !ns.path.startsWith('/')) {
      report(
        ['linux', 'namespaces', i, 'path'],
        `${JSON.stringify(ns.path)} is not an absolute path; give the namespace file to join, e.g. "/proc/1234/ns/${nsFile(ns.type)}"`,
      );
    }
  });
  return byType;
}

function nsFile(type: NamespaceKind): string {
  return type === 'network' ? 'net' : type === 'mount' ? 'mnt' : type;
}

function addNamespace(type: NamespaceKind): string {
  return `add {"type": "${type}"} to linux.namespaces`;
}

function checkNamespaceNeeds(spec: Spec, namespaces: Map<string, Namespace>, report: Report): void {
  const linux = spec.linux;
  if (!namespaces.has('user')) {
    if (linux?.uidMappings !== undefined && linux.uidMappings.length > 0) {
      report(
        ['linux', 'uidMappings'],
        `uid mappings need a user namespace: ${addNamespace('user')} or remove the mappings`,
      );
    }
    if (linux?.gidMappings !== undefined && linux.gidMappings.length > 0) {
      report(
        ['linux', 'gidMappings'],
        `gid mappings need a user namespace: ${addNamespace('user')} or remove the mappings`,
      );
    }
  }
  // As runc: a UTS namespace of the container's own, new or joined, or the host's name would change.
  if (!namespaces.has('uts')) {
    if (spec.hostname !== undefined && spec.hostname !== '') {
      report(
        ['hostname'],
        `unable to set hostname without a private UTS namespace: ${addNamespace('uts')} or remove hostname`,
      );
    }
    if (spec.domainname !== undefined && spec.domainname !== '') {
      report(
        ['domainname'],
        `unable to set domainname without a private UTS namespace: ${addNamespace('uts')} or remove domainname`,
      );
    }
  }
  if (
    linux?.timeOffsets !== undefined &&
    Object.keys(linux.timeOffsets).length > 0 &&
    !namespaces.has('time')
  ) {
    report(
      ['linux', 'timeOffsets'],
      `time offsets need a time namespace: ${addNamespace('time')} or remove timeOffsets`,
    );
  }
}

/**
 * As runc: a sysctl is allowed only if the kernel keeps it per namespace and the container has that
 * namespace of its own; anything else would be written on the host.
 */
function checkSysctls(spec: Spec, namespaces: Map<string, Namespace>, report: Report): void {
  const sysctl = spec.linux?.sysctl;
  if (sysctl === undefined) return;
  for (const key of Object.keys(sysctl)) {
    const path = ['linux', 'sysctl', key];
    // sysctl(8) accepts "net/ipv4/ip_forward" as well as "net.ipv4.ip_forward".
    const name = key.replaceAll('/', '.');
    if (isIpcSysctl(name)) {
      if (!namespaces.has('ipc')) {
        report(path, `is kept per IPC namespace and would change the host's: ${addNamespace('ipc')}`);
      }
    } else if (name.startsWith('net.')) {
      if (!namespaces.has('network')) {
        report(path, `is kept per network namespace and would change the host's: ${addNamespace('network')}`);
      }
    } else if (name === 'kernel.domainname' && namespaces.has('uts')) {
      // Namespaced, and the OCI config has no field of its own for it.
    } else if (name === 'kernel.hostname' && namespaces.has('uts')) {
      report(path, 'conflicts with the OCI "hostname" field: set the hostname there instead');
    } else {
      report(
        path,
        'is not kept per namespace, so setting it would change the host: remove it, or set it on the host',
      );
    }
  }
}

function isIpcSysctl(name: string): boolean {
  return (
    name.startsWith('kernel.shm') ||
    name.startsWith('kernel.msg') ||
    name === 'kernel.sem' ||
    name === 'kernel.sem_next_id' ||
    name.startsWith('fs.mqueue.')
  );
}

function checkLinuxPaths(spec: Spec, report: Report): void {
  const linux = spec.linux;
  if (linux === undefined) return;
  linux.devices?.forEach((device, i) => {
    if (!device.path.startsWith('/')) {
      report(
        ['linux', 'devices', i, 'path'],
        `${JSON.stringify(device.path)} is not an absolute path; write the device's path inside the container, e.g. "/dev/fuse"`,
      );
    }
  });
  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    linux[field]?.forEach((path, i) => {
      if (!path.startsWith('/')) {
        report(
          ['linux', field, i],
          `${JSON.stringify(path)} is not an absolute path; write it as seen inside the container`,
        );
      }
    });
  }
}
