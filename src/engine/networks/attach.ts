/**
 * A container on a CNI network (DESIGN.md, "Process model"): at each start its network namespace is
 * pinned under the run root and attached (CNI ADD, published ports through portmap) before the
 * container is created, which then joins it by path; after it exits — cleanup, rm, a recovery — the
 * attachment is DELeted and the namespace removed. What it got (address, ports) is kept beside the
 * bundle in network.json for inspect and ps. On a user-defined network the members reach each other
 * by name: every member's /etc/hosts lists the others (rewritten in place — it is bind-mounted — each
 * time one joins or leaves).
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, writeFileAtomic } from '../../common/index.ts';
import {
  createNetns,
  DEFAULT_NETWORK,
  type Endpoint,
  type Network,
  type NetworkStore,
  removeNetns,
} from '../../network/index.ts';
import type { Container } from '../containers/records.ts';
import { hostsFile } from '../files.ts';
import { containerDir, type EnginePaths } from '../paths.ts';
import { defaultHostname, networkNameOf } from '../spec/index.ts';
import { openNetworks } from './networks.ts';
import { type PortMap, requestedBindings, resolveBindings } from './ports.ts';

/** What network.json records of a running container's network. */
export interface ContainerNetworkState {
  readonly netns: string;
  readonly network: string;
  readonly networkId: string;
  readonly endpoint: Endpoint;
  readonly ports: PortMap;
}

const IF_NAME = 'eth0';

export const netnsPath = (p: EnginePaths, id: string) => path.join(p.runroot, 'netns', id);
const stateFile = (p: EnginePaths, id: string) => path.join(containerDir(p, id), 'network.json');

/** The network.json of a container (undefined when it is not attached now). */
export function readNetworkState(p: EnginePaths, id: string): ContainerNetworkState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(p, id), 'utf8')) as ContainerNetworkState;
  } catch {
    return undefined;
  }
}

/** Whether the container's network mode is a CNI network (otherwise none/host: nothing to do). */
export function usesCniNetwork(c: Container): boolean {
  return networkNameOf(c.hostConfig) !== undefined;
}

async function networkFor(store: NetworkStore, name: string): Promise<Network> {
  return name === DEFAULT_NETWORK ? store.ensureDefault() : store.get(name);
}

/**
 * Pins the namespace and attaches the container; returns the namespace's path. Anything a previous
 * run left (a crash) is detached first. On failure nothing stays attached.
 */
export async function connectContainer(
  paths: EnginePaths,
  c: Container,
  peers: () => Container[],
): Promise<string | undefined> {
  const name = networkNameOf(c.hostConfig);
  if (name === undefined) return undefined;
  const store = openNetworks(paths);
  await disconnectContainer(paths, c, peers);
  const network = await networkFor(store, name);
  const netns = netnsPath(paths, c.id);
  await createNetns(netns);
  try {
    const taken = (await store.publishedPorts())
      .filter((p) => p.containerId !== c.id)
      .flatMap((p) => p.mappings);
    const { ports, mappings } = await resolveBindings(requestedBindings(c.config, c.hostConfig), taken);
    const endpoint = await store.attach(network, {
      containerId: c.id,
      netns,
      ifName: IF_NAME,
      ...(mappings.length ? { portMappings: mappings } : {}),
    });
    const state: ContainerNetworkState = {
      netns,
      network: network.name,
      networkId: network.id,
      endpoint,
      ports,
    };
    await writeFileAtomic(stateFile(paths, c.id), JSON.stringify(state), 0o644);
    await refreshHosts(paths, network, [c, ...peers()]);
    return netns;
  } catch (err) {
    await disconnectContainer(paths, c, peers).catch(() => undefined);
    throw err;
  }
}

/** CNI DEL and the namespace's removal; a container that is not attached is left as it is. */
export async function disconnectContainer(
  paths: EnginePaths,
  c: Container,
  peers: () => Container[],
): Promise<void> {
  const state = readNetworkState(paths, c.id);
  const name = state?.network ?? networkNameOf(c.hostConfig);
  const store = openNetworks(paths);
  const netns = netnsPath(paths, c.id);
  if (name !== undefined) {
    // The attachment is cached under the network's name; NetworkMode may hold its id.
    const networkName =
      state?.network ??
      (await store.get(resolvedName(name)).then(
        (n) => n.name,
        () => resolvedName(name),
      ));
    const cached = await store.cni.cached(networkName, c.id, IF_NAME);
    if (cached) await store.detach(cached.networkName, c.id, IF_NAME, netns);
  }
  await removeNetns(netns);
  await rm(stateFile(paths, c.id), { force: true });
  if (state) {
    const network = await store.get(state.network).catch(() => undefined);
    if (network)
      await refreshHosts(
        paths,
        network,
        peers().filter((p) => p.id !== c.id),
      );
  }
}

const resolvedName = (name: string) => (name === 'bridge' ? DEFAULT_NETWORK : name);

/**
 * Rewrites /etc/hosts of every attached member of a user-defined network so that each lists the
 * others (docker resolves container names on user-defined networks only, not on its default one).
 */
async function refreshHosts(paths: EnginePaths, network: Network, candidates: Container[]): Promise<void> {
  if (network.name === DEFAULT_NETWORK) return writeOwnHosts(paths, candidates[0]);
  const members = candidates
    .map((c) => ({ c, state: readNetworkState(paths, c.id) }))
    .filter((m): m is { c: Container; state: ContainerNetworkState } => m.state?.network === network.name);
  for (const { c, state } of members) {
    const peers = members
      .filter((m) => m.c.id !== c.id)
      .map((m) => ({ ip: m.state.endpoint.ipAddress, names: [m.c.name, m.c.id.slice(0, 12)] }));
    await writeHosts(paths, c, state, peers);
  }
}

async function writeOwnHosts(paths: EnginePaths, c: Container | undefined): Promise<void> {
  const state = c && readNetworkState(paths, c.id);
  if (c && state) await writeHosts(paths, c, state, []);
}

async function writeHosts(
  paths: EnginePaths,
  c: Container,
  state: ContainerNetworkState,
  peers: { ip: string; names: string[] }[],
): Promise<void> {
  const hostname = c.config.Hostname || defaultHostname(c.id, c.hostConfig);
  const text = hostsFile({
    hostname,
    ...(c.config.Domainname ? { domainname: c.config.Domainname } : {}),
    networkMode: 'bridge',
    ip: state.endpoint.ipAddress,
    ...(c.hostConfig.ExtraHosts ? { extraHosts: c.hostConfig.ExtraHosts } : {}),
    peers,
  });
  const file = path.join(containerDir(paths, c.id), 'hosts');
  // In place (same inode): the file is bind-mounted into the running container.
  await writeFile(file, text).catch((err: unknown) => {
    if (!hasErrno(err, 'ENOENT')) throw err;
  });
}

/** The PortMap docker shows for a container: its bindings when attached, else what it exposes. */
export function containerPorts(paths: EnginePaths, c: Container): PortMap {
  const state = readNetworkState(paths, c.id);
  const out: PortMap = {};
  for (const key of Object.keys(c.config.ExposedPorts ?? {})) out[key] = null;
  if (state) Object.assign(out, state.ports);
  return out;
}
