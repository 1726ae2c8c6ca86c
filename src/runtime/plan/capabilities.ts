import { invalidArgument } from '../../common/index.ts';
import type { Capabilities } from '../../oci/index.ts';
import type { PlanStep } from './types.ts';

/** Capability numbers (include/uapi/linux/capability.h); the index is the number. */
const CAPABILITY_NAMES = [
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
] as const;

export const CAPABILITY_NUMBERS: ReadonlyMap<string, number> = new Map(
  CAPABILITY_NAMES.map((name, i) => [name, i]),
);

/** Every capability this compiler knows, by name (e.g. for a privileged container or a test). */
export const ALL_CAPABILITIES: readonly string[] = CAPABILITY_NAMES;

type CapabilitySet = keyof Capabilities;
const SETS: readonly CapabilitySet[] = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];

/** The mask of a list of capability names; an unknown name is an error naming it and its field. */
export function capabilityMask(names: readonly string[], field: string): bigint {
  let mask = 0n;
  names.forEach((name, i) => {
    const n = CAPABILITY_NUMBERS.get(name.toUpperCase());
    if (n === undefined) throw invalidArgument(`config.json: ${field}[${i}]: unknown capability "${name}"`);
    mask |= 1n << BigInt(n);
  });
  return mask;
}

export interface CapabilitySteps {
  /** Before `user`: drop the bounding set, then keep the permitted set across setresuid. */
  beforeUser: PlanStep[];
  /** After `user`: set effective, permitted, inheritable; raise ambient. */
  afterUser: PlanStep[];
}

/**
 * runc's order (finalizeNamespace): bounding set, PR_SET_KEEPCAPS, setresuid, capset, ambient.
 * No `capabilities` at all leaves the process's capabilities as the user switch leaves them (runc too).
 */
export function capabilitySteps(caps: Capabilities | undefined): CapabilitySteps {
  if (!caps) return { beforeUser: [], afterUser: [] };
  const mask = Object.fromEntries(
    SETS.map((set) => [set, capabilityMask(caps[set] ?? [], `process.capabilities.${set}`)]),
  ) as Record<CapabilitySet, bigint>;
  return {
    beforeUser: [{ op: 'bounding', mask: mask.bounding }, { op: 'keep-caps' }],
    afterUser: [
      {
        op: 'caps',
        effective: mask.effective,
        permitted: mask.permitted,
        inheritable: mask.inheritable,
        ambient: mask.ambient,
      },
    ],
  };
}
