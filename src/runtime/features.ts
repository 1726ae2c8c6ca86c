/**
 * The OCI features document (runtime-spec features.md, `runc features`): what this runtime and this
 * host support, computed at call time from the kernel (cap_last_cap, the cgroup layout, LSMs, resctrl).
 */
import { existsSync, readFileSync } from 'node:fs';
import { OCI_RUNTIME_SPEC_VERSION } from '../oci/index.ts';
import { detectLayout } from './cgroups/index.ts';
import { knownMountOptions, seccompFeatures } from './plan/index.ts';

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
    seccomp: {
      enabled: boolean;
      actions?: string[];
      operators?: string[];
      archs?: string[];
      knownFlags?: string[];
      supportedFlags?: string[];
    };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

/** Capability names by number (linux/capability.h); the kernel's cap_last_cap says how many exist. */
const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** The capabilities this kernel knows (0 … cap_last_cap), by name (pure over its input; unit-tested). */
export function capabilityNames(lastCap: number): string[] {
  return CAPABILITIES.slice(0, lastCap + 1);
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function lsmEnabled(name: 'apparmor' | 'selinux'): boolean {
  const lsms = readText('/sys/kernel/security/lsm');
  if (lsms !== undefined) return lsms.split(',').includes(name);
  if (name === 'apparmor') return readText('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y';
  return existsSync('/sys/fs/selinux/enforce');
}

export async function features(): Promise<Features> {
  const layout = await detectLayout();
  const lastCap = Number(readText('/proc/sys/kernel/cap_last_cap')?.trim() ?? CAPABILITIES.length - 1);
  const controllers = layout.hierarchies.flatMap((h) => h.controllers);
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_RUNTIME_SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: capabilityNames(lastCap),
      cgroup: {
        v1: layout.hierarchies.some((h) => h.version === 1),
        v2: layout.hierarchies.some((h) => h.version === 2),
        // The systemd driver is refused (README): cgroupfs paths only.
        systemd: false,
        systemdUser: false,
        rdma: controllers.includes('rdma'),
      },
      seccomp: seccompFeatures(),
      apparmor: { enabled: lsmEnabled('apparmor') },
      selinux: { enabled: lsmEnabled('selinux') },
      intelRdt: { enabled: existsSync('/sys/fs/resctrl/schemata') },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {},
  };
}
