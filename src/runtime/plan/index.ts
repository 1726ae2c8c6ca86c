export { type CgroupView, type CompileInput, compilePlan } from './compile.ts';
export { encodePlan } from './encode.ts';
export { knownMountOptions } from './mount-options.ts';
export type { Plan, PlanStep } from './types.ts';
