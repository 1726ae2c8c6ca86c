/** `skiff restart`: stop (as `stop`) then start again; prints each name as given. */
import type { CommandDef } from '../../command.ts';
import { forEachContainer, parseSeconds, withEngine } from './shared.ts';
import { SIGNAL_FLAG } from './stop.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  args: { min: 1 },
  flags: [
    SIGNAL_FLAG,
    {
      name: 'time',
      short: 't',
      type: 'string',
      valueName: 'int',
      description: 'Seconds to wait before killing the container',
    },
  ],
  async run(ctx, { flags, args }) {
    const timeout = parseSeconds(flags.time, '-t, --time');
    const signal = flags.signal === undefined ? undefined : String(flags.signal);
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        await engine.restart(ref, { timeout, signal });
        return ref;
      }),
    );
  },
};

export default command;
