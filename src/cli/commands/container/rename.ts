/** `skiff rename CONTAINER NEW_NAME` / `skiff container rename`. */
import type { CommandDef } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER NEW_NAME',
  summary: 'Rename a container',
  args: { min: 2, max: 2 },
  flags: [],
  async run(ctx, { args }) {
    const [ref, name] = args as [string, string];
    await withEngine(ctx, async (engine) => {
      try {
        await engine.rename(ref, name);
      } catch (err) {
        throw containerError(err, ref);
      }
    });
    return 0;
  },
};

export default command;
