/**
 * IPv4 subnets for bridge networks: parsing, overlap, and picking a free /24 for a network created
 * without --subnet — one that neither the host's routes (the host's own LAN, a VPN, podman's
 * 10.88.0.0/16) nor another network uses, as docker picks from its address pools.
 */
import { execFile } from 'node:child_process';
import { invalidArgument, runtimeFailure } from '../common/index.ts';

export interface Ipv4Net {
  /** The network address as a 32-bit unsigned number. */
  readonly base: number;
  readonly prefix: number;
}

/** Where networks without --subnet get theirs: 10.89.0.0/24, 10.89.1.0/24, … 10.89.255.0/24. */
export const DEFAULT_POOL = '10.89.0.0/16';
export const DEFAULT_POOL_PREFIX = 24;

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.89.3.0/24" → its network (host bits must be zero, as docker requires). */
export function parseCidr(text: string, what = 'subnet'): Ipv4Net {
  const [addr, prefixText, extra] = text.split('/');
  const ip = addr === undefined ? undefined : parseIpv4(addr);
  const prefix = Number(prefixText);
  if (ip === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText ?? '') || prefix > 32)
    throw invalidArgument(`invalid ${what} \`${text}\`: expected an IPv4 CIDR like 10.89.0.0/24`);
  if ((ip & ~maskOf(prefix)) >>> 0 !== 0)
    throw invalidArgument(
      `invalid ${what} \`${text}\`: host bits are set; did you mean ${formatCidr({ base: (ip & maskOf(prefix)) >>> 0, prefix })}?`,
    );
  return { base: ip, prefix };
}

export function formatCidr(net: Ipv4Net): string {
  return `${formatIpv4(net.base)}/${net.prefix}`;
}

export function contains(net: Ipv4Net, ip: number): boolean {
  return (ip & maskOf(net.prefix)) >>> 0 === net.base;
}

export function overlaps(a: Ipv4Net, b: Ipv4Net): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  return (a.base & maskOf(prefix)) >>> 0 === (b.base & maskOf(prefix)) >>> 0;
}

/** The first usable address of a subnet (docker's default gateway). */
export function firstHost(net: Ipv4Net): number {
  return net.base + 1;
}

/**
 * A /24 of the pool that overlaps none of `used`: the first one from `start` on (wrapping). The
 * engine starts at a random place: stores side by side (tests running at once) do not see each
 * other's networks until a bridge carries the route, so they should not all reach for the first.
 */
export function pickFreeSubnet(used: readonly Ipv4Net[], pool = parseCidr(DEFAULT_POOL), start = 0): Ipv4Net {
  const size = 2 ** (32 - DEFAULT_POOL_PREFIX);
  const count = 2 ** (DEFAULT_POOL_PREFIX - pool.prefix);
  for (let n = 0; n < count; n++) {
    const i = (start + n) % count;
    const candidate = { base: pool.base + i * size, prefix: DEFAULT_POOL_PREFIX };
    if (!used.some((u) => overlaps(u, candidate))) return candidate;
  }
  throw invalidArgument(
    `no free subnet left in ${formatCidr(pool)}: remove unused networks (skiff network prune) or pass --subnet`,
  );
}

/** The IPv4 destinations the host routes (every table), except the default route. */
export async function hostRoutes(): Promise<Ipv4Net[]> {
  const text = await new Promise<string>((resolve, reject) => {
    execFile('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }, (err, stdout) =>
      err
        ? reject(runtimeFailure(`listing the host's routes (ip route): ${err.message}`, err))
        : resolve(stdout),
    );
  });
  const routes = JSON.parse(text || '[]') as { dst?: string; type?: string }[];
  const nets: Ipv4Net[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default' || (r.type && r.type !== 'unicast')) continue;
    const [addr, prefix = '32'] = r.dst.split('/');
    const ip = parseIpv4(addr!);
    if (ip === undefined) continue;
    nets.push({ base: (ip & maskOf(Number(prefix))) >>> 0, prefix: Number(prefix) });
  }
  return nets;
}
