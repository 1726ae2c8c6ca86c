/** `skiff network disconnect`: a container leaves a network (now if it runs, and for good). */
import type { CommandDef } from '../../command.ts';
import { withNetworks } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  args: { min: 2, max: 2 },
  flags: [
    {
      name: 'force',
      short: 'f',
      type: 'bool',
      description: 'Force the container to disconnect from a network',
    },
  ],
  async run(ctx, { args }) {
    await withNetworks(ctx, ({ engine }) => engine.disconnectNetwork(args[1]!, args[0]!));
    return 0;
  },
};

export default command;
