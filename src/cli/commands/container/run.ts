/** `skiff run IMAGE [COMMAND] [ARG...]` / `skiff container run`. */
import type { CommandDef } from '../../command.ts';
import { runError, startAttached } from './run-common.ts';
import { parseRunFlags, RUN_FLAGS } from './run-flags.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  args: { min: 1 },
  interspersed: false,
  flags: RUN_FLAGS,
  async run(ctx, parsed) {
    const options = parseRunFlags(parsed);
    return withEngine(ctx, async (engine) => {
      let container: Awaited<ReturnType<typeof engine.create>>;
      try {
        container = await engine.create({ ...options, pullLog: ctx.err });
      } catch (err) {
        throw runError(ctx.commandPath, err);
      }
      if (options.detach) {
        try {
          await engine.start(container.id);
        } catch (err) {
          const failed = engine.records.get(container.id);
          if (options.hostConfig.AutoRemove)
            await engine.remove(container.id, { force: true, volumes: true });
          throw runError(ctx.commandPath, err, failed?.exitCode);
        }
        ctx.out(`${container.id}\n`);
        return 0;
      }
      return startAttached(
        engine,
        container,
        {
          tty: options.config.Tty ?? false,
          stdin: options.config.OpenStdin ?? false,
          sigProxy: options.sigProxy ?? true,
        },
        ctx.commandPath,
      );
    });
  },
};

export default command;
