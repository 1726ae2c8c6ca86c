/** `skiff restart`: stop (as `stop`) then start again; prints each name as given. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, withEngine } from './shared.ts';
import { STOP_FLAGS, stopOptions } from './stop.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  args: { min: 1 },
  flags: STOP_FLAGS,
  async run(ctx, { flags, args }) {
    const { timeout, signal } = stopOptions(flags);
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        await engine.restart(ref, { timeout, signal });
        return ref;
      }),
    );
  },
};

export default command;
