/** What the network verbs share: the engine and its networks open, docker's views of a network. */
import { createHash } from 'node:crypto';
import { SkiffError } from '../../../common/index.ts';
import {
  BUILTIN_NETWORKS,
  type Container,
  containersUsing,
  Engine,
  endpointId,
  type Network,
  type NetworkStore,
  openNetworks,
  readNetworkState,
} from '../../../engine/index.ts';
import { type Context, daemonError, StatusError } from '../../command.ts';
import { struct } from '../../render/index.ts';

export interface NetworkContext {
  readonly engine: Engine;
  readonly networks: NetworkStore;
}

export async function withNetworks<T>(ctx: Context, fn: (n: NetworkContext) => Promise<T> | T): Promise<T> {
  const engine = await Engine.open({ root: ctx.globals.root, runroot: ctx.globals.runroot });
  try {
    return await fn({ engine, networks: openNetworks(engine.paths) });
  } catch (err) {
    throw networkError(err);
  } finally {
    engine.close();
  }
}

export function networkError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof SkiffError) return daemonError(err.message);
  throw err;
}

/** A row of `network ls` / an entry of `inspect`: a CNI network or a pre-defined one. */
export interface NetworkView {
  readonly name: string;
  readonly id: string;
  readonly created: string;
  readonly driver: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly subnets: readonly { subnet: string; gateway?: string }[];
  readonly builtin: boolean;
  readonly network?: Network;
}

export function viewOf(n: Network): NetworkView {
  return {
    name: n.name,
    id: n.id,
    created: n.created,
    driver: n.driver,
    internal: n.internal,
    labels: n.labels,
    subnets: n.subnets,
    builtin: n.name === 'skiff',
    network: n,
  };
}

/** docker's `host` and `none`: stable ids, no configuration. */
export function builtinViews(): NetworkView[] {
  return BUILTIN_NETWORKS.map((name) => ({
    name,
    id: createHash('sha256').update(`skiff-builtin-${name}`).digest('hex'),
    created: new Date(0).toISOString(),
    driver: name === 'host' ? 'host' : 'null',
    internal: false,
    labels: {},
    subnets: [],
    builtin: true,
  }));
}

export async function allViews(networks: NetworkStore): Promise<NetworkView[]> {
  return [...(await networks.list()).map(viewOf), ...builtinViews()];
}

/** By name, id or unique id prefix, among CNI and pre-defined networks. */
export async function findView(networks: NetworkStore, ref: string): Promise<NetworkView> {
  const builtin = builtinViews().find((v) => v.name === ref || v.id === ref);
  if (builtin) return builtin;
  try {
    return viewOf(await networks.get(ref));
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound') throw daemonError(`network ${ref} not found`);
    throw err;
  }
}

/** docker's `network inspect` shape (API 1.50 Network). */
export function inspectView(v: NetworkView, engine: Engine): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  if (v.network)
    for (const c of containersUsing(engine.paths, engine.records, v.network))
      containers[c.id] = endpointView(engine, c, v);
  return struct('network.Inspect', {
    Name: v.name,
    Id: v.id,
    Created: v.created,
    Scope: 'local',
    Driver: v.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: v.subnets.map((s) => ({ Subnet: s.subnet, ...(s.gateway ? { Gateway: s.gateway } : {}) })),
    },
    Internal: v.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: {},
    Labels: { ...v.labels },
  });
}

/** The container's attachment to this network (on whichever interface it has it), as docker lists it. */
function endpointView(engine: Engine, c: Container, v: NetworkView): Record<string, unknown> {
  const endpoint = readNetworkState(engine.paths, c.id)?.attachments.find(
    (a) => a.network === v.name,
  )?.endpoint;
  return {
    Name: c.name,
    EndpointID: endpoint ? endpointId(v.id, c.id) : '',
    MacAddress: endpoint?.macAddress ?? '',
    IPv4Address: endpoint ? `${endpoint.ipAddress}/${endpoint.prefixLen}` : '',
    IPv6Address: '',
  };
}
