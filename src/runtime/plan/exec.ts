import { invalidArgument } from '../../common/index.ts';
import type { Process, Spec } from '../../oci/index.ts';
import { NAMESPACE_TYPES } from './compile.ts';
import { compileProcessSteps } from './process.ts';
import { schedulingSteps } from './process-extras.ts';
import { seccompCacheSetup } from './seccomp-cache.ts';
import type { NamespaceType, Plan } from './types.ts';

export interface ExecCompileInput {
  /** The container's config.json: which namespaces it has. */
  spec: Spec;
  /** The process to run (config.json's process with the exec's overrides, or --process). */
  process: Process;
  /** Host pid of the container's init, whose namespaces the process joins. */
  initPid: number;
  /** `cgroup.procs` files of the container's cgroups. */
  cgroupProcs: string[];
  preserveFds: number;
  consoleSocket?: string | undefined;
  /** In the foreground, a terminal without a socket is relayed by the shim (runc exec -t). */
  relayTerminal?: boolean | undefined;
  /** Where the shim keeps compiled seccomp filters (named in the plan only when there is a filter). */
  seccompCache?: string | undefined;
}

// setns order: the user namespace first (it owns the others), the mount namespace before the pid
// namespace is irrelevant to the kernel, but the cgroup namespace must follow the cgroup joins (it
// does: the shim writes cgroup.procs before any setns).
const JOIN_ORDER: readonly NamespaceType[] = ['user', 'mnt', 'pid', 'net', 'ipc', 'uts', 'cgroup', 'time'];

/**
 * The plan of `exec`: join every namespace of the container's init (by /proc/<pid>/ns/<type>) and its
 * cgroups, then run the same process steps as a create. No fifo: the process runs at once.
 */
export function compileExecPlan(input: ExecCompileInput): Plan {
  const types = new Set<NamespaceType>();
  for (const ns of input.spec.linux?.namespaces ?? []) {
    const type = NAMESPACE_TYPES[ns.type];
    if (!type) throw invalidArgument(`config.json: linux.namespaces: unknown namespace type "${ns.type}"`);
    types.add(type);
  }
  const joins = JOIN_ORDER.filter((t) => types.has(t)).map((type) => ({
    type,
    path: `/proc/${input.initPid}/ns/${type}`,
  }));
  const steps = schedulingSteps({ ...input.spec, process: input.process });
  steps.push(
    ...compileProcessSteps(input.process, {
      where: 'process',
      seccomp: input.spec.linux?.seccomp,
      consoleSocket: input.consoleSocket,
      relayTerminal: input.relayTerminal,
      mountConsole: false,
    }),
  );
  return {
    version: 1,
    setup: {
      cgroupProcs: input.cgroupProcs,
      joins,
      cloneFlags: 0,
      preserveFds: input.preserveFds,
      consoleSocket: input.consoleSocket,
      consoleRelay: Boolean(
        input.process.terminal && input.consoleSocket === undefined && input.relayTerminal,
      ),
      ...seccompCacheSetup(input.spec, input.seccompCache),
    },
    steps,
  };
}
