export { ALL_CAPABILITIES, capabilityMask } from './capabilities.ts';
export {
  type CgroupView,
  type CompileInput,
  CREATE_CWD_ANNOTATION,
  compilePlan,
  INIT_ANNOTATION,
} from './compile.ts';
export { encodePlan } from './encode.ts';
export { compileExecPlan, type ExecCompileInput } from './exec.ts';
export { HOOKS_SYNC, hookStatePayload, hookSteps, needsHookSync } from './hooks.ts';
export type { RootfsMount } from './host-mounts.ts';
export { knownMountOptions } from './mount-options.ts';
export { compileProcessSteps, type ProcessStepOptions } from './process.ts';
export { checkIntelRdt, schedulingSteps } from './process-extras.ts';
export { seccompFeatures } from './seccomp.ts';
export type { Plan, PlanStep } from './types.ts';
