/**
 * Where a reference's registry is and how to speak to it: docker.io is served by
 * registry-1.docker.io; as Docker does, registries on localhost and 127.0.0.0/8 (and ::1) are spoken
 * to over plain HTTP, every other over HTTPS.
 */
import { DEFAULT_DOMAIN } from '../reference.ts';

export interface Endpoint {
  /** The reference's domain (`docker.io`, `127.0.0.1:5000`): the key of credentials. */
  readonly domain: string;
  /** `https://registry-1.docker.io` */
  readonly base: string;
}

export function endpointFor(domain: string): Endpoint {
  if (domain === DEFAULT_DOMAIN) return { domain, base: 'https://registry-1.docker.io' };
  return { domain, base: `${isLoopback(domain) ? 'http' : 'https'}://${domain}` };
}

/** Whether domain (host[:port]) is this machine, which Docker trusts over plain HTTP. */
export function isLoopback(domain: string): boolean {
  const host = domain.startsWith('[') ? domain.slice(1, domain.indexOf(']')) : domain.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
