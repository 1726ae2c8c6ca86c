import { invalidArgument } from '../../common/index.ts';
import type { Process, Seccomp } from '../../oci/index.ts';
import { capabilitySteps } from './capabilities.ts';
import { RLIM_INFINITY, RLIMITS } from './linux-constants.ts';
import { seccompSteps } from './seccomp.ts';
import type { PlanStep } from './types.ts';

const DEFAULT_UMASK = 0o022;

export interface ProcessStepOptions {
  /** Names the source in errors: `config.json: process` or `process.json`. */
  where: string;
  /** The container's seccomp filter (linux.seccomp), for the init and for exec'd processes alike. */
  seccomp?: Seccomp | undefined;
  /** The socket the shim connects to; required when the process has a terminal. */
  consoleSocket?: string | undefined;
  /**
   * No socket: the shim in the foreground relays the terminal itself (runc run -t without
   * --console-socket). Only when the caller waits in the foreground.
   */
  relayTerminal?: boolean | undefined;
  /** Bind the pty slave on /dev/console (runc does for the init, not for exec'd processes). */
  mountConsole: boolean;
  /** Variables appended to process.env (LISTEN_FDS/LISTEN_PID of socket activation). */
  extraEnv?: string[];
}

/**
 * The records that turn the runtime's process into the container's `process`, for the init of a
 * create and for an exec'd process alike: the shim runs the same steps in both (youki's "create and
 * exec share one path"). They run after the rootfs is entered (create: after the pivot; exec: after
 * joining the mount namespace). The order is runc's (standard_init_linux.go, finalizeNamespace):
 *
 *   terminal (fchown, setsid and TIOCSCTTY still as root), rlimits, LSM exec labels, no_new_privs,
 *   seccomp (without no_new_privs: while CAP_SYS_ADMIN is still held), bounding set, keep-caps, user,
 *   capset + ambient, umask, cwd, env,
 *   seccomp (with no_new_privs: as late as possible, so the runtime's own set-up is not filtered), exec.
 */
export function compileProcessSteps(proc: Process | undefined, options: ProcessStepOptions): PlanStep[] {
  const { where } = options;
  if (!proc) throw invalidArgument(`${where} is required`);
  if (!proc.args?.length) throw invalidArgument(`${where}.args must name the program to run`);
  const { user } = proc;
  if (!user) throw invalidArgument(`${where}.user is required`);
  const nnp = proc.noNewPrivileges === true;
  const filter = seccompSteps(options.seccomp);
  const caps = capabilitySteps(proc.capabilities);
  const steps: PlanStep[] = [];
  const terminal = terminalStep(proc, options);
  if (terminal) steps.push(terminal);
  steps.push(...rlimitSteps(proc, where));
  if (proc.apparmorProfile) steps.push({ op: 'apparmor', profile: proc.apparmorProfile });
  if (proc.selinuxLabel) steps.push({ op: 'selinux-label', label: proc.selinuxLabel });
  if (nnp) steps.push({ op: 'no-new-privs' });
  if (!nnp) steps.push(...filter);
  steps.push(...caps.beforeUser);
  steps.push({ op: 'user', uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [] });
  steps.push(...caps.afterUser);
  steps.push({ op: 'umask', mask: user.umask ?? DEFAULT_UMASK });
  steps.push({ op: 'cwd', path: proc.cwd || '/' });
  for (const entry of [...(proc.env ?? []), ...(options.extraEnv ?? [])]) steps.push({ op: 'env', entry });
  if (nnp) steps.push(...filter);
  steps.push({ op: 'exec', args: proc.args });
  return steps;
}

function rlimitSteps(proc: Process, where: string): PlanStep[] {
  return (proc.rlimits ?? []).map((rlimit, i) => {
    const resource = RLIMITS[rlimit.type];
    if (resource === undefined) {
      throw invalidArgument(`${where}.rlimits[${i}]: unknown type "${rlimit.type}"`);
    }
    return { op: 'rlimit', resource, soft: rlimitValue(rlimit.soft), hard: rlimitValue(rlimit.hard) };
  });
}

/** As runc: a terminal is handed over through the console socket, and a socket is only for one. */
function terminalStep(proc: Process, options: ProcessStepOptions): PlanStep | undefined {
  if (!proc.terminal) {
    if (options.consoleSocket !== undefined) {
      throw invalidArgument(
        `--console-socket: ${options.where}.terminal is false, so there is no terminal to send over it`,
      );
    }
    return undefined;
  }
  if (options.consoleSocket === undefined && !options.relayTerminal) {
    throw invalidArgument(
      `${options.where}.terminal is true: pass --console-socket (the socket that receives the terminal), or run it in the foreground (runc: cannot allocate tty if runc will detach without setting console socket)`,
    );
  }
  const size = proc.consoleSize;
  return {
    op: 'terminal',
    rows: size?.height ?? 0,
    cols: size?.width ?? 0,
    uid: proc.user?.uid ?? 0,
    gid: proc.user?.gid ?? 0,
    console: options.mountConsole,
  };
}

function rlimitValue(value: number): bigint {
  // JSON cannot carry 2^64-1 exactly; anything at or above 2^63 or negative is "unlimited".
  if (value < 0 || value >= 2 ** 63) return RLIM_INFINITY;
  return BigInt(value);
}
