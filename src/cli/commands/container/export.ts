/** `skiff export CONTAINER` / `skiff container export`: the container's filesystem as a tar. */
import { createWriteStream } from 'node:fs';
import { isatty } from 'node:tty';
import { SkiffError } from '../../../common/index.ts';
import { type CommandDef, daemonError, StatusError } from '../../command.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  args: { min: 1, max: 1 },
  flags: [{ name: 'output', short: 'o', type: 'string', description: 'Write to a file, instead of STDOUT' }],
  async run(ctx, { flags, args }) {
    const output = typeof flags.output === 'string' ? flags.output : undefined;
    // isatty(1), not process.stdout: that would make a pipe on fd 1 non-blocking, and the fs stream
    // below would then fail with EAGAIN whenever the reader falls behind.
    if (output === undefined && isatty(1))
      throw new StatusError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    return withEngine(ctx, async (engine) => {
      try {
        await engine.export(args[0]!, output ?? createWriteStream('', { fd: 1 }));
      } catch (err) {
        if (err instanceof SkiffError) throw daemonError(err.message);
        throw err;
      }
      return 0;
    });
  },
};

export default command;
