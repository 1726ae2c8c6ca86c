import { invalidArgument } from '../../common/index.ts';
import { OCI_RUNTIME_SPEC_VERSION, type Seccomp } from '../../oci/index.ts';
import type { PlanStep, SeccompAction, SeccompCondition } from './types.ts';

const EPERM = 1;

/** OCI action names → the plan's (libseccomp's SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD). */
const ACTIONS: Readonly<Record<string, SeccompAction>> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill-thread',
  SCMP_ACT_KILL_THREAD: 'kill-thread',
  SCMP_ACT_KILL_PROCESS: 'kill-process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'notify',
};

const OPERATORS: Readonly<Record<string, SeccompCondition['op']>> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked-eq',
};

/** seccomp(2)'s SECCOMP_FILTER_FLAG_* bits; TSYNC and NEW_LISTENER are the runtime's business. */
const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/** SCMP_ARCH_X86_64 → x86_64, the name libseccomp's seccomp_arch_resolve_name() takes. */
const ARCHES: Readonly<Record<string, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
};

function action(name: string, field: string): SeccompAction {
  const a = ACTIONS[name];
  if (!a) throw invalidArgument(`config.json: ${field}: unknown seccomp action "${name}"`);
  return a;
}

/** The value an action returns: the errno of ERRNO, the message of TRACE (EPERM by default, as runc). */
function actionRet(a: SeccompAction, errnoRet: number | undefined): number {
  return a === 'errno' || a === 'trace' ? (errnoRet ?? EPERM) : 0;
}

function condition(
  arg: { index: number; value: number; valueTwo?: number; op: string },
  field: string,
): SeccompCondition {
  const op = OPERATORS[arg.op];
  if (!op) throw invalidArgument(`config.json: ${field}.op: unknown operator "${arg.op}"`);
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw invalidArgument(`config.json: ${field}.index: ${arg.index} is not a syscall argument (0-5)`);
  }
  return { index: arg.index, op, value: BigInt(arg.value), valueTwo: BigInt(arg.valueTwo ?? 0) };
}

/**
 * libseccomp rejects two conditions on one argument in a rule; runc then adds one rule per
 * condition (their OR), and so do we.
 */
function conditionGroups(conditions: SeccompCondition[]): SeccompCondition[][] {
  const indexes = new Set(conditions.map((c) => c.index));
  if (indexes.size === conditions.length) return [conditions];
  return conditions.map((c) => [c]);
}

/**
 * `linux.seccomp` as records: the filter's header, its architectures, one rule per syscall name
 * (and condition group), then `seccomp-load`. Names this libseccomp does not know are skipped by
 * the shim, as runc skips them.
 */
export function seccompSteps(seccomp: Seccomp | undefined): PlanStep[] {
  if (!seccomp) return [];
  const field = 'linux.seccomp';
  const defaultAction = action(seccomp.defaultAction, `${field}.defaultAction`);
  const defaultRet = actionRet(defaultAction, seccomp.defaultErrnoRet);
  let flags = 0;
  (seccomp.flags ?? []).forEach((flag, i) => {
    const bit = FLAGS[flag];
    if (bit === undefined) throw invalidArgument(`config.json: ${field}.flags[${i}]: unknown flag "${flag}"`);
    flags |= bit;
  });
  const steps: PlanStep[] = [{ op: 'seccomp', action: defaultAction, errno: defaultRet, flags }];
  (seccomp.architectures ?? []).forEach((arch, i) => {
    const name = ARCHES[arch];
    if (!name)
      throw invalidArgument(`config.json: ${field}.architectures[${i}]: unknown architecture "${arch}"`);
    steps.push({ op: 'seccomp-arch', arch: name });
  });
  (seccomp.syscalls ?? []).forEach((rule, i) => {
    const where = `${field}.syscalls[${i}]`;
    const a = action(rule.action, `${where}.action`);
    const ret = actionRet(a, rule.errnoRet);
    const conditions = (rule.args ?? []).map((arg, j) => condition(arg, `${where}.args[${j}]`));
    // A rule that does what the default does is a no-op, and libseccomp refuses it (runc skips it).
    if (a === defaultAction && ret === defaultRet) return;
    for (const syscall of rule.names) {
      for (const group of conditionGroups(conditions)) {
        steps.push({ op: 'seccomp-rule', action: a, errno: ret, syscall, conditions: group });
      }
    }
  });
  if (usesNotify(seccomp) && !seccomp.listenerPath) {
    throw invalidArgument(`config.json: ${field}.listenerPath is required when SCMP_ACT_NOTIFY is used`);
  }
  steps.push({ op: 'seccomp-load' });
  return steps;
}

function usesNotify(seccomp: Seccomp): boolean {
  return (
    seccomp.defaultAction === 'SCMP_ACT_NOTIFY' ||
    (seccomp.syscalls ?? []).some((rule) => rule.action === 'SCMP_ACT_NOTIFY')
  );
}

/** What the seccomp agent at `listenerPath` is told about the container (the OCI state but its pid). */
export interface ListenerState {
  id: string;
  bundle: string;
  annotations?: Record<string, string> | undefined;
}

/**
 * `linux.seccomp.listenerPath`: the init connects to the agent's socket while it still sees the host's
 * paths (before the pivot; so this record belongs to the create, not to the process records), and
 * `seccomp-load` sends the listener fd there with the container process state, as runc.
 */
export function seccompListenerSteps(seccomp: Seccomp | undefined, state: ListenerState): PlanStep[] {
  if (!seccomp || !usesNotify(seccomp)) return [];
  const ociState = {
    ociVersion: OCI_RUNTIME_SPEC_VERSION,
    id: state.id,
    status: 'creating',
    bundle: state.bundle,
    annotations: state.annotations ?? {},
  };
  return [
    {
      op: 'seccomp-listener',
      path: seccomp.listenerPath!,
      ociVersion: OCI_RUNTIME_SPEC_VERSION,
      metadata: JSON.stringify(seccomp.listenerMetadata ?? ''),
      state: JSON.stringify(ociState),
    },
  ];
}

/** A condition as the plan writes it: `index:op:value:valueTwo`. */
export function encodeCondition(c: SeccompCondition): string {
  return `${c.index}:${c.op}:${c.value}:${c.valueTwo}`;
}

/** What this runtime's seccomp accepts, for the OCI features document (`skiff-runtime features`). */
export function seccompFeatures(): {
  enabled: true;
  actions: string[];
  operators: string[];
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
} {
  const flags = Object.keys(FLAGS);
  return {
    enabled: true,
    actions: Object.keys(ACTIONS),
    operators: Object.keys(OPERATORS),
    archs: Object.keys(ARCHES),
    knownFlags: flags,
    // libseccomp 2.5 cannot set WAIT_KILLABLE_RECV (2.6 can); a config asking for it is refused.
    supportedFlags: flags.filter((f) => f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'),
  };
}
