/** `skiff stop`: the stop signal, then SIGKILL after the timeout; prints each name as given. */
import { SkiffError } from '../../../common/index.ts';
import type { CommandDef } from '../../command.ts';
import type { FlagSpec, FlagValues } from '../../flags.ts';
import { forEachContainer, parseSeconds, withEngine } from './shared.ts';

/** The flags `stop` and `restart` share, and what they mean for the engine. */
export const SIGNAL_FLAG: FlagSpec = {
  name: 'signal',
  short: 's',
  type: 'string',
  description: 'Signal to send to the container',
};

export const STOP_FLAGS: readonly FlagSpec[] = [
  SIGNAL_FLAG,
  {
    name: 'time',
    short: 't',
    type: 'string',
    valueName: 'int',
    description: 'Seconds to wait before killing the container',
  },
];

export function stopOptions(flags: FlagValues): { timeout: number | undefined; signal: string | undefined } {
  return {
    timeout: parseSeconds(flags.time, '-t, --time'),
    signal: flags.signal === undefined ? undefined : String(flags.signal),
  };
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  args: { min: 1 },
  flags: STOP_FLAGS,
  async run(ctx, { flags, args }) {
    const { timeout, signal } = stopOptions(flags);
    return withEngine(ctx, (engine) =>
      forEachContainer(ctx, args, async (ref) => {
        const before = engine.records.resolve(ref);
        try {
          await engine.stop(before.id, { timeout, signal });
        } catch (err) {
          // An --rm container is removed by its own stop: gone afterwards is success, as docker's.
          if (!(before.hostConfig.AutoRemove && err instanceof SkiffError && err.kind === 'NotFound'))
            throw err;
        }
        return ref;
      }),
    );
  },
};

export default command;
