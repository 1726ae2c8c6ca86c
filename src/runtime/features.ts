/**
 * The OCI features document (runtime-spec features.md, `runc features`): what this runtime and this
 * host support, computed at call time from the kernel (cap_last_cap, the cgroup layout, LSMs, resctrl).
 */
import { existsSync, readFileSync } from 'node:fs';
import { OCI_RUNTIME_SPEC_VERSION } from '../oci/index.ts';
import { detectLayout } from './cgroups/index.ts';
import { ALL_CAPABILITIES, knownMountOptions, seccompFeatures } from './plan/index.ts';

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

/** The capabilities this kernel knows (0 … cap_last_cap), by name (pure over its input; unit-tested). */
export function capabilityNames(lastCap: number): string[] {
  return ALL_CAPABILITIES.slice(0, lastCap + 1);
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
  const lastCap = Number(readText('/proc/sys/kernel/cap_last_cap')?.trim() ?? ALL_CAPABILITIES.length - 1);
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
