/** `skiff pause` / `skiff container pause`: freezes each container's processes; prints its name. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  args: { min: 1 },
  flags: [],
  async run(ctx, { args }) {
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        await engine.pause(ref);
        return ref;
      }),
    );
  },
};

export default command;
