/** `skiff network inspect`: docker's Network JSON or a --format template. */
import type { CommandDef } from '../../command.ts';
import { INSPECT_FORMAT_FLAG, inspectOutput, inspectTemplate } from '../../render/index.ts';
import { findView, inspectView, networkError, withNetworks } from './shared.ts';

const command: CommandDef = {
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  args: { min: 1 },
  flags: [
    INSPECT_FORMAT_FLAG,
    { name: 'verbose', short: 'v', type: 'bool', description: 'Verbose output for diagnostics' },
  ],
  async run(ctx, { flags, args }) {
    const template = inspectTemplate(flags.format);
    const found: Record<string, unknown>[] = [];
    const errors: string[] = [];
    await withNetworks(ctx, async ({ engine, networks }) => {
      for (const ref of args) {
        try {
          found.push(inspectView(await findView(networks, ref), engine));
        } catch (err) {
          errors.push(networkError(err).message);
        }
      }
    });
    ctx.out(inspectOutput(found, template));
    for (const message of errors) ctx.err(`${message}\n`);
    return errors.length > 0 ? 1 : 0;
  },
};

export default command;
