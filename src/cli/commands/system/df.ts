/** `skiff system df`: disk usage by type. Only images exist yet; rows for containers, volumes and
 * the build cache arrive with the engine (issue 4). */
import type { CommandDef } from '../../command.ts';
import { humanSize, renderItems, struct } from '../../render/index.ts';
import { withStore } from '../image/shared.ts';

const DEFAULT_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const HEADERS = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Show skiff disk usage',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'verbose', short: 'v', type: 'bool', description: 'Show detailed information on space usage' },
  ],
  async run(ctx, { flags }) {
    // Blobs are shared between images, so the total is the content store's size, not a sum of images.
    const { count, size } = await withStore(ctx, async (store) => {
      const images = store.list();
      const blobs = await store.content.list();
      const used = new Set(
        images.flatMap((i) => [i.id, i.manifestDigest, ...i.layers.map((l) => l.blob.digest)]),
      );
      const size = blobs.filter((b) => used.has(b.digest)).reduce((sum, b) => sum + b.size, 0);
      return { count: images.length, size };
    });
    // No container uses an image yet, so all of it is reclaimable.
    const reclaimable = size;
    const row = struct('*formatter.diskUsageImagesContext', {
      Active: '0',
      Reclaimable:
        size > 0
          ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / size)}%)`
          : humanSize(reclaimable),
      Size: humanSize(size),
      TotalCount: String(count),
      Type: 'Images',
    });
    ctx.out(
      renderItems([row], {
        format: String(flags.format ?? ''),
        defaultFormat: DEFAULT_FORMAT,
        headers: HEADERS,
      }),
    );
    return 0;
  },
};

export default command;
