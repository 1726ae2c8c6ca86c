/** `skiff unpause` / `skiff container unpause`: thaws each paused container; prints its name. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  args: { min: 1 },
  flags: [],
  async run(ctx, { args }) {
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        await engine.unpause(ref);
        return ref;
      }),
    );
  },
};

export default command;
