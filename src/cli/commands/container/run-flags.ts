// PLACEHOLDER (the spec branch brings the real one).
import type { ContainerConfig, HostConfig } from '../../../engine/index.ts';
import type { FlagSpec, ParsedArgs } from '../../flags.ts';
export const RUN_FLAGS: FlagSpec[] = [];
export interface RunOptions {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  pull: 'missing' | 'always' | 'never';
  detach: boolean;
  sigProxy?: boolean;
}
export function parseRunFlags(_parsed: ParsedArgs): RunOptions {
  throw new Error('placeholder');
}
