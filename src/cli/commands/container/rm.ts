/**
 * `skiff rm`: removes containers (-f kills a running one first, -v its anonymous volumes). As docker's
 * CLI, a container that is already gone is only reported under -f (two `rm -f` racing both succeed).
 */
import { SkiffError } from '../../../common/index.ts';
import { type CommandDef, EXIT_FAILURE } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  args: { min: 1 },
  flags: [
    {
      name: 'force',
      short: 'f',
      type: 'bool',
      description: 'Force the removal of a running container (uses SIGKILL)',
    },
    { name: 'link', short: 'l', type: 'bool', description: 'Remove the specified link' },
    {
      name: 'volumes',
      short: 'v',
      type: 'bool',
      description: 'Remove anonymous volumes associated with the container',
    },
  ],
  async run(ctx, { flags, args }) {
    const force = Boolean(flags.force);
    if (flags.link) {
      ctx.err('Error response from daemon: links are not supported by skiff (no legacy links)\n');
      return EXIT_FAILURE;
    }
    let failed = false;
    await withEngine(ctx, async (engine) => {
      for (const input of args) {
        const ref = input.replace(/^\/+/, '');
        if (ref === '') {
          ctx.err('Error: Container name cannot be empty\n');
          failed = true;
          continue;
        }
        try {
          await engine.remove(ref, { force, volumes: Boolean(flags.volumes) });
          ctx.out(`${input}\n`);
        } catch (err) {
          const notFound = err instanceof SkiffError && err.kind === 'NotFound';
          ctx.err(`${containerError(err, ref).message}\n`);
          if (!(force && notFound)) failed = true;
        }
      }
    });
    return failed ? EXIT_FAILURE : 0;
  },
};

export default command;
