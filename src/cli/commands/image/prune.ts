/** `skiff image prune`: dangling images (or, with -a, every image no container uses). */
import { containersByImage } from '../../../engine/index.ts';
import { type Digest, type ImageStore, LayerStore, type RemoveResult } from '../../../image/index.ts';
import type { CommandDef } from '../../command.ts';
import { confirm, continuePrompt } from '../../confirm.ts';
import { humanSize } from '../../render/index.ts';
import { familiar, withStore } from './shared.ts';

const WARN_DANGLING = 'WARNING! This will remove all dangling images.';
const WARN_ALL = 'WARNING! This will remove all images without at least one container associated to them.';

/** -a: every image no container was made from. */
function pruneAll(store: ImageStore, inUse: ReadonlySet<string>): RemoveResult {
  const unused = store.list().filter((image) => !inUse.has(image.id));
  const results = unused.map((image) => store.remove(image.id, { force: true }));
  return {
    untagged: results.flatMap((r) => r.untagged),
    deleted: results.flatMap((r) => r.deleted),
    blobsDeleted: results.flatMap((r) => r.blobsDeleted),
  };
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Remove unused images',
  args: { min: 0, max: 0 },
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      description: 'Remove all unused images, not just dangling ones',
    },
    { name: 'force', short: 'f', type: 'bool', description: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    const all = Boolean(flags.all);
    if (!flags.force && !(await confirm(ctx, continuePrompt(all ? WARN_ALL : WARN_DANGLING)))) return 0;
    const inUse = new Set(containersByImage(ctx.globals.root).keys());
    const { result, reclaimed } = await withStore(ctx, async (store) => {
      // Sizes first: the reclaimed space is what the deleted blobs held.
      const sizes = new Map<Digest, number>((await store.content.list()).map((b) => [b.digest, b.size]));
      const result = all ? pruneAll(store, inUse) : store.pruneDangling(inUse);
      const reclaimed = result.blobsDeleted.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);
      await new LayerStore(store).gc();
      return { result, reclaimed };
    });
    if (result.untagged.length + result.deleted.length > 0) {
      ctx.out('Deleted Images:\n');
      for (const name of result.untagged) ctx.out(`untagged: ${familiar(name)}\n`);
      for (const id of result.deleted) ctx.out(`deleted: ${id}\n`);
      ctx.out('\n');
    }
    ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};

export default command;
