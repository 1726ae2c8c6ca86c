/**
 * `skiff port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, from its
 * NetworkSettings.Ports as inspect shows them (none until networking publishes ports).
 */
import { describeContainer } from '../../../engine/index.ts';
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

type Bindings = Record<string, { HostIp?: string; HostPort?: string }[] | null> | null | undefined;

/** `80/tcp -> 0.0.0.0:8080` lines, ports in docker's order (by number, then protocol). */
export function portLines(ports: Bindings, wanted: string | undefined, ref: string): string[] {
  const entries = Object.entries(ports ?? {});
  if (wanted !== undefined) {
    const [port, proto = 'tcp'] = wanted.split('/');
    if (!/^\d+$/.test(port ?? '') || Number(port) > 65535)
      throw new StatusError(`Error: invalid port: ${wanted}`, EXIT_FAILURE);
    const key = `${Number(port)}/${proto.toLowerCase()}`;
    const bindings = entries.find(([k]) => k === key)?.[1];
    if (!bindings) throw new StatusError(`Error: No public port '${key}' published for ${ref}`, EXIT_FAILURE);
    return bindings.map((b) => hostAddress(b));
  }
  const order = (k: string) => {
    const [p, proto] = k.split('/');
    return [Number(p), proto ?? ''] as const;
  };
  entries.sort(([a], [b]) => order(a)[0] - order(b)[0] || order(a)[1].localeCompare(order(b)[1]));
  return entries.flatMap(([key, bindings]) => (bindings ?? []).map((b) => `${key} -> ${hostAddress(b)}`));
}

function hostAddress(b: { HostIp?: string; HostPort?: string }): string {
  const ip = b.HostIp || '0.0.0.0';
  return ip.includes(':') ? `[${ip}]:${b.HostPort ?? ''}` : `${ip}:${b.HostPort ?? ''}`;
}

const command: CommandDef = {
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  args: { min: 1, max: 2 },
  flags: [],
  async run(ctx, { args }) {
    const [ref, wanted] = args as [string, string | undefined];
    const json = await withEngine(ctx, async (engine) =>
      describeContainer(engine, await engine.inspect(ref)),
    ).catch((err: unknown) => {
      throw containerError(err, ref);
    });
    const settings = json.NetworkSettings as { Ports?: Bindings } | undefined;
    for (const line of portLines(settings?.Ports, wanted, ref)) ctx.out(`${line}\n`);
    return 0;
  },
};

export default command;
