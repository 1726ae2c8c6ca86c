/** `skiff container inspect`: Docker's ContainerJSON (src/engine/containers/inspect.ts) or a template. */
import { SkiffError } from '../../../common/index.ts';
import { describeContainer, type Engine } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { INSPECT_FORMAT_FLAG, inspectOutput, inspectTemplate } from '../../render/index.ts';
import { withEngine } from './shared.ts';

/** The container's JSON, undefined when ref names no container (other failures are thrown). */
export async function findContainerJson(
  engine: Engine,
  ref: string,
  size: boolean,
): Promise<Record<string, unknown> | undefined> {
  try {
    return await describeContainer(engine, await engine.inspect(ref), { size });
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound') return undefined;
    throw err;
  }
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  args: { min: 1 },
  flags: [
    INSPECT_FORMAT_FLAG,
    { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' },
  ],
  async run(ctx, { flags, args }) {
    const template = inspectTemplate(flags.format);
    const found: Record<string, unknown>[] = [];
    const missing: string[] = [];
    await withEngine(ctx, async (engine) => {
      for (const ref of args) {
        const json = await findContainerJson(engine, ref, Boolean(flags.size));
        if (json) found.push(json);
        else missing.push(ref);
      }
    });
    ctx.out(inspectOutput(found, template));
    for (const ref of missing) ctx.err(`Error: No such container: ${ref}\n`);
    return missing.length > 0 ? 1 : 0;
  },
};

export default command;
