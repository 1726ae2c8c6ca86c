// The reading side: Docker's inspect JSON and container list (the CLI's ps/inspect, later the API).
export * from './describe.ts';
export {
  type CreateRequest,
  Engine,
  type EngineOptions,
  type ExecRequest,
  type StartHooks,
} from './engine.ts';
export * from './inspect.ts';
export * from './list.ts';
// The resident service runs each client's command as its own lease holder.
export { withLeaseHolder } from './lock.ts';
// docker pause/unpause/top/update (the Engine's methods) and what they answer.
export { parsePsOutput, type TopResult } from './pause.ts';
export type { Container, ContainerState } from './records.ts';
export {
  hasRestartPolicy,
  isRestarting,
  nextBackoffMs,
  parseRestartPolicy,
  restartAfterExit,
  restartAtBoot,
  validateRestartPolicy,
} from './restart-policy.ts';
export { cgroupUpdate, mergeResourceUpdate, type ResourceUpdate } from './update.ts';
export { containersByImage } from './usage.ts';
