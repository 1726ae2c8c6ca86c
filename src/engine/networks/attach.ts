/**
 * A container on CNI networks (DESIGN.md, "Process model"): at each start its network namespace is
 * pinned under the run root and attached to each of its networks in order (eth0, eth1, …: CNI ADD,
 * the published ports through the first one's portmap) before the container is created, which then
 * joins it by path; after it exits — cleanup, rm, a recovery — every attachment is DELeted and the
 * namespace removed. `network connect`/`disconnect` add or remove one attachment of a running
 * container. What it is to be on (docker's EndpointsConfig: aliases, a fixed address) is kept in
 * networks.json beside the bundle; what it got (addresses, ports) in network.json while attached. On a
 * user-defined network the members reach each other by name, short id and aliases: every member's
 * /etc/hosts lists the others (rewritten in place — it is bind-mounted — as they come and go).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lstat, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  failedPrecondition,
  hasErrno,
  invalidArgument,
  notFound,
  writeFileAtomic,
} from '../../common/index.ts';
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
import { defaultHostname, networkModeOf, networkNameOf } from '../spec/index.ts';
import { openNetworks } from './networks.ts';
import { type PortMap, requestedBindings, resolveBindings } from './ports.ts';

/** docker's EndpointSettings as create or connect gives it (the parts skiff uses). */
export interface EndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
}

/** docker's NetworkingConfig.EndpointsConfig: network name → its settings, in attach order. */
export type EndpointsConfig = Record<string, EndpointConfig>;

/** One attachment of a running container. */
export interface Attachment {
  readonly network: string;
  readonly networkId: string;
  readonly ifName: string;
  readonly endpoint: Endpoint;
  readonly aliases: readonly string[];
  /** The published ports (the first attachment's). */
  readonly ports?: PortMap;
}

/** What network.json records while the container is attached. */
export interface ContainerNetworkState {
  readonly netns: string;
  readonly attachments: readonly Attachment[];
}

export const netnsPath = (p: EnginePaths, id: string) => path.join(p.runroot, 'netns', id);
const stateFile = (p: EnginePaths, id: string) => path.join(containerDir(p, id), 'network.json');
const desiredFile = (p: EnginePaths, id: string) => path.join(containerDir(p, id), 'networks.json');

/** A stable id for a container's endpoint on a network (docker's is random; nothing keys on it). */
export function endpointId(networkId: string, containerId: string): string {
  return createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');
}

/** network.json and networks.json of the bundle dir `dir` (each undefined when absent). */
export function networkFilesIn(dir: string): { state?: ContainerNetworkState; desired?: EndpointsConfig } {
  const state = readJson<ContainerNetworkState>(path.join(dir, 'network.json'));
  const desired = readJson<EndpointsConfig>(path.join(dir, 'networks.json'));
  return { ...(state ? { state } : {}), ...(desired ? { desired } : {}) };
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** network.json (undefined when the container is not attached now). */
export function readNetworkState(p: EnginePaths, id: string): ContainerNetworkState | undefined {
  return readJson<ContainerNetworkState>(stateFile(p, id));
}

const canonical = (name: string) => (name === 'bridge' ? DEFAULT_NETWORK : name);

/** The networks the container is to be on, in attach order: networks.json, else its NetworkMode's. */
export function desiredNetworks(p: EnginePaths, c: Container): [string, EndpointConfig][] {
  const saved = readJson<EndpointsConfig>(desiredFile(p, c.id));
  if (saved) return Object.entries(saved);
  const name = networkNameOf(c.hostConfig);
  return name === undefined ? [] : [[canonical(name), {}]];
}

/** At create: the container's networks, from its NetworkMode and the create's EndpointsConfig. */
export async function saveDesiredNetworks(
  p: EnginePaths,
  c: Container,
  requested: EndpointsConfig | undefined,
): Promise<void> {
  const primary = networkNameOf(c.hostConfig);
  if (primary === undefined) {
    if (requested && Object.keys(requested).length > 0)
      throw invalidArgument(
        `network settings (--ip, --network-alias) need a network: the container's mode is "${c.hostConfig.NetworkMode || 'none'}"`,
      );
    return;
  }
  const out: EndpointsConfig = { [canonical(primary)]: {} };
  for (const [name, cfg] of Object.entries(requested ?? {})) out[canonical(name)] = cfg;
  await writeDesired(p, c.id, out);
}

async function writeDesired(p: EnginePaths, id: string, cfg: EndpointsConfig): Promise<void> {
  await writeFileAtomic(desiredFile(p, id), JSON.stringify(cfg), 0o644);
}

async function networkFor(store: NetworkStore, name: string): Promise<Network> {
  return name === DEFAULT_NETWORK ? store.ensureDefault() : store.get(name);
}

/**
 * Pins the namespace and attaches every network; returns the namespace's path (undefined for none
 * and host). The caller has released what a previous run left (the engine's releaseResources runs
 * disconnectContainer before every start). On failure nothing stays.
 */
export async function connectContainer(
  paths: EnginePaths,
  c: Container,
  all: () => Container[],
): Promise<string | undefined> {
  const kind = networkModeOf(c.hostConfig);
  if (kind === 'container') return joinContainerNetwork(paths, c, all());
  if (kind !== 'bridge') return undefined;
  const store = openNetworks(paths);
  const netns = netnsPath(paths, c.id);
  await createNetns(netns);
  try {
    const attachments: Attachment[] = [];
    for (const [i, [name, cfg]] of desiredNetworks(paths, c).entries()) {
      const ports = i === 0 ? requestedBindings(c.config, c.hostConfig) : {};
      attachments.push(await attachOne(store, c, netns, name, cfg, `eth${i}`, ports));
      await writeState(paths, c.id, { netns, attachments });
    }
    await writeState(paths, c.id, { netns, attachments });
    await refreshHosts(paths, all, { subject: c.id, networks: attachments.map((a) => a.network) });
    return netns;
  } catch (err) {
    await disconnectContainer(paths, c, all).catch(() => undefined);
    throw err;
  }
}

/**
 * --network container:X: X's network namespace (its pinned one, or its init's), which X must be
 * running to have; the container sees X's /etc/hosts and /etc/resolv.conf, as docker gives it.
 */
async function joinContainerNetwork(paths: EnginePaths, c: Container, all: Container[]): Promise<string> {
  const ref = (c.hostConfig.NetworkMode ?? '').slice('container:'.length);
  const matches = all.filter((o) => o.id === ref || o.name === ref || o.id.startsWith(ref));
  const target =
    matches.find((o) => o.id === ref || o.name === ref) ?? (matches.length === 1 ? matches[0] : undefined);
  if (!target) throw notFound(`No such container: ${ref} (--network container:${ref})`);
  if (target.id === c.id)
    throw invalidArgument('cannot join own network namespace (--network container:itself)');
  if (target.state !== 'running' || target.pid === undefined)
    throw failedPrecondition(`cannot join network namespace of a non running container: ${target.name}`);
  for (const file of ['hosts', 'resolv.conf']) {
    const text = await readFile(path.join(containerDir(paths, target.id), file), 'utf8').catch(
      () => undefined,
    );
    if (text !== undefined) await writeFile(path.join(containerDir(paths, c.id), file), text);
  }
  return readNetworkState(paths, target.id)?.netns ?? `/proc/${target.pid}/ns/net`;
}

async function attachOne(
  store: NetworkStore,
  c: Container,
  netns: string,
  name: string,
  cfg: EndpointConfig,
  ifName: string,
  requestedPorts: PortMap,
): Promise<Attachment> {
  const network = await networkFor(store, name);
  const taken = (await store.publishedPorts())
    .filter((p) => p.containerId !== c.id)
    .flatMap((p) => p.mappings);
  const { ports, mappings } = await resolveBindings(requestedPorts, taken);
  const ip = cfg.IPAMConfig?.IPv4Address;
  const endpoint = await store.attach(network, {
    containerId: c.id,
    netns,
    ifName,
    ...(ip ? { ip } : {}),
    ...(mappings.length ? { portMappings: mappings } : {}),
  });
  return {
    network: network.name,
    networkId: network.id,
    ifName,
    endpoint,
    aliases: cfg.Aliases ?? [],
    ...(Object.keys(ports).length ? { ports } : {}),
  };
}

async function writeState(paths: EnginePaths, id: string, state: ContainerNetworkState): Promise<void> {
  await writeFileAtomic(stateFile(paths, id), JSON.stringify(state), 0o644);
}

/** Every attachment DELeted and the namespace removed; a container not attached is left as it is. */
export async function disconnectContainer(
  paths: EnginePaths,
  c: Container,
  all: () => Container[],
): Promise<void> {
  const state = readNetworkState(paths, c.id);
  const store = openNetworks(paths);
  const netns = netnsPath(paths, c.id);
  // Without network.json (a crash before it was written), the desired networks name the candidates;
  // the CNI cache says which of them were attached, under the network's name.
  const candidates = state
    ? state.attachments.map((a) => [a.network, a.ifName] as const)
    : desiredNetworks(paths, c).map(([name], i) => [name, `eth${i}`] as const);
  for (const [name, ifName] of candidates) {
    // network.json names networks by name; a desired network may be named by its id.
    const networkName = state
      ? name
      : await store.get(name).then(
          (n) => n.name,
          () => name,
        );
    const cached = await store.cni.cached(networkName, c.id, ifName);
    if (cached) await store.detach(cached.networkName, c.id, ifName, netns);
  }
  // lstat, not the tool: most calls (every start clears what a crash may have left) find nothing.
  if (await exists(netns)) await removeNetns(netns);
  await rm(stateFile(paths, c.id), { force: true });
  if (state)
    await refreshHosts(paths, all, { subject: c.id, networks: state.attachments.map((a) => a.network) });
}

/** `network connect`: saved for the next starts; attached now when the container runs. */
export async function connectNetwork(
  paths: EnginePaths,
  c: Container,
  network: Network,
  cfg: EndpointConfig,
  all: () => Container[],
): Promise<void> {
  if (networkModeOf(c.hostConfig) !== 'bridge')
    throw failedPrecondition(
      `container ${c.name} has network mode "${c.hostConfig.NetworkMode || 'none'}": only a container created on a network can be connected to others`,
    );
  const desired = Object.fromEntries(desiredNetworks(paths, c));
  if (network.name in desired)
    throw failedPrecondition(`endpoint with name ${c.name} already exists in network ${network.name}`);
  const state = readNetworkState(paths, c.id);
  if (state) {
    const used = new Set(state.attachments.map((a) => a.ifName));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    const attachment = await attachOne(openNetworks(paths), c, state.netns, network.name, cfg, `eth${n}`, {});
    await writeState(paths, c.id, { ...state, attachments: [...state.attachments, attachment] });
  }
  await writeDesired(paths, c.id, { ...desired, [network.name]: cfg });
  if (state) await refreshHosts(paths, all, { subject: c.id, networks: [network.name] });
}

/** `network disconnect`: detached now when running, and not attached at the next starts. */
export async function disconnectNetwork(
  paths: EnginePaths,
  c: Container,
  network: Network,
  all: () => Container[],
): Promise<void> {
  const desired = Object.fromEntries(desiredNetworks(paths, c));
  const state = readNetworkState(paths, c.id);
  const attachment = state?.attachments.find((a) => a.network === network.name);
  if (!(network.name in desired) && !attachment)
    throw failedPrecondition(`container ${c.id} is not connected to network ${network.name}`);
  if (state && attachment) {
    await openNetworks(paths).detach(network.name, c.id, attachment.ifName, state.netns);
    await writeState(paths, c.id, {
      ...state,
      attachments: state.attachments.filter((a) => a !== attachment),
    });
  }
  delete desired[network.name];
  await writeDesired(paths, c.id, desired);
  if (state) await refreshHosts(paths, all, { subject: c.id, networks: [network.name] });
}

/** The names of the networks the container is on (for in-use checks, inspect when stopped). */
export function containerNetworkNames(paths: EnginePaths, c: Container): string[] {
  const state = readNetworkState(paths, c.id);
  const names = new Set(desiredNetworks(paths, c).map(([name]) => name));
  for (const a of state?.attachments ?? []) names.add(a.network);
  return [...names];
}

/** Whose /etc/hosts a join or leave changes: the container's own, and its user networks' members'. */
interface HostsScope {
  readonly subject: string;
  readonly networks: readonly string[];
}

/**
 * Rewrites /etc/hosts of the attached containers a join or leave concerns: each lists its own
 * address, then the members of its user-defined networks by name, short id and aliases (docker
 * resolves names on those, not on its default network).
 */
async function refreshHosts(paths: EnginePaths, all: () => Container[], scope: HostsScope): Promise<void> {
  // Another container may join or leave while these files are written, from another process: the
  // files are written again until the attachments read before and after writing agree, so the last
  // writer always wrote what is attached (each change refreshes after recording its own state).
  for (let round = 0; round < 5; round++) {
    const before = attachedMembers(paths, all());
    await writeAllHosts(paths, before, scope);
    if (JSON.stringify(attachedMembers(paths, all())) === JSON.stringify(before)) return;
  }
}

interface Member {
  readonly c: Container;
  readonly state: ContainerNetworkState;
}

function attachedMembers(paths: EnginePaths, all: Container[]): Member[] {
  return all
    .map((c) => ({ c, state: readNetworkState(paths, c.id) }))
    .filter((m): m is Member => m.state !== undefined);
}

async function writeAllHosts(paths: EnginePaths, attached: Member[], scope: HostsScope): Promise<void> {
  for (const member of attached) {
    const touched =
      member.c.id === scope.subject ||
      member.state.attachments.some(
        (a) => a.network !== DEFAULT_NETWORK && scope.networks.includes(a.network),
      );
    if (!touched) continue;
    const peers: { ip: string; names: string[] }[] = [];
    for (const own of member.state.attachments) {
      if (own.network === DEFAULT_NETWORK) continue;
      for (const other of attached) {
        if (other.c.id === member.c.id) continue;
        const theirs = other.state.attachments.find((a) => a.network === own.network);
        if (theirs)
          peers.push({
            ip: theirs.endpoint.ipAddress,
            names: [other.c.name, other.c.id.slice(0, 12), ...theirs.aliases],
          });
      }
    }
    await writeHosts(paths, member.c, member.state.attachments[0]?.endpoint.ipAddress, peers);
  }
}

async function writeHosts(
  paths: EnginePaths,
  c: Container,
  ip: string | undefined,
  peers: { ip: string; names: string[] }[],
): Promise<void> {
  const hostname = c.config.Hostname || defaultHostname(c.id, c.hostConfig);
  const text = hostsFile({
    hostname,
    ...(c.config.Domainname ? { domainname: c.config.Domainname } : {}),
    networkMode: 'bridge',
    ...(ip ? { ip } : {}),
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
  Object.assign(out, state?.attachments[0]?.ports ?? {});
  return out;
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}
