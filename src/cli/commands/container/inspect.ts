/** `skiff container inspect`: Docker's ContainerJSON (src/engine/containers/inspect.ts) or a template. */
import { SkiffError } from '../../../common/index.ts';
import { describeContainer, type Engine } from '../../../engine/index.ts';
import type { CommandDef, Context } from '../../command.ts';
import { compileTemplate, expandEscapes, type Template } from '../../render/index.ts';
import { indentJson } from '../image/inspect.ts';
import { withEngine } from './shared.ts';

export const FORMAT_FLAG = {
  name: 'format',
  short: 'f',
  type: 'string',
  description:
    "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
} as const;

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

/** docker's inspect output: the JSON array, or the template once per object. */
export function printInspected(
  ctx: Context,
  found: readonly unknown[],
  template: Template | undefined,
): void {
  if (template) for (const item of found) ctx.out(`${template.execute(item)}\n`);
  else ctx.out(`${indentJson(found)}\n`);
}

export function inspectTemplate(format: unknown): Template | undefined {
  const text = String(format ?? '');
  return text && text !== 'json' ? compileTemplate(expandEscapes(text)) : undefined;
}

const command: CommandDef = {
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  args: { min: 1 },
  flags: [FORMAT_FLAG, { name: 'size', short: 's', type: 'bool', description: 'Display total file sizes' }],
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
    printInspected(ctx, found, template);
    for (const ref of missing) ctx.err(`Error: No such container: ${ref}\n`);
    return missing.length > 0 ? 1 : 0;
  },
};

export default command;
