/** `skiff history IMAGE`: the config's history, newest first, sizes from the layers it made. */
import type { CommandDef } from '../../command.ts';
import { imageSize, renderItems, struct, timeAgo } from '../../render/index.ts';
import { imageError, readConfig, shortId, withStore } from './shared.ts';

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HEADERS = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};
const CREATED_BY_WIDTH = 45;

/** time.Unix(created, 0).Format(time.RFC3339) in UTC, as docker's history CreatedAt. */
function rfc3339(iso: string | undefined): string {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  const date = new Date(Number.isNaN(t) ? -62135596800000 : Math.floor(t / 1000) * 1000);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** docker's stringutils.Ellipsis: at most n characters, the last one `…` when cut. */
function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

const command: CommandDef = {
  usage: '[OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  args: { min: 1, max: 1 },
  flags: [
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    {
      name: 'human',
      short: 'H',
      type: 'bool',
      description: 'Print sizes and dates in human readable format',
      defaultText: 'true',
    },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(ctx, { flags, args }) {
    const input = args[0]!;
    const noTrunc = Boolean(flags['no-trunc']);
    const human = flags.human !== false;
    const { image, config } = await withStore(ctx, async (store) => {
      try {
        const image = store.resolve(input);
        return { image, config: await readConfig(store, image) };
      } catch (err) {
        throw imageError(err, input);
      }
    });
    // Each non-empty history entry made the next layer; its size is that layer blob's (compressed).
    let layer = 0;
    const entries = (config.history ?? []).map((h) => {
      const size = h.empty_layer ? 0 : (image.layers[layer++]?.blob.size ?? 0);
      return { ...h, size };
    });
    const now = Date.now();
    const items = entries.reverse().map((h, i) => {
      const createdBy = (h.created_by ?? '').replaceAll('\t', ' ');
      return struct('*formatter.historyContext', {
        Comment: h.comment ?? '',
        CreatedAt: rfc3339(h.created),
        CreatedBy: noTrunc ? createdBy : ellipsis(createdBy, CREATED_BY_WIDTH),
        CreatedSince: human ? timeAgo(h.created, now) : rfc3339(h.created),
        ID: i === 0 ? shortId(image.id, noTrunc) : '<missing>',
        Size: human ? imageSize(h.size) : String(h.size),
      });
    });
    const format = flags.quiet ? '{{.ID}}' : String(flags.format ?? '');
    ctx.out(renderItems(items, { format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS }));
    return 0;
  },
};

export default command;
