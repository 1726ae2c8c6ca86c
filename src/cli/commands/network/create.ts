/** `skiff network create`: a bridge network (a CNI configuration list); prints its id. */
import { type CommandDef, daemonError } from '../../command.ts';
import { keyValues } from '../volume/shared.ts';
import { withNetworks } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  args: { min: 1, max: 1 },
  flags: [
    {
      name: 'driver',
      short: 'd',
      type: 'string',
      description: 'Driver to manage the Network',
      defaultText: '"bridge"',
    },
    {
      name: 'gateway',
      type: 'list',
      valueName: 'strings',
      description: 'IPv4 Gateway for the master subnet',
    },
    { name: 'internal', type: 'bool', description: 'Restrict external access to the network' },
    {
      name: 'ip-range',
      type: 'list',
      valueName: 'strings',
      description: 'Allocate container ip from a sub-range',
    },
    { name: 'ipv6', type: 'bool', description: 'Enable or disable IPv6 networking' },
    { name: 'label', type: 'list', valueName: 'list', description: 'Set metadata on a network' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', description: 'Set driver specific options' },
    {
      name: 'subnet',
      type: 'list',
      valueName: 'strings',
      description: 'Subnet in CIDR format that represents a network segment',
    },
  ],
  async run(ctx, { flags, args }) {
    const one = (flag: string): string | undefined => {
      const values = (flags[flag] as string[] | undefined) ?? [];
      if (values.length > 1) throw daemonError(`only one --${flag} is supported (IPv4 only)`);
      return values[0];
    };
    if (flags.ipv6) throw daemonError('IPv6 networks are not supported yet');
    const options = keyValues(flags.opt as string[] | undefined);
    if (Object.keys(options).length > 0)
      throw daemonError(`driver options are not supported: ${Object.keys(options).join(', ')}`);
    const subnet = one('subnet');
    const gateway = one('gateway');
    const ipRange = one('ip-range');
    if ((gateway || ipRange) && !subnet)
      throw daemonError(`--${gateway ? 'gateway' : 'ip-range'} needs --subnet`);
    const network = await withNetworks(ctx, async ({ engine, networks }) => {
      const made = await networks.create({
        name: args[0]!,
        driver: String(flags.driver ?? 'bridge'),
        ...(subnet ? { subnet } : {}),
        ...(gateway ? { gateway } : {}),
        ...(ipRange ? { ipRange } : {}),
        internal: Boolean(flags.internal),
        labels: keyValues(flags.label as string[] | undefined),
      });
      engine.emitNetwork('create', made.name, made.id);
      return made;
    });
    ctx.out(`${network.id}\n`);
    return 0;
  },
};

export default command;
