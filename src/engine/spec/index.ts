// PLACEHOLDER (reverted before the SPEC branch merges).
import { notImplemented } from '../../common/index.ts';
import type { Spec } from '../../oci/index.ts';
import type { ContainerConfig, HostConfig } from '../docker-types.ts';
import type { ResolvedMount } from '../mount-types.ts';
export function mergeImageConfig(config: ContainerConfig, _image: Record<string, unknown>): ContainerConfig {
  return config;
}
export interface BuildSpecInput {
  id: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  rootfs: string;
  mounts: readonly ResolvedMount[];
  files: { hostname: string; hosts: string; resolvConf: string };
  user: { uid: number; gid: number; additionalGids: number[] };
}
export function buildSpec(_input: BuildSpecInput): Spec {
  throw notImplemented('buildSpec');
}
export async function resolveUser(_rootfs: string, _user: string) {
  return { uid: 0, gid: 0, additionalGids: [] as number[] };
}
