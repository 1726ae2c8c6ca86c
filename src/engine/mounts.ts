// PLACEHOLDER (reverted before the VOL branch merges).
import type { HostConfig } from './docker-types.ts';
import type { ResolvedMount } from './mount-types.ts';
import type { VolumeStore } from './volumes/index.ts';
export async function resolveMounts(
  _v: VolumeStore,
  _h: HostConfig,
  _i: string[],
  _id: string,
): Promise<ResolvedMount[]> {
  return [];
}
export async function copyUpVolumes(_m: readonly ResolvedMount[], _rootfs: string): Promise<void> {}
