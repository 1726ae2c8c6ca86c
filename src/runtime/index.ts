export { applyExecOverrides, type ExecedProcess, type ExecOptions, type ExecOverrides } from './exec.ts';
export { type CreatedContainer, type CreateOptions, Runtime, type RuntimeOptions } from './lifecycle.ts';
export { ALL_CAPABILITIES } from './plan/index.ts';
export { parseSignal } from './signals.ts';
export type { ContainerRecord } from './state.ts';
