/** `skiff network connect`: a container joins a network (now if it runs, and at every start). */
import type { CommandDef } from '../../command.ts';
import { withNetworks } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  args: { min: 2, max: 2 },
  flags: [
    {
      name: 'alias',
      type: 'list',
      valueName: 'strings',
      description: 'Add network-scoped alias for the container',
    },
    { name: 'ip', type: 'string', description: 'IPv4 address (e.g., "172.30.100.104")' },
  ],
  async run(ctx, { flags, args }) {
    const aliases = (flags.alias as string[] | undefined) ?? [];
    const ip = flags.ip as string | undefined;
    await withNetworks(ctx, ({ engine }) =>
      engine.connectNetwork(args[1]!, args[0]!, {
        ...(aliases.length ? { Aliases: aliases } : {}),
        ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}),
      }),
    );
    return 0;
  },
};

export default command;
