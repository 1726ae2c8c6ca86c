export { ALL_CAPABILITIES, capabilityMask } from './capabilities.ts';
export { type CgroupView, type CompileInput, compilePlan } from './compile.ts';
export { encodePlan } from './encode.ts';
export { HOOKS_SYNC, hookStatePayload, hookSteps, needsHookSync } from './hooks.ts';
export { knownMountOptions } from './mount-options.ts';
export { processSteps } from './process.ts';
export { checkIntelRdt, schedulingSteps } from './process-extras.ts';
export { seccompFeatures } from './seccomp.ts';
export type { Plan, PlanStep } from './types.ts';
