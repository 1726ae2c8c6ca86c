/** `skiff create IMAGE [COMMAND] [ARG...]` / `skiff container create`: prints the new id. */
import type { CommandDef } from '../../command.ts';
import { runError } from './run-common.ts';
import { CREATE_FLAGS, parseRunFlags } from './run-flags.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  args: { min: 1 },
  interspersed: false,
  flags: CREATE_FLAGS,
  async run(ctx, parsed) {
    const options = parseRunFlags(parsed, { verb: 'create' });
    return withEngine(ctx, async (engine) => {
      try {
        ctx.out(`${(await engine.create({ ...options, pullLog: ctx.err })).id}\n`);
      } catch (err) {
        throw runError(ctx.commandPath, err);
      }
      return 0;
    });
  },
};

export default command;
