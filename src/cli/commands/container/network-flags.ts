/**
 * The network flags of `run`/`create` (docker CLI's opts.go and go-connections' nat.ParsePortSpecs):
 * -p/--publish, -P/--publish-all, --expose, --add-host, --dns, --dns-option, --dns-search, into
 * HostConfig.PortBindings/PublishAllPorts/ExtraHosts/Dns* and Config.ExposedPorts.
 */
import type { FlagSpec } from '../../flags.ts';

export const NETWORK_FLAGS: readonly FlagSpec[] = [
  {
    name: 'add-host',
    type: 'list',
    valueName: 'list',
    description: 'Add a custom host-to-IP mapping (host:ip)',
  },
  { name: 'dns', type: 'list', valueName: 'list', description: 'Set custom DNS servers' },
  { name: 'dns-option', type: 'list', valueName: 'list', description: 'Set DNS options' },
  { name: 'dns-search', type: 'list', valueName: 'list', description: 'Set custom DNS search domains' },
  { name: 'expose', type: 'list', valueName: 'list', description: 'Expose a port or a range of ports' },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g., 172.30.100.104)' },
  {
    name: 'network-alias',
    type: 'list',
    valueName: 'list',
    description: 'Add network-scoped alias for the container',
  },
  {
    name: 'publish',
    short: 'p',
    type: 'list',
    valueName: 'list',
    description: "Publish a container's port(s) to the host",
  },
  { name: 'publish-all', short: 'P', type: 'bool', description: 'Publish all exposed ports to random ports' },
];

type Bindings = Record<string, { HostIp: string; HostPort: string }[]>;

/** "8000-8002" → [8000, 8001, 8002]; "80" → [80]. */
function portRange(text: string, what: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  const start = Number(m?.[1]);
  const end = m?.[2] === undefined ? start : Number(m[2]);
  if (!m || start < 1 || end > 65535 || end < start) throw new Error(`invalid ${what}: ${text}`);
  return Array.from({ length: end - start + 1 }, (_, i) => start + i);
}

function protocolOf(text: string): [string, string] {
  const slash = text.lastIndexOf('/');
  const proto = slash === -1 ? 'tcp' : text.slice(slash + 1).toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  return [slash === -1 ? text : text.slice(0, slash), proto];
}

/** One -p value: [ip:][hostPort:]containerPort[/proto], ranges of equal length. */
export function parsePublish(spec: string, into: Bindings): void {
  const [rest, proto] = protocolOf(spec);
  let ip = '';
  let hostPart = '';
  let containerPart = rest;
  const bracket = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  const parts = bracket ? [bracket[1]!, ...bracket[2]!.split(':')] : rest.split(':');
  if (parts.length === 3) [ip, hostPart, containerPart] = parts as [string, string, string];
  else if (parts.length === 2) [hostPart, containerPart] = parts as [string, string];
  else if (parts.length !== 1) throw new Error(`invalid port format: ${spec}`);
  if (ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`invalid IP address: ${ip}`);
  const containerPorts = portRange(containerPart, 'containerPort');
  const hostPorts = hostPart ? portRange(hostPart, 'hostPort') : [];
  if (hostPorts.length > 0 && hostPorts.length !== containerPorts.length)
    throw new Error(
      `invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`,
    );
  containerPorts.forEach((port, i) => {
    const key = `${port}/${proto}`;
    const bindings = into[key] ?? [];
    bindings.push({ HostIp: ip, HostPort: hostPorts[i] === undefined ? '' : String(hostPorts[i]) });
    into[key] = bindings;
  });
}

export interface NetworkOptions {
  readonly portBindings: Bindings;
  readonly exposed: Record<string, Record<string, never>>;
  readonly publishAll: boolean;
  readonly extraHosts: string[];
  readonly dns: string[];
  readonly dnsOptions: string[];
  readonly dnsSearch: string[];
}

export function parseNetworkFlags(strings: (name: string) => string[], publishAll: boolean): NetworkOptions {
  const portBindings: Bindings = {};
  for (const spec of strings('publish')) parsePublish(spec, portBindings);
  const exposed: Record<string, Record<string, never>> = {};
  for (const key of Object.keys(portBindings)) exposed[key] = {};
  for (const spec of strings('expose')) {
    const [ports, proto] = protocolOf(spec);
    for (const port of portRange(ports, 'range for expose')) exposed[`${port}/${proto}`] = {};
  }
  const extraHosts = strings('add-host').map((entry) => {
    const sep = entry.includes('=') ? '=' : ':';
    const at = entry.indexOf(sep);
    if (at <= 0 || at === entry.length - 1) throw new Error(`bad format for add-host: "${entry}"`);
    return entry;
  });
  for (const server of strings('dns'))
    if (!/^[0-9a-fA-F.:]+$/.test(server)) throw new Error(`${server} is not an ip address`);
  return {
    portBindings,
    exposed,
    publishAll,
    extraHosts,
    dns: strings('dns'),
    dnsOptions: strings('dns-option'),
    dnsSearch: strings('dns-search'),
  };
}

/** --ip and --network-alias: docker's EndpointsConfig for the network --network names. */
export function endpointsConfig(
  networkMode: string,
  ip: string | undefined,
  aliases: readonly string[],
): Record<string, { IPAMConfig?: { IPv4Address: string }; Aliases?: string[] }> | undefined {
  if (ip === undefined && aliases.length === 0) return undefined;
  if (['default', 'none', 'host', ''].includes(networkMode) || networkMode.startsWith('container:'))
    throw new Error('user specified IP address and aliases are supported only for user-defined networks');
  if (ip !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`invalid IPv4 address: ${ip}`);
  return {
    [networkMode]: {
      ...(ip !== undefined ? { IPAMConfig: { IPv4Address: ip } } : {}),
      ...(aliases.length ? { Aliases: [...aliases] } : {}),
    },
  };
}
