export {
  type CreateRequest,
  Engine,
  type EngineOptions,
  type ExecRequest,
  type StartHooks,
} from './engine.ts';
export type { Container, ContainerState } from './records.ts';
export { containersByImage } from './usage.ts';
