export { type CgroupView, type CompileInput, compilePlan } from './compile.ts';
export { encodePlan } from './encode.ts';
export { compileExecPlan, type ExecCompileInput } from './exec.ts';
export { compileProcessSteps, type ProcessStepOptions } from './process.ts';
export type { Plan, PlanStep } from './types.ts';
