/** `skiff volume create`: prints the volume's name. */
import { type CommandDef, EXIT_FAILURE, StatusError } from '../../command.ts';
import { keyValues, withVolumes } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  args: { min: 0, max: 1 },
  flags: [
    {
      name: 'driver',
      short: 'd',
      type: 'string',
      description: 'Specify volume driver name',
      defaultText: '"local"',
    },
    { name: 'label', type: 'list', valueName: 'list', description: 'Set metadata for a volume' },
    { name: 'name', type: 'string', description: 'Specify volume name' },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', description: 'Set driver specific options' },
  ],
  async run(ctx, { flags, args }) {
    const flagName = flags.name as string | undefined;
    if (flagName !== undefined && args[0] !== undefined)
      throw new StatusError(
        'conflicting options: cannot specify a volume-name through both --name and as a positional arg',
        EXIT_FAILURE,
      );
    const name = args[0] ?? flagName;
    const volume = await withVolumes(ctx, (store) =>
      store.create({
        ...(name ? { name } : {}),
        driver: String(flags.driver ?? 'local'),
        labels: keyValues(flags.label as string[] | undefined),
        options: keyValues(flags.opt as string[] | undefined),
      }),
    );
    ctx.out(`${volume.name}\n`);
    return 0;
  },
};

export default command;
