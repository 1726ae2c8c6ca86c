export { ALL_CAPABILITIES, capabilityMask } from './capabilities.ts';
export { type CgroupView, type CompileInput, compilePlan } from './compile.ts';
export { encodePlan } from './encode.ts';
export { processSteps } from './process.ts';
export type { Plan, PlanStep } from './types.ts';
