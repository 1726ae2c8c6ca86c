/** `skiff volume rm`: each argument in turn; errors printed, the rest still removed. */
import type { CommandDef } from '../../command.ts';
import { volumeError, withVolumes } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  args: { min: 1 },
  flags: [
    {
      name: 'force',
      short: 'f',
      type: 'bool',
      description: 'Force the removal of one or more volumes',
    },
  ],
  async run(ctx, { flags, args }) {
    const force = Boolean(flags.force);
    const errors: string[] = [];
    await withVolumes(ctx, async (store) => {
      for (const name of args) {
        try {
          await store.remove(name, { force });
          ctx.out(`${name}\n`);
        } catch (err) {
          errors.push(volumeError(err).message);
        }
      }
    });
    // docker prints the failures together once every volume was tried.
    if (errors.length > 0) ctx.err(`${errors.join('\n')}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

export default command;
