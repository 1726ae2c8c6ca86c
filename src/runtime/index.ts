// The host's cgroup hierarchies, for the engine's diagnose (which reads the container's cgroup files).

export type { Cgroup, CgroupDir } from './cgroups/index.ts';
export { type CgroupLayout, type Hierarchy, loadCgroupLayout } from './cgroups/index.ts';
export { applyExecOverrides, type ExecedProcess, type ExecOptions, type ExecOverrides } from './exec.ts';
export { type CreatedContainer, type CreateOptions, Runtime, type RuntimeOptions } from './lifecycle.ts';
export type { MonitorOptions, MonitorTimer } from './monitor.ts';
// runc's operations on a running container, which the engine's pause/unpause/top/update reuse.
export {
  containerCgroup,
  containerPids,
  pauseContainer,
  psTable,
  resumeContainer,
  updateContainer,
} from './operations.ts';
export { ALL_CAPABILITIES, CREATE_CWD_ANNOTATION, INIT_ANNOTATION } from './plan/index.ts';
export { parseSignal } from './signals.ts';
export type { ContainerRecord } from './state.ts';
