/**
 * Compiles process.ioPriority, process.scheduler and linux.personality into the init's `ioprio`,
 * `sched` and `personality` records (native/shim/sched.c), and refuses linux.intelRdt clearly.
 */
import { failedPrecondition, invalidArgument } from '../../common/index.ts';
import type { Spec } from '../../oci/index.ts';
import type { PlanStep } from './types.ts';

const IOPRIO_CLASSES: Readonly<Record<string, number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

const SCHED_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

const PERSONALITY_FLAGS: Readonly<Record<string, number>> = {
  UNAME26: 0x0020000,
  ADDR_NO_RANDOMIZE: 0x0040000,
  FDPIC_FUNCPTRS: 0x0080000,
  MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000,
  READ_IMPLIES_EXEC: 0x0400000,
  ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000,
  WHOLE_SECONDS: 0x2000000,
  STICKY_TIMEOUTS: 0x4000000,
  ADDR_LIMIT_3GB: 0x8000000,
};

function lookup(table: Readonly<Record<string, number>>, value: string, field: string): number {
  const found = table[value];
  if (found === undefined) {
    throw invalidArgument(
      `config.json: ${field}: unknown value "${value}" (use one of ${Object.keys(table).join(', ')})`,
    );
  }
  return found;
}

/**
 * The records that must run while the init still has its privileges (before `user`): an RT I/O
 * class and a real-time policy need CAP_SYS_ADMIN / CAP_SYS_NICE, which the user may not have.
 */
export function schedulingSteps(spec: Spec): PlanStep[] {
  const steps: PlanStep[] = [];
  const io = spec.process?.ioPriority;
  if (io) {
    const ioClass = lookup(IOPRIO_CLASSES, io.class, 'process.ioPriority.class');
    if (!Number.isInteger(io.priority) || io.priority < 0 || io.priority > 7) {
      throw invalidArgument(`config.json: process.ioPriority.priority: ${io.priority} is not 0 to 7`);
    }
    steps.push({ op: 'ioprio', ioClass, level: io.priority });
  }
  const sched = spec.process?.scheduler;
  if (sched) {
    const policy = lookup(SCHED_POLICIES, sched.policy, 'process.scheduler.policy');
    let flags = 0;
    for (const flag of sched.flags ?? []) flags |= lookup(SCHED_FLAGS, flag, 'process.scheduler.flags');
    const nice = sched.nice ?? 0;
    if (nice < -20 || nice > 19)
      throw invalidArgument(`config.json: process.scheduler.nice: ${nice} is not -20 to 19`);
    const priority = sched.priority ?? 0;
    const realtime = policy === 1 || policy === 2;
    if (realtime ? priority < 1 || priority > 99 : priority !== 0) {
      throw invalidArgument(
        `config.json: process.scheduler.priority: ${priority} is not valid for ${sched.policy} ` +
          `(${realtime ? '1 to 99' : 'must be 0'})`,
      );
    }
    steps.push({
      op: 'sched',
      policy,
      nice,
      priority,
      flags: BigInt(flags),
      runtime: BigInt(sched.runtime ?? 0),
      deadline: BigInt(sched.deadline ?? 0),
      period: BigInt(sched.period ?? 0),
    });
  }
  const persona = spec.linux?.personality;
  if (persona) {
    let value = lookup(PERSONALITY_DOMAINS, persona.domain, 'linux.personality.domain');
    for (const flag of persona.flags ?? [])
      value |= lookup(PERSONALITY_FLAGS, flag, 'linux.personality.flags');
    steps.push({ op: 'personality', persona: value });
  }
  return steps;
}

/**
 * linux.intelRdt needs the resctrl filesystem; without it the config cannot be honoured, and saying
 * so before anything is made beats ignoring a cache or bandwidth limit. `resctrlMounted` is the host's
 * answer; the group itself is joined by ../resctrl.ts once the init exists.
 */
export function checkIntelRdt(spec: Spec, resctrlMounted: boolean): void {
  if (!spec.linux?.intelRdt || resctrlMounted) return;
  throw failedPrecondition(
    'config.json: linux.intelRdt needs the resctrl filesystem at /sys/fs/resctrl, which this host does not have ' +
      '(mount -t resctrl resctrl /sys/fs/resctrl on a CPU with Intel RDT / AMD PQoS), or drop linux.intelRdt',
  );
}
