/**
 * `docker update`: new resource limits merged into the container's HostConfig (so that inspect shows
 * them and the next start's spec has them) and, on a running container, written to its cgroup by the
 * runtime's update (runc update, reused). dockerd's checks and wording.
 */
import { existsSync } from 'node:fs';
import { invalidArgument } from '../../common/index.ts';
import type { Resources } from '../../oci/index.ts';
import type { HostConfig } from '../docker-types.ts';
import { ociResources, validateHostConfig } from '../spec/index.ts';

/** The resources `docker update` changes (HostConfig's names; undefined: not given). */
export type ResourceUpdate = Pick<
  HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'NanoCpus' | 'CpuShares' | 'CpusetCpus' | 'PidsLimit'
>;

const UPDATE_KEYS = [
  'Memory',
  'MemorySwap',
  'MemoryReservation',
  'NanoCpus',
  'CpuShares',
  'CpusetCpus',
  'PidsLimit',
] as const;

/** The HostConfig after the update, with dockerd's refusals (container.UpdateContainer, verify). */
export function mergeResourceUpdate(current: HostConfig, update: ResourceUpdate): HostConfig {
  if (UPDATE_KEYS.every((k) => update[k] === undefined))
    throw invalidArgument('you must provide one or more flags when using this command');
  const next: HostConfig = { ...current };
  const memory = update.Memory ?? 0;
  const oldSwap = current.MemorySwap ?? 0;
  // dockerd: a new memory limit above the swap limit already set needs a new swap limit with it.
  if (memory > 0 && oldSwap > 0 && memory > oldSwap && (update.MemorySwap ?? 0) === 0)
    throw invalidArgument(
      'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time',
    );
  for (const key of UPDATE_KEYS) {
    const value = update[key];
    if (value === undefined) continue;
    // dockerd changes a limit only when the request gives one (0 means "leave it").
    if (key === 'CpusetCpus' ? value === '' : value === 0) continue;
    (next as Record<string, unknown>)[key] = value;
  }
  // A new memory limit without a swap limit: swap as large again, as at create (adaptContainerSettings).
  if (memory > 0 && (update.MemorySwap ?? 0) === 0 && oldSwap === 0) next.MemorySwap = memory * 2;
  validateHostConfig(next);
  return next;
}

/**
 * What to write to the running container's cgroup: the resources of the new HostConfig in the
 * groups the update touched (memory, cpu, pids), with "unlimited" made explicit where the new value
 * lifts a limit (ociResources leaves those out, which would keep the old one).
 */
export function cgroupUpdate(next: HostConfig, update: ResourceUpdate): Resources {
  const all = ociResources(next, { swapAccounting: swapAccountingHere() });
  const out: Resources = {};
  const touched = (...keys: (keyof ResourceUpdate)[]) => keys.some((k) => update[k] !== undefined);
  if (touched('Memory', 'MemorySwap', 'MemoryReservation') && all.memory) out.memory = all.memory;
  if (touched('NanoCpus', 'CpuShares', 'CpusetCpus') && all.cpu) out.cpu = all.cpu;
  if (touched('PidsLimit')) out.pids = { limit: (next.PidsLimit ?? 0) > 0 ? next.PidsLimit! : -1 };
  return out;
}

/** Whether the memory controller accounts swap here (as the spec builder decides at start). */
function swapAccountingHere(): boolean {
  return (
    existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') ||
    (existsSync('/sys/fs/cgroup/cgroup.controllers') && !existsSync('/sys/fs/cgroup/memory'))
  );
}
