/**
 * The engine's side of networks: where the network layer keeps them for this engine's roots, which
 * containers use a network (so `network rm` and `prune` refuse or skip it), and docker's views of the
 * pre-defined `host` and `none` networks. Attaching containers is the start path's (issue 7).
 */
import path from 'node:path';
import { failedPrecondition } from '../../common/index.ts';
import { DEFAULT_NETWORK, type Network, NetworkStore } from '../../network/index.ts';
import type { Container, ContainerRecords } from '../containers/records.ts';
import type { HostConfig } from '../docker-types.ts';
import type { EnginePaths } from '../paths.ts';
import { networkNameOf } from '../spec/index.ts';
import { containerNetworkNames } from './attach.ts';

/** CNI configuration lists: $SKIFF_CNI_CONFIG_DIR, else <root>/networks. */
export const networkConfigDir = (p: EnginePaths) =>
  process.env.SKIFF_CNI_CONFIG_DIR || path.join(p.root, 'networks');
/** CNI's attachment cache and host-local's leases: volatile like the namespaces they describe. */
export const networkRunDir = (p: EnginePaths) => path.join(p.runroot, 'cni');
/** Where plugins are looked up: $SKIFF_CNI_PLUGIN_DIRS (colon-separated), else Debian's and the usual. */
function pluginDirs(): string[] | undefined {
  const fromEnv = process.env.SKIFF_CNI_PLUGIN_DIRS;
  return fromEnv ? fromEnv.split(':').filter(Boolean) : undefined;
}

export function openNetworks(p: EnginePaths): NetworkStore {
  const dirs = pluginDirs();
  return new NetworkStore({
    configDir: networkConfigDir(p),
    runDir: networkRunDir(p),
    ...(dirs ? { pluginDirs: dirs } : {}),
  });
}

/** docker's pre-defined networks that are not CNI networks. */
export const BUILTIN_NETWORKS = ['host', 'none'] as const;

/** The containers (any state) that are on the network, by name or id. */
export function containersUsing(p: EnginePaths, records: ContainerRecords, network: Network): Container[] {
  return records
    .list()
    .filter((c) => containerNetworkNames(p, c).some((n) => n === network.name || n === network.id));
}

/** Refuses to remove a network that containers use, naming them (docker: "has active endpoints"). */
export function checkUnused(p: EnginePaths, records: ContainerRecords, network: Network): void {
  const users = containersUsing(p, records, network);
  if (users.length > 0)
    throw failedPrecondition(
      `error while removing network: network ${network.name} id ${network.id} has active endpoints (${users.map((c) => c.name).join(', ')}): remove or disconnect them first`,
    );
}

/** At create, as dockerd: a network that does not exist is refused (the default one is made on first use). */
export async function checkNetworkExists(p: EnginePaths, hc: HostConfig): Promise<void> {
  const name = networkNameOf(hc);
  if (name === undefined || name === DEFAULT_NETWORK) return;
  await openNetworks(p).get(name);
}
