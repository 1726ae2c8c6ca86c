/** `skiff kill`: sends a signal (SIGKILL by default) to each running container; prints its name. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, withEngine } from './shared.ts';
import { SIGNAL_FLAG } from './stop.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  args: { min: 1 },
  flags: [SIGNAL_FLAG],
  async run(ctx, { flags, args }) {
    const signal = flags.signal === undefined || flags.signal === '' ? 'SIGKILL' : String(flags.signal);
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        await engine.kill(ref, signal);
        return ref;
      }),
    );
  },
};

export default command;
