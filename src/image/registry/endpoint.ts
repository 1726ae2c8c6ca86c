/**
 * Where a reference's registry is and how to speak to it: docker.io is served by
 * registry-1.docker.io; as Docker does, registries on localhost and 127.0.0.0/8 (and ::1) are spoken
 * to over plain HTTP, and so are those the registries config lists as `insecure`; every other over
 * HTTPS. A loopback registry that has a certs.d directory is spoken to over HTTPS: configuring
 * certificates for it says it speaks TLS. Mirrors come from the same configuration.
 */
import { DEFAULT_DOMAIN } from '../reference.ts';
import { registriesConfig } from './config.ts';
import { hasCertsDir } from './transport.ts';

export interface Endpoint {
  /** The reference's domain (`docker.io`, `127.0.0.1:5000`): the key of credentials. */
  readonly domain: string;
  /** `https://registry-1.docker.io` */
  readonly base: string;
  /** At a mirror: the path its repositories are under (`hub` for `mirror.example.com/hub`). */
  readonly prefix?: string;
  /** At a mirror: the domain of the registry it mirrors. */
  readonly mirrorOf?: string;
}

export function endpointFor(domain: string): Endpoint {
  if (domain === DEFAULT_DOMAIN) return { domain, base: 'https://registry-1.docker.io' };
  return { domain, base: `${schemeFor(domain)}://${domain}` };
}

/** http for the registries Docker trusts over plain HTTP and those configured insecure. */
function schemeFor(host: string): 'http' | 'https' {
  const config = registriesConfig();
  if (config.insecure.includes(host)) return 'http';
  if (isLoopback(host) && !hasCertsDir(host, config.certsDirs)) return 'http';
  return 'https';
}

/** The configured mirrors of domain, in the order a pull tries them (the registry itself not included). */
export function mirrorsFor(domain: string): Endpoint[] {
  const list = registriesConfig().mirrors[domain] ?? [];
  return list.map((entry) => mirrorEndpoint(entry, domain));
}

/** `https://host:port/prefix`, or `host:port/prefix` (scheme as for a registry of that host). */
function mirrorEndpoint(entry: string, mirrorOf: string): Endpoint {
  const explicit = /^(https?):\/\/(.*)$/i.exec(entry);
  const rest = (explicit ? explicit[2]! : entry).replace(/\/+$/, '');
  const slash = rest.indexOf('/');
  const host = slash < 0 ? rest : rest.slice(0, slash);
  // `/v2` is what some write for docker's registry-mirrors: it is the API root, not a prefix.
  const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/^v2(\/|$)/, '');
  const scheme = explicit ? explicit[1]!.toLowerCase() : schemeFor(host);
  return { domain: host, base: `${scheme}://${host}`, mirrorOf, ...(prefix ? { prefix } : {}) };
}

/** Whether domain (host[:port]) is this machine, which Docker trusts over plain HTTP. */
export function isLoopback(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
