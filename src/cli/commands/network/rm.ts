/** `skiff network rm`: each argument in turn; refused while containers use it or when pre-defined. */
import { checkUnused } from '../../../engine/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { findView, networkError, withNetworks } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', description: 'Do not error if the network does not exist' },
  ],
  async run(ctx, { flags, args }) {
    const errors: string[] = [];
    await withNetworks(ctx, async ({ engine, networks }) => {
      for (const ref of args) {
        try {
          const view = await findView(networks, ref);
          if (view.builtin || !view.network)
            throw daemonError(`${view.name} is a pre-defined network and cannot be removed`);
          checkUnused(engine.paths, engine.records, view.network);
          await networks.remove(view.network);
          engine.emitNetwork('destroy', view.network.name, view.network.id);
          ctx.out(`${ref}\n`);
        } catch (err) {
          const message = networkError(err).message;
          if (flags.force && /network .* not found$/.test(message)) continue;
          errors.push(message);
        }
      }
    });
    if (errors.length > 0) ctx.err(`${errors.join('\n')}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

export default command;
