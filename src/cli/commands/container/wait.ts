/** `skiff wait`: blocks until each container stops, then prints its exit code. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  args: { min: 1 },
  flags: [],
  async run(ctx, { args }) {
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => String(await engine.wait(ref))),
    );
  },
};

export default command;
