// PLACEHOLDER (reverted before the SPEC branch merges).
import type { ContainerConfig, HostConfig } from './docker-types.ts';
export async function containerFiles(_c: ContainerConfig, _h: HostConfig) {
  return { hostname: '', hosts: '', resolvConf: '' };
}
