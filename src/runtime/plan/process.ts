import { invalidArgument } from '../../common/index.ts';
import type { Process, Seccomp } from '../../oci/index.ts';
import { capabilitySteps } from './capabilities.ts';
import { RLIM_INFINITY, RLIMITS } from './linux-constants.ts';
import { seccompSteps } from './seccomp.ts';
import type { PlanStep } from './types.ts';

const DEFAULT_UMASK = 0o022;

/**
 * The records that turn the runtime's process into the container's `process`: rlimits, LSM labels,
 * no_new_privs, seccomp, capabilities, user, umask, cwd, environment, exec. They depend on nothing
 * the create alone does (namespaces, mounts, pivot), so `exec` into a running container performs the
 * same records. The order is runc's (standard_init_linux.go, finalizeNamespace):
 *
 *   LSM exec labels, no_new_privs, seccomp (without no_new_privs: while CAP_SYS_ADMIN is still held),
 *   bounding set, keep-caps, user, capset + ambient, umask, cwd, env,
 *   seccomp (with no_new_privs: as late as possible, so the runtime's own set-up is not filtered), exec.
 */
export function processSteps(proc: Process | undefined, seccomp: Seccomp | undefined): PlanStep[] {
  if (!proc) throw invalidArgument('config.json: process is required to create a container');
  if (!proc.args?.length) throw invalidArgument('config.json: process.args must name the program to run');
  if (proc.terminal) {
    throw invalidArgument(
      'config.json: process.terminal is true, but skiff-runtime cannot allocate a terminal yet; set it to false',
    );
  }
  const nnp = proc.noNewPrivileges === true;
  const filter = seccompSteps(seccomp);
  const caps = capabilitySteps(proc.capabilities);
  const steps: PlanStep[] = [...rlimitSteps(proc)];
  if (proc.apparmorProfile) steps.push({ op: 'apparmor', profile: proc.apparmorProfile });
  if (proc.selinuxLabel) steps.push({ op: 'selinux-label', label: proc.selinuxLabel });
  if (nnp) steps.push({ op: 'no-new-privs' });
  if (!nnp) steps.push(...filter);
  steps.push(...caps.beforeUser);
  const { user } = proc;
  steps.push({ op: 'user', uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [] });
  steps.push(...caps.afterUser);
  steps.push({ op: 'umask', mask: user.umask ?? DEFAULT_UMASK });
  steps.push({ op: 'cwd', path: proc.cwd || '/' });
  for (const entry of proc.env ?? []) steps.push({ op: 'env', entry });
  if (nnp) steps.push(...filter);
  steps.push({ op: 'exec', args: proc.args });
  return steps;
}

function rlimitSteps(proc: Process): PlanStep[] {
  return (proc.rlimits ?? []).map((rlimit, i) => {
    const resource = RLIMITS[rlimit.type];
    if (resource === undefined) {
      throw invalidArgument(`config.json: process.rlimits[${i}]: unknown type "${rlimit.type}"`);
    }
    return { op: 'rlimit', resource, soft: rlimitValue(rlimit.soft), hard: rlimitValue(rlimit.hard) };
  });
}

function rlimitValue(value: number): bigint {
  // JSON cannot carry 2^64-1 exactly; anything at or above 2^63 or negative is "unlimited".
  if (value < 0 || value >= 2 ** 63) return RLIM_INFINITY;
  return BigInt(value);
}
