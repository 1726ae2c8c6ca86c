/** `skiff start [-a] [-i] CONTAINER...` / `skiff container start`. */
import { SkiffError } from '../../../common/index.ts';
import { type CommandDef, daemonError, EXIT_FAILURE, StatusError } from '../../command.ts';
import { startAttached } from './run-common.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  args: { min: 1 },
  flags: [
    { name: 'attach', short: 'a', type: 'bool', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'bool', description: "Attach container's STDIN" },
  ],
  async run(ctx, { flags, args }) {
    const attach = Boolean(flags.attach || flags.interactive);
    if (attach && args.length > 1)
      throw new StatusError('you cannot start and attach multiple containers at once', EXIT_FAILURE);
    return withEngine(ctx, async (engine) => {
      if (attach) {
        const c = engine.records.resolve(args[0]!);
        return startAttached(
          engine,
          c,
          {
            tty: c.config.Tty ?? false,
            stdin: Boolean(flags.interactive && c.config.OpenStdin),
            sigProxy: true,
          },
          ctx.commandPath,
        );
      }
      let failed = false;
      for (const ref of args) {
        try {
          await engine.start(ref);
          ctx.out(`${ref}\n`);
        } catch (err) {
          if (!(err instanceof SkiffError)) throw err;
          ctx.err(`${daemonError(err.message).message}\n`);
          failed = true;
        }
      }
      if (failed) throw new StatusError('Error: failed to start containers', EXIT_FAILURE);
      return 0;
    });
  },
};

export default command;
