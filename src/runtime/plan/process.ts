import { invalidArgument } from '../../common/index.ts';
import type { Process } from '../../oci/index.ts';
import { RLIM_INFINITY, RLIMITS } from './linux-constants.ts';
import type { PlanStep } from './types.ts';

const DEFAULT_UMASK = 0o022;

export interface ProcessStepOptions {
  /** Names the source in errors: `config.json: process` or `process.json`. */
  where: string;
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
 * The records of the process itself, for the init of a create and for an exec'd process alike: the
 * shim runs the same steps in both (youki's "create and exec share one path"). They run after the
 * rootfs is entered (create: after the pivot; exec: after joining the mount namespace).
 */
export function compileProcessSteps(proc: Process | undefined, options: ProcessStepOptions): PlanStep[] {
  const { where } = options;
  if (!proc) throw invalidArgument(`${where} is required`);
  if (!proc.args?.length) throw invalidArgument(`${where}.args must name the program to run`);
  const steps: PlanStep[] = [];
  const terminal = terminalStep(proc, options);
  if (terminal) steps.push(terminal);
  for (const rlimit of proc.rlimits ?? []) {
    const resource = RLIMITS[rlimit.type];
    if (resource === undefined) {
      throw invalidArgument(`${where}.rlimits: unknown type "${rlimit.type}"`);
    }
    steps.push({ op: 'rlimit', resource, soft: rlimitValue(rlimit.soft), hard: rlimitValue(rlimit.hard) });
  }
  const { user } = proc;
  if (!user) throw invalidArgument(`${where}.user is required`);
  steps.push({ op: 'user', uid: user.uid, gid: user.gid, additionalGids: user.additionalGids ?? [] });
  steps.push({ op: 'umask', mask: user.umask ?? DEFAULT_UMASK });
  steps.push({ op: 'cwd', path: proc.cwd || '/' });
  for (const entry of [...(proc.env ?? []), ...(options.extraEnv ?? [])]) steps.push({ op: 'env', entry });
  steps.push({ op: 'exec', args: proc.args });
  return steps;
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
