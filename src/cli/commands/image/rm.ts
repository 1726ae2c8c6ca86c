/** `skiff rmi` / `skiff image rm`: each argument in turn; errors printed, the rest still removed. */
import { SkiffError } from '../../../common/index.ts';
import { containersByImage } from '../../../engine/index.ts';
import { type ImageStore, LayerStore } from '../../../image/index.ts';
import { type CommandDef, type Context, daemonError } from '../../command.ts';
import { emitImageEvent } from './events.ts';
import { familiar, imageError, shortId, withStore } from './shared.ts';

type Users = Map<string, { id: string; state: string }[]>;

/**
 * An image a container was made from stays (its layers are the container's rootfs): docker refuses,
 * or with -f only untags a reference to it.
 */
function removeUsed(ctx: Context, store: ImageStore, input: string, users: Users, force: boolean): boolean {
  const image = store.resolve(input);
  const using = users.get(image.id);
  if (!using?.length) return false;
  const byId = /^(sha256:)?[a-f0-9]{1,64}$/.test(input);
  const container = using[0]!;
  if (!force) {
    if (byId) {
      const kind = container.state === 'running' ? 'running' : 'stopped';
      throw daemonError(
        `conflict: unable to delete ${shortId(image.id, false)} (must be forced) - image is being used by ${kind} container ${container.id.slice(0, 12)}`,
      );
    }
    throw daemonError(
      `conflict: unable to remove repository reference "${input}" (must force) - container ${container.id.slice(0, 12)} is using its referenced image ${shortId(image.id, false)}`,
    );
  }
  const references = byId ? [...image.repoTags, ...image.repoDigests] : [input];
  for (const reference of references) {
    ctx.out(`Untagged: ${familiar(store.untag(reference))}\n`);
    emitImageEvent(ctx, 'untag', image.id, image.id);
  }
  return true;
}

function removeOne(ctx: Context, store: ImageStore, input: string, force: boolean, users: Users): void {
  if (removeUsed(ctx, store, input, users, force)) return;
  const image = store.resolve(input);
  try {
    const result = store.remove(input, { force });
    // moby: LogImageEvent(imgID, imgID, untag|delete).
    for (const name of result.untagged) {
      ctx.out(`Untagged: ${familiar(name)}\n`);
      emitImageEvent(ctx, 'untag', image.id, image.id);
    }
    for (const id of result.deleted) {
      ctx.out(`Deleted: ${id}\n`);
      emitImageEvent(ctx, 'delete', id, id);
    }
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
    const users = containersByImage(ctx.globals.root);
    await withStore(ctx, async (store) => {
      for (const input of args) {
        try {
          removeOne(ctx, store, input, force, users);
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
