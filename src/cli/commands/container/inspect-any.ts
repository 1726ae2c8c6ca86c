/**
 * `skiff inspect` (docker's top-level inspect): each name is looked up as a container, then as an
 * image, unless --type says which; "No such object" when it is neither.
 */
import { SkiffError } from '../../../common/index.ts';
import type { CommandDef } from '../../command.ts';
import { INSPECT_FORMAT_FLAG, inspectOutput, inspectTemplate } from '../../render/index.ts';
import { imageInspect } from '../image/inspect.ts';
import { withStore } from '../image/shared.ts';
import { findContainerJson } from './inspect.ts';
import { withEngine } from './shared.ts';

const TYPES = ['container', 'image'];

const command: CommandDef = {
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on Docker objects',
  args: { min: 1 },
  flags: [
    INSPECT_FORMAT_FLAG,
    {
      name: 'size',
      short: 's',
      type: 'bool',
      description: 'Display total file sizes if the type is container',
    },
    { name: 'type', type: 'string', description: 'Only inspect objects of the given type' },
  ],
  async run(ctx, { flags, args }) {
    const type = flags.type === undefined ? undefined : String(flags.type);
    if (type !== undefined && !TYPES.includes(type)) {
      ctx.err(`"${type}" is not a valid value for --type\n`);
      return 1;
    }
    const template = inspectTemplate(flags.format);
    const found: unknown[] = [];
    const missing: string[] = [];
    const containers = type !== 'image';
    const images = type !== 'container';
    const fromContainers = containers
      ? await withEngine(ctx, async (engine) => {
          const byRef = new Map<string, Record<string, unknown> | undefined>();
          for (const ref of args) byRef.set(ref, await findContainerJson(engine, ref, Boolean(flags.size)));
          return byRef;
        })
      : new Map<string, undefined>();
    const need = args.filter((ref) => !fromContainers.get(ref));
    const fromImages = new Map<string, unknown>();
    if (images && need.length > 0)
      await withStore(ctx, async (store) => {
        for (const ref of need) {
          try {
            fromImages.set(ref, await imageInspect(store, store.resolve(ref)));
          } catch (err) {
            if (!(err instanceof SkiffError && err.kind === 'NotFound')) throw err;
          }
        }
      });
    for (const ref of args) {
      const item = fromContainers.get(ref) ?? fromImages.get(ref);
      if (item) found.push(item);
      else missing.push(ref);
    }
    ctx.out(inspectOutput(found, template));
    const what = type === 'container' ? 'container' : type === 'image' ? 'image' : 'object';
    for (const ref of missing) ctx.err(`Error: No such ${what}: ${ref}\n`);
    return missing.length > 0 ? 1 : 0;
  },
};

export default command;
