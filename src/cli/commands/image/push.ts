/** `skiff push NAME[:TAG]` / `skiff image push`: docker's plain (non-terminal) output. */
import { SkiffError } from '../../../common/index.ts';
import {
  ImageStore,
  parseDockerRef,
  pullStatusLine,
  pushHeaderLine,
  pushImage,
  pushSummaryLine,
} from '../../../image/index.ts';
import { type CommandDef, daemonError, EXIT_FAILURE, StatusError } from '../../command.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  args: { min: 1, max: 1 },
  flags: [{ name: 'quiet', short: 'q', type: 'bool', description: 'Suppress verbose output' }],
  async run(ctx, { args, flags }) {
    const input = args[0]!;
    try {
      parseDockerRef(input);
    } catch {
      throw new StatusError(`invalid reference format: ${input}`, EXIT_FAILURE);
    }
    const quiet = flags.quiet === true;
    const store = await ImageStore.open({ root: ctx.globals.root });
    try {
      if (!quiet) ctx.out(pushHeaderLine(input));
      const result = await pushImage(store, input, {
        onStatus: quiet ? undefined : (s) => ctx.out(pullStatusLine(s)),
      });
      if (!quiet) ctx.out(pushSummaryLine(result));
      else ctx.out(`${input}\n`);
      return 0;
    } catch (err) {
      if (err instanceof SkiffError) throw daemonError(err.message);
      throw err;
    } finally {
      store.close();
    }
  },
};

export default command;
