/** `skiff rmi` / `skiff image rm`: each argument in turn; errors printed, the rest still removed. */
import { SkiffError } from '../../../common/index.ts';
import { type ImageStore, LayerStore } from '../../../image/index.ts';
import { type CommandDef, type Context, daemonError } from '../../command.ts';
import { familiar, imageError, shortId, withStore } from './shared.ts';

function removeOne(ctx: Context, store: ImageStore, input: string, force: boolean): void {
  const image = store.resolve(input);
  try {
    const result = store.remove(input, { force });
    for (const name of result.untagged) ctx.out(`Untagged: ${familiar(name)}\n`);
    for (const id of result.deleted) ctx.out(`Deleted: ${id}\n`);
  } catch (err) {
    // docker's wording for an image tagged in several repositories, removed by ID without -f.
    if (err instanceof SkiffError && err.kind === 'FailedPrecondition')
      throw daemonError(
        `conflict: unable to delete ${shortId(image.id, false)} (must be forced) - image is referenced in multiple repositories`,
      );
    throw err;
  }
}

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  args: { min: 1 },
  flags: [
    { name: 'force', short: 'f', type: 'bool', description: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', description: 'Do not delete untagged parents' },
  ],
  async run(ctx, { flags, args }) {
    const force = Boolean(flags.force);
    let status = 0;
    await withStore(ctx, async (store) => {
      for (const input of args) {
        try {
          removeOne(ctx, store, input, force);
        } catch (err) {
          // As docker: -f makes a missing image no error.
          if (force && err instanceof SkiffError && err.kind === 'NotFound') continue;
          ctx.err(`${imageError(err, input).message}\n`);
          status = 1;
        }
      }
      // The unpacked layers no image uses any more go with them.
      await new LayerStore(store).gc();
    });
    return status;
  },
};

export default command;
