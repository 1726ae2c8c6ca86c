/** `skiff images` / `skiff image ls`: one row per repository:tag, as `docker images`. */
import type { Image, ImageStore } from '../../../image/index.ts';
import { type CommandDef, daemonError } from '../../command.ts';
import { goTimeString, imageSize, renderItems, struct, timeAgo } from '../../render/index.ts';
import { familiar, familiarInput, readConfig, shortId, withStore } from './shared.ts';

const DEFAULT_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const DIGESTS_FORMAT = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
const HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
};

interface Row {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly image: Image;
}

/** docker's image rows: each tag (with its repository's digest), else each digest, else <none>. */
export function imageRows(image: Image): Row[] {
  const digests = image.repoDigests.map(familiar);
  const digestOf = (repo: string) => digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
  const rows: Row[] = [];
  for (const tag of image.repoTags.map(familiar)) {
    const at = tag.lastIndexOf(':');
    const repository = tag.slice(0, at);
    rows.push({ repository, tag: tag.slice(at + 1), digest: digestOf(repository), image });
  }
  if (rows.length === 0)
    for (const d of digests) {
      const [repository = '<none>', digest = '<none>'] = d.split('@');
      rows.push({ repository, tag: '<none>', digest, image });
    }
  if (rows.length === 0) rows.push({ repository: '<none>', tag: '<none>', digest: '<none>', image });
  return rows;
}

type Predicate = (image: Image, labels: Record<string, string>) => boolean;

/** Row-level filters: as moby, a reference filter keeps only the tags that match it. */
type RowPredicate = (row: Row) => boolean;

/** The --filter values docker's image list accepts; anything else is its "invalid filter" error. */
function parseFilters(
  store: ImageStore,
  values: readonly string[],
): { preds: Predicate[]; rowPreds: RowPredicate[] } {
  const preds: Predicate[] = [];
  const rowPreds: RowPredicate[] = [];
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === -1) throw daemonError(`bad format of filter (expected name=value)`);
    const key = value.slice(0, eq).toLowerCase();
    const arg = value.slice(eq + 1);
    const created = (img: Image) => Date.parse(img.created ?? '') || 0;
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(arg.toLowerCase()))
        throw daemonError(`invalid filter 'dangling=${arg}'`);
      const want = arg.toLowerCase() === 'true' || arg === '1';
      preds.push((img) => (img.repoTags.length === 0) === want);
    } else if (key === 'reference') {
      const re = globToRegExp(arg);
      rowPreds.push(
        (r) => r.repository !== '<none>' && (re.test(r.repository) || re.test(`${r.repository}:${r.tag}`)),
      );
    } else if (key === 'before' || key === 'since') {
      const pivot = resolveFilterImage(store, arg);
      preds.push((img) => (key === 'before' ? created(img) < created(pivot) : created(img) > created(pivot)));
    } else if (key === 'label') {
      const at = arg.indexOf('=');
      preds.push((_img, labels) =>
        at === -1 ? Object.hasOwn(labels, arg) : labels[arg.slice(0, at)] === arg.slice(at + 1),
      );
    } else throw daemonError(`invalid filter '${key}'`);
  }
  return { preds, rowPreds };
}

function resolveFilterImage(store: ImageStore, input: string): Image {
  try {
    return store.resolve(input);
  } catch {
    throw daemonError(`No such image: ${familiarInput(input)}`);
  }
}

/** Go's path.Match: `*` and `?` stop at `/`; `[…]` classes. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw daemonError(`syntax error in pattern`);
      re += `[${pattern
        .slice(i + 1, end)
        .replace(/^\^/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const command: CommandDef = {
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  args: { min: 0, max: 1 },
  flags: [
    {
      name: 'all',
      short: 'a',
      type: 'bool',
      description: 'Show all images (default hides intermediate images)',
    },
    { name: 'digests', type: 'bool', description: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', description: 'Filter output based on conditions provided' },
    {
      name: 'format',
      type: 'string',
      description:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template",
    },
    { name: 'no-trunc', type: 'bool', description: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', description: 'Only show image IDs' },
  ],
  async run(ctx, { flags, args }) {
    const filters = [...((flags.filter as string[]) ?? [])];
    if (args[0] !== undefined) filters.push(`reference=${args[0]}`);
    const noTrunc = Boolean(flags['no-trunc']);
    const rows = await withStore(ctx, async (store) => {
      const { preds, rowPreds } = parseFilters(store, filters);
      const needLabels = filters.some((f) => f.toLowerCase().startsWith('label='));
      const images = store
        .list()
        .sort((a, b) => (Date.parse(b.created ?? '') || 0) - (Date.parse(a.created ?? '') || 0));
      const kept: Image[] = [];
      for (const image of images) {
        const labels = needLabels
          ? (((await readConfig(store, image)).config?.Labels as Record<string, string>) ?? {})
          : {};
        if (preds.every((p) => p(image, labels))) kept.push(image);
      }
      return kept.flatMap(imageRows).filter((r) => rowPreds.every((p) => p(r)));
    });
    const now = Date.now();
    const items = rows.map((r) =>
      struct('*formatter.imageContext', {
        Containers: 'N/A',
        CreatedAt: goTimeString(r.image.created),
        CreatedSince: timeAgo(r.image.created, now),
        Digest: r.digest,
        ID: shortId(r.image.id, noTrunc),
        Repository: r.repository,
        SharedSize: 'N/A',
        Size: imageSize(r.image.size),
        Tag: r.tag,
        UniqueSize: 'N/A',
        VirtualSize: imageSize(r.image.size),
      }),
    );
    const format = flags.quiet ? '{{.ID}}' : String(flags.format ?? '');
    ctx.out(
      renderItems(items, {
        format,
        defaultFormat: flags.digests ? DIGESTS_FORMAT : DEFAULT_FORMAT,
        headers: HEADERS,
      }),
    );
    return 0;
  },
};

export default command;
