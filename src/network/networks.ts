/**
 * Networks are CNI configuration lists in one directory (podman's CNI backend did the same): the
 * bridge networks skiff creates (`network create`, and the default network `skiff` on first use) and
 * any list an administrator drops there. skiff's own lists carry its metadata (id, creation time,
 * labels, internal) under a top-level `skiff` key, which CNI ignores. A network is attached to a
 * container's pinned namespace with CNI ADD and detached with DEL (./cni).
 */

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  alreadyExists,
  hasErrno,
  invalidArgument,
  notFound,
  SkiffError,
  syscallError,
} from '../common/index.ts';
import { Cni, loadConfigLists, type NetworkConfigList, parseConfigList } from './cni/index.ts';
import type { CniResult } from './cni/result.ts';
import {
  contains,
  firstHost,
  formatCidr,
  formatIpv4,
  hostRoutes,
  type Ipv4Net,
  overlaps,
  parseCidr,
  parseIpv4,
  pickFreeSubnet,
} from './subnets.ts';

export const DEFAULT_NETWORK = 'skiff';
/** Names docker reserves for its predefined networks, and `skiff`'s own alias. */
const RESERVED_NAMES = ['none', 'host', 'bridge', 'default', 'container'];
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface NetworkSubnet {
  readonly subnet: string;
  readonly gateway?: string;
  readonly ipRange?: string;
}

export interface Network {
  readonly name: string;
  readonly id: string;
  readonly created: string;
  /** `bridge` for skiff's networks; the first plugin's type for a dropped-in list. */
  readonly driver: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly subnets: readonly NetworkSubnet[];
  /** The host bridge of a skiff bridge network. */
  readonly bridge?: string;
  /** Created by skiff (network create / the default network), as opposed to dropped in. */
  readonly managed: boolean;
  readonly config: NetworkConfigList;
  readonly file: string;
}

export interface CreateNetworkOptions {
  readonly name: string;
  readonly driver?: string;
  readonly subnet?: string;
  readonly gateway?: string;
  readonly ipRange?: string;
  readonly internal?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A port published through the portmap plugin (its `portMappings` capability). */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly hostIP?: string;
}

export interface AttachRequest {
  readonly containerId: string;
  readonly netns: string;
  readonly ifName: string;
  /** --ip: a fixed address in the network's subnet. */
  readonly ip?: string;
  readonly portMappings?: readonly PortMapping[];
}

/** What a container got on a network (docker's EndpointSettings, in short). */
export interface Endpoint {
  readonly network: string;
  readonly ifName: string;
  readonly ipAddress: string;
  readonly prefixLen: number;
  readonly gateway?: string;
  readonly macAddress?: string;
}

export interface NetworkStoreOptions {
  /** Where the configuration lists live. */
  readonly configDir: string;
  /** Volatile state: CNI's attachment cache and host-local's leases. */
  readonly runDir: string;
  readonly pluginDirs?: readonly string[];
}

export const DEFAULT_PLUGIN_DIRS = ['/usr/lib/cni', '/usr/libexec/cni', '/opt/cni/bin'];

interface SkiffMeta {
  id: string;
  created: string;
  driver: string;
  internal: boolean;
  labels: Record<string, string>;
}

export class NetworkStore {
  readonly configDir: string;
  readonly runDir: string;
  readonly cni: Cni;

  constructor(options: NetworkStoreOptions) {
    this.configDir = options.configDir;
    this.runDir = options.runDir;
    this.cni = new Cni({
      pluginDirs: options.pluginDirs ?? DEFAULT_PLUGIN_DIRS,
      cacheDir: path.join(options.runDir, 'cache'),
    });
  }

  async list(): Promise<Network[]> {
    const lists = await loadConfigLists(this.configDir);
    const networks: Network[] = [];
    for (const list of lists.values()) networks.push(await toNetwork(list));
    return networks.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** By name, full id or unique id prefix (docker's lookup). */
  async get(ref: string): Promise<Network> {
    const networks = await this.list();
    const exact = networks.find((n) => n.name === ref || n.id === ref);
    if (exact) return exact;
    const byPrefix = ref.length >= 1 ? networks.filter((n) => n.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1)
      throw invalidArgument(`network ${ref} is ambiguous (${byPrefix.length} matches)`);
    throw notFound(`network ${ref} not found`);
  }

  /** The default network, created on first use. */
  async ensureDefault(): Promise<Network> {
    try {
      return await this.get(DEFAULT_NETWORK);
    } catch (err) {
      if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
    }
    try {
      return await this.create({ name: DEFAULT_NETWORK });
    } catch (err) {
      // Another process created it at the same moment.
      if (err instanceof Error && 'kind' in err && err.kind === 'AlreadyExists')
        return this.get(DEFAULT_NETWORK);
      throw err;
    }
  }

  async create(options: CreateNetworkOptions): Promise<Network> {
    const driver = options.driver ?? 'bridge';
    if (driver !== 'bridge')
      throw invalidArgument(
        `network driver \`${driver}\` is not supported: skiff creates bridge networks (or drop a CNI configuration list in ${this.configDir})`,
      );
    if (!NAME.test(options.name))
      throw invalidArgument(
        `invalid network name \`${options.name}\`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    if (RESERVED_NAMES.includes(options.name))
      throw invalidArgument(`network name \`${options.name}\` is reserved (pre-defined network)`);
    const existing = await this.list();
    if (existing.some((n) => n.name === options.name))
      throw alreadyExists(`network with name ${options.name} already exists`);
    const subnet = await this.chooseSubnet(options, existing);
    const gateway = options.gateway ?? formatIpv4(firstHost(subnet));
    const gatewayIp = parseIpv4(gateway);
    if (gatewayIp === undefined)
      throw invalidArgument(`invalid gateway \`${gateway}\`: expected an IPv4 address`);
    if (!contains(subnet, gatewayIp))
      throw invalidArgument(`gateway ${gateway} is not in subnet ${formatCidr(subnet)}`);
    const range = options.ipRange ? parseCidr(options.ipRange, 'ip-range') : undefined;
    if (range && !(overlaps(range, subnet) && range.prefix >= subnet.prefix))
      throw invalidArgument(`ip-range ${options.ipRange} is not inside subnet ${formatCidr(subnet)}`);
    const id = randomBytes(32).toString('hex');
    const meta: SkiffMeta = {
      id,
      created: new Date().toISOString(),
      driver,
      internal: options.internal ?? false,
      labels: { ...(options.labels ?? {}) },
    };
    // Named by the id, the default network's too: stores side by side (tests) never share a bridge.
    const bridge = `sk-${id.slice(0, 12)}`;
    const text = `${JSON.stringify(
      bridgeConfigList(options.name, meta, bridge, subnet, gateway, range, path.join(this.runDir, 'ipam')),
      null,
      2,
    )}\n`;
    await this.writeExclusive(options.name, text);
    return toNetwork(parseConfigList(text, this.fileOf(options.name)));
  }

  /**
   * Removes the network's configuration, its bridge (skiff's networks) and its leases. The engine
   * refuses first when containers use it; this removes what it is told to.
   */
  async remove(network: Network): Promise<void> {
    await rm(network.file, { force: true }).catch((err: unknown) => {
      throw syscallError('remove', network.file, err);
    });
    if (network.managed && network.bridge) await deleteLink(network.bridge);
    await rm(path.join(this.runDir, 'ipam', network.name), { recursive: true, force: true });
  }

  /** CNI ADD of the network to a container's pinned namespace. */
  async attach(network: Network, request: AttachRequest): Promise<Endpoint> {
    if (request.ip !== undefined) this.checkFixedIp(network, request.ip);
    const result = await this.cni.add(network.config, {
      containerId: request.containerId,
      netns: request.netns,
      ifName: request.ifName,
      capabilityArgs: {
        ...(request.portMappings?.length ? { portMappings: request.portMappings } : {}),
        ...(request.ip !== undefined ? { ips: [request.ip] } : {}),
      },
    });
    return endpointOf(network.name, request.ifName, result);
  }

  /** CNI DEL (from the attachment's cached configuration when there is one); absent is fine. */
  async detach(networkName: string, containerId: string, ifName: string, netns?: string): Promise<void> {
    let list: NetworkConfigList | undefined;
    try {
      list = (await this.get(networkName)).config;
    } catch {
      // Removed since: the cached configuration is what DEL needs.
    }
    await this.cni.del(networkName, { containerId, ifName, ...(netns ? { netns } : {}) }, list);
  }

  /** The ports every cached attachment publishes (to refuse a host port another container holds). */
  async publishedPorts(): Promise<{ containerId: string; mappings: PortMapping[] }[]> {
    const dir = this.cni.cacheDir;
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return [];
      throw syscallError('readdir', dir, err);
    }
    const out: { containerId: string; mappings: PortMapping[] }[] = [];
    for (const f of files) {
      const entry = JSON.parse(await readFile(path.join(dir, f), 'utf8').catch(() => '{}')) as {
        containerId?: string;
        capabilityArgs?: { portMappings?: PortMapping[] };
      };
      if (entry.containerId && entry.capabilityArgs?.portMappings?.length)
        out.push({ containerId: entry.containerId, mappings: entry.capabilityArgs.portMappings });
    }
    return out;
  }

  private checkFixedIp(network: Network, ip: string): void {
    const n = parseIpv4(ip);
    if (n === undefined) throw invalidArgument(`invalid IP address \`${ip}\`: expected IPv4`);
    const inside = network.subnets.some((s) => contains(parseCidr(s.subnet), n));
    if (!inside)
      throw invalidArgument(
        `IP address ${ip} is not in network ${network.name}'s subnet${network.subnets.length ? ` ${network.subnets.map((s) => s.subnet).join(', ')}` : ''}`,
      );
  }

  private async chooseSubnet(options: CreateNetworkOptions, existing: readonly Network[]): Promise<Ipv4Net> {
    const taken = existing.flatMap((n) => n.subnets.map((s) => ({ net: parseCidr(s.subnet), name: n.name })));
    if (options.subnet) {
      const subnet = parseCidr(options.subnet);
      if (subnet.prefix > 30)
        throw invalidArgument(`subnet ${options.subnet} is too small for containers (/30 at most)`);
      const clash = taken.find((t) => overlaps(t.net, subnet));
      if (clash)
        throw invalidArgument(
          `subnet ${options.subnet} overlaps network ${clash.name}'s ${formatCidr(clash.net)}`,
        );
      return subnet;
    }
    const used = [...taken.map((t) => t.net), ...(await hostRoutes())];
    return pickFreeSubnet(used, undefined, randomBytes(1)[0]!);
  }

  private fileOf(name: string): string {
    return path.join(this.configDir, `${name}.conflist`);
  }

  /** Written whole, and only if no list of that name appeared meanwhile (link(2) fails on EEXIST). */
  private async writeExclusive(name: string, text: string): Promise<void> {
    await mkdir(this.configDir, { recursive: true, mode: 0o755 }).catch((err: unknown) => {
      throw syscallError('mkdir', this.configDir, err);
    });
    const file = this.fileOf(name);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, text, { mode: 0o644 });
      await link(tmp, file);
    } catch (err) {
      if (hasErrno(err, 'EEXIST')) throw alreadyExists(`network with name ${name} already exists`);
      throw syscallError('create', file, err);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

function bridgeConfigList(
  name: string,
  meta: SkiffMeta,
  bridge: string,
  subnet: Ipv4Net,
  gateway: string,
  range: Ipv4Net | undefined,
  ipamDir: string,
): object {
  const rangeBounds = range
    ? {
        rangeStart: formatIpv4(Math.max(range.base, subnet.base + 1)),
        rangeEnd: formatIpv4(range.base + 2 ** (32 - range.prefix) - 2),
      }
    : {};
  return {
    cniVersion: '1.0.0',
    name,
    skiff: meta,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        // An internal network reaches nothing beyond its bridge: no NAT, no default route.
        ipMasq: !meta.internal,
        hairpinMode: true,
        capabilities: { ips: true },
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: formatCidr(subnet), gateway, ...rangeBounds }]],
          routes: meta.internal ? [] : [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

async function toNetwork(list: NetworkConfigList): Promise<Network> {
  const raw = JSON.parse(list.bytes) as { skiff?: Partial<SkiffMeta> };
  const meta = raw.skiff;
  const first = list.plugins[0]!;
  const file = list.source ?? '';
  const created =
    meta?.created ??
    (await stat(file).then(
      (s) => s.mtime.toISOString(),
      () => new Date(0).toISOString(),
    ));
  return {
    name: list.name,
    id: meta?.id ?? createHash('sha256').update(list.name).digest('hex'),
    created,
    driver: meta?.driver ?? first.type,
    internal: meta?.internal ?? false,
    labels: meta?.labels ?? {},
    subnets: subnetsOf(first),
    ...(typeof first.bridge === 'string' ? { bridge: first.bridge } : {}),
    managed: meta?.id !== undefined,
    config: list,
    file,
  };
}

/** The subnets of a host-local IPAM (ranges, or the older subnet/gateway form). */
function subnetsOf(plugin: Record<string, unknown>): NetworkSubnet[] {
  const ipam = plugin.ipam as
    | { type?: string; ranges?: unknown; subnet?: unknown; gateway?: unknown }
    | undefined;
  if (!ipam) return [];
  const out: NetworkSubnet[] = [];
  if (Array.isArray(ipam.ranges))
    for (const set of ipam.ranges as unknown[])
      for (const r of Array.isArray(set) ? (set as Record<string, unknown>[]) : [])
        if (typeof r.subnet === 'string' && r.subnet.includes('.'))
          out.push({ subnet: r.subnet, ...(typeof r.gateway === 'string' ? { gateway: r.gateway } : {}) });
  if (typeof ipam.subnet === 'string')
    out.push({ subnet: ipam.subnet, ...(typeof ipam.gateway === 'string' ? { gateway: ipam.gateway } : {}) });
  return out;
}

function endpointOf(network: string, ifName: string, result: CniResult): Endpoint {
  const ifIndex = result.interfaces?.findIndex((i) => i.name === ifName && i.sandbox) ?? -1;
  const ip =
    result.ips?.find((i) => i.interface === ifIndex && !i.address.includes(':')) ??
    result.ips?.find((i) => !i.address.includes(':'));
  const [address = '', prefix = '0'] = (ip?.address ?? '').split('/');
  const mac = ifIndex >= 0 ? result.interfaces?.[ifIndex]?.mac : undefined;
  return {
    network,
    ifName,
    ipAddress: address,
    prefixLen: Number(prefix),
    ...(ip?.gateway ? { gateway: ip.gateway } : {}),
    ...(mac ? { macAddress: mac } : {}),
  };
}

/** Removes a host interface (a network's bridge); absent is fine. */
function deleteLink(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['link', 'del', name], { encoding: 'utf8' }, (err, _out, stderr) => {
      if (!err || /Cannot find device|does not exist/.test(stderr)) resolve();
      else reject(syscallError('ip link del', name, new Error(stderr.trim() || err.message)));
    });
  });
}
