/**
 * Published ports: HostConfig.PortBindings (and PublishAllPorts over the exposed ports) into the
 * portmap plugin's mappings, with docker's rules — a port already taken on the host (by a process, or
 * by another container's mapping) is refused, an empty host port gets a free one from the kernel.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { failedPrecondition, invalidArgument } from '../../common/index.ts';
import type { PortMapping } from '../../network/index.ts';
import type { ContainerConfig, HostConfig } from '../docker-types.ts';

/** docker's NetworkSettings.Ports: "80/tcp" → the host bindings (null: exposed, not published). */
export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;

function splitPort(key: string): { port: number; protocol: PortMapping['protocol'] } {
  const [portText, protocol = 'tcp'] = key.split('/');
  const port = Number(portText);
  if (!/^\d+$/.test(portText ?? '') || port < 1 || port > 65535)
    throw invalidArgument(`invalid container port \`${key}\`: expected 1-65535[/tcp|/udp|/sctp]`);
  if (!(PROTOCOLS as readonly string[]).includes(protocol))
    throw invalidArgument(`invalid protocol \`${protocol}\` in \`${key}\`: expected tcp, udp or sctp`);
  return { port, protocol: protocol as PortMapping['protocol'] };
}

/** The bindings asked for, host ports still possibly empty (random). */
export function requestedBindings(config: ContainerConfig, hc: HostConfig): PortMap {
  const out: PortMap = {};
  for (const [key, bindings] of Object.entries(hc.PortBindings ?? {})) {
    splitPort(key);
    out[key] = (bindings ?? [{}]).map((b) => ({ HostIp: b.HostIp ?? '', HostPort: b.HostPort ?? '' }));
  }
  if (hc.PublishAllPorts)
    for (const key of Object.keys(config.ExposedPorts ?? {}))
      if (!out[key]) out[key] = [{ HostIp: '', HostPort: '' }];
  return out;
}

/**
 * Host ports chosen (free ones for empty HostPort) and checked against `taken` (other containers'
 * mappings) and the host's sockets; returns the final map and the plugin's mappings.
 */
export async function resolveBindings(
  requested: PortMap,
  taken: readonly PortMapping[],
): Promise<{ ports: PortMap; mappings: PortMapping[] }> {
  const ports: PortMap = {};
  const mappings: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(requested)) {
    const { port: containerPort, protocol } = splitPort(key);
    ports[key] = [];
    for (const b of bindings ?? []) {
      const hostIP = b.HostIp || '0.0.0.0';
      const hostPort = b.HostPort ? parseHostPort(b.HostPort) : await freeHostPort(hostIP, protocol);
      const clash = [...taken, ...mappings].find(
        (m) =>
          m.hostPort === hostPort && m.protocol === protocol && sameHostIp(m.hostIP ?? '0.0.0.0', hostIP),
      );
      if (clash || !(await hostPortFree(hostIP, hostPort, protocol)))
        throw failedPrecondition(
          `driver failed programming external connectivity: Bind for ${hostIP}:${hostPort} failed: port is already allocated`,
        );
      mappings.push({ hostPort, containerPort, protocol, ...(b.HostIp ? { hostIP: b.HostIp } : {}) });
      ports[key]!.push({ HostIp: hostIP, HostPort: String(hostPort) });
    }
  }
  return { ports, mappings };
}

function parseHostPort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw invalidArgument(`invalid host port \`${text}\``);
  return n;
}

const sameHostIp = (a: string, b: string) => a === b || a === '0.0.0.0' || b === '0.0.0.0';

/** Whether nothing listens on hostIP:port now (a listen that succeeds, then closes). */
function hostPortFree(hostIP: string, port: number, protocol: PortMapping['protocol']): Promise<boolean> {
  if (protocol === 'sctp') return Promise.resolve(true);
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, hostIP, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: hostIP, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel considers free now (docker's random host port). */
function freeHostPort(hostIP: string, protocol: PortMapping['protocol']): Promise<number> {
  return new Promise((resolve, reject) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, hostIP, () => {
        const { port } = socket.address();
        socket.close(() => resolve(port));
      });
      return;
    }
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: hostIP === '0.0.0.0' ? undefined : hostIP }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** docker ps's PORTS column: "127.0.0.1:8080->80/tcp, 443/tcp". */
export function portsColumn(ports: PortMap): string {
  const parts: string[] = [];
  for (const [key, bindings] of Object.entries(ports)) {
    if (!bindings?.length) parts.push(key);
    else for (const b of bindings) parts.push(`${b.HostIp}:${b.HostPort}->${key}`);
  }
  return parts.join(', ');
}
