/**
 * The per-container /etc/hostname, /etc/hosts and /etc/resolv.conf, as Docker's libnetwork writes
 * them (etchosts.Build, resolvconf.FilterResolvDNS). Pure functions of the host files' text, so the
 * rules are unit-tested; containerFiles reads the host's files and puts them together.
 */
import { readFile } from 'node:fs/promises';
import { hasErrno, invalidArgument, syscallError } from '../common/index.ts';
import type { ContainerConfig, HostConfig } from './docker-types.ts';
import { defaultHostname, networkModeOf } from './spec/index.ts';

/** /etc/hosts lines every container gets on a network of its own (libnetwork etchosts defaults). */
const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

export interface HostsInput {
  readonly hostname: string;
  readonly domainname?: string;
  /** none, host (bridge networks later). */
  readonly networkMode: string;
  /** The host's /etc/hosts text: a container on the host's network gets a copy of it. */
  readonly hostHosts?: string;
  /** The container's address on its network; none for `--network none`. */
  readonly ip?: string;
  /** HostConfig.ExtraHosts (`--add-host name:ip`). */
  readonly extraHosts?: readonly string[];
  /** The other containers on its user-defined network, which it reaches by name (address, names). */
  readonly peers?: readonly { readonly ip: string; readonly names: readonly string[] }[];
}

/** "name:ip" (or docker's newer "name=ip") as an /etc/hosts line. */
function extraHostLine(entry: string): string {
  const sep = entry.includes('=') ? entry.indexOf('=') : entry.indexOf(':');
  return `${entry.slice(sep + 1)}\t${entry.slice(0, sep)}`;
}

export function hostsFile(input: HostsInput): string {
  const extra = (input.extraHosts ?? []).map(extraHostLine);
  if (input.networkMode === 'host') {
    const base = input.hostHosts ?? `${DEFAULT_HOSTS.join('\n')}\n`;
    return extra.length === 0
      ? base
      : `${base.endsWith('\n') || base === '' ? base : `${base}\n`}${extra.join('\n')}\n`;
  }
  const lines = [...DEFAULT_HOSTS, ...extra];
  if (input.ip) {
    const names = input.domainname
      ? `${input.hostname}.${input.domainname}\t${input.hostname}`
      : input.hostname;
    lines.push(`${input.ip}\t${names}`);
  }
  for (const peer of input.peers ?? []) lines.push(`${peer.ip}\t${peer.names.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

const DEFAULT_NAMESERVERS = ['nameserver 8.8.8.8', 'nameserver 8.8.4.4'];

function isLocalhost(address: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1';
}

function nameserverOf(line: string): string | undefined {
  const m = /^\s*nameserver\s+(\S+)/.exec(line);
  return m?.[1];
}

/**
 * The container's resolv.conf from the host's. On the host's network: the host's file as it is. On a
 * network of its own (none): without the localhost nameservers, which would name the container's own
 * loopback, nor the IPv6 ones (IPv6 is off there, as Docker's default); when none is left, Docker's
 * fallback, Google's public servers.
 */
export function resolvConfFile(hostResolvConf: string, networkMode: string): string {
  if (networkMode === 'host') return hostResolvConf;
  const kept = hostResolvConf.split('\n').filter((line) => {
    const ns = nameserverOf(line);
    return ns === undefined || !(isLocalhost(ns) || ns.includes(':'));
  });
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
  if (!kept.some((l) => nameserverOf(l) !== undefined)) kept.push(...DEFAULT_NAMESERVERS);
  return `${kept.join('\n')}\n`;
}

/**
 * The host file Docker reads for resolv.conf: with systemd-resolved's stub (127.0.0.53) in
 * /etc/resolv.conf, the real upstream list in /run/systemd/resolve/resolv.conf.
 */
export function hostResolvConfPath(etcResolvConf: string): string {
  return /^\s*nameserver\s+127\.0\.0\.53\b/m.test(etcResolvConf)
    ? '/run/systemd/resolve/resolv.conf'
    : '/etc/resolv.conf';
}

async function readHostFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return '';
    throw syscallError('read', file, err);
  }
}

/**
 * The content of a container's /etc/hostname, /etc/hosts and /etc/resolv.conf, from its config and
 * the host's files. The hostname is Config.Hostname, else what buildSpec gives the container by
 * default (the id's first 12 digits, the host's name on the host's network), so both agree.
 */
export async function containerFiles(
  config: ContainerConfig,
  hostConfig: HostConfig,
  id?: string,
): Promise<{ hostname: string; hosts: string; resolvConf: string }> {
  const networkMode = networkModeOf(hostConfig);
  if (!config.Hostname && !id)
    throw invalidArgument('container files: Config.Hostname is empty and no container id was given');
  const hostname = config.Hostname || defaultHostname(id!, hostConfig);
  const etcResolv = await readHostFile('/etc/resolv.conf');
  const hostResolv = hostResolvConfPath(etcResolv);
  const resolvText = hostResolv === '/etc/resolv.conf' ? etcResolv : await readHostFile(hostResolv);
  return {
    hostname: hostnameFile(hostname),
    hosts: hostsFile({
      hostname,
      ...(config.Domainname && { domainname: config.Domainname }),
      networkMode,
      ...(networkMode === 'host' && { hostHosts: await readHostFile('/etc/hosts') }),
      ...(hostConfig.ExtraHosts && { extraHosts: hostConfig.ExtraHosts }),
    }),
    resolvConf: withDnsOverrides(resolvConfFile(resolvText, networkMode), hostConfig),
  };
}

/**
 * --dns, --dns-search and --dns-option replace the host's nameservers, search list and options (as
 * libnetwork's resolvconf.Build); `--dns-search .` means no search list.
 */
export function withDnsOverrides(
  resolvConf: string,
  hc: Pick<HostConfig, 'Dns' | 'DnsSearch' | 'DnsOptions'>,
): string {
  const dns = hc.Dns ?? [];
  const search = hc.DnsSearch ?? [];
  const options = hc.DnsOptions ?? [];
  if (dns.length === 0 && search.length === 0 && options.length === 0) return resolvConf;
  const lines = resolvConf.split('\n').filter((line) => {
    if (dns.length > 0 && /^\s*nameserver\s/.test(line)) return false;
    if (search.length > 0 && /^\s*(search|domain)\s/.test(line)) return false;
    if (options.length > 0 && /^\s*options\s/.test(line)) return false;
    return line.trim() !== '';
  });
  lines.push(...dns.map((d) => `nameserver ${d}`));
  const domains = search.filter((d) => d !== '.');
  if (domains.length > 0) lines.push(`search ${domains.join(' ')}`);
  if (options.length > 0) lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
