/** The ADD result (cni-spec.md, section 5), as far as skiff reads it; plugins may add fields. */
export interface CniInterface {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  /** The netns path for interfaces inside the container; absent for host-side ones. */
  readonly sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR: "10.88.0.5/16". */
  readonly address: string;
  readonly gateway?: string;
  /** Index into interfaces. */
  readonly interface?: number;
  /** 0.3.x/0.4.0 results say "4" or "6"; 1.0.0 dropped it. */
  readonly version?: string;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

export interface CniResult {
  readonly cniVersion: string;
  readonly interfaces?: readonly CniInterface[];
  readonly ips?: readonly CniIpConfig[];
  readonly routes?: readonly CniRoute[];
  readonly dns?: CniDns;
  readonly [key: string]: unknown;
}

/** The container-side addresses of a result (those on an interface inside the sandbox, or all). */
export function containerAddresses(result: CniResult): CniIpConfig[] {
  const ips = result.ips ?? [];
  const inside = ips.filter((ip) => ip.interface !== undefined && result.interfaces?.[ip.interface]?.sandbox);
  return inside.length ? inside : [...ips];
}
