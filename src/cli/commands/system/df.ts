/**
 * `skiff system df`: disk usage by type (Images, Containers, Local Volumes, Build Cache) with what a
 * prune would reclaim, as docker's; `-v` lists every image, container and volume.
 */
import {
  type ContainerUsage,
  type DiskUsage,
  diskUsage,
  type ImageUsage,
  type UsageSummary,
  type VolumeUsage,
} from '../../../engine/index.ts';
import { type CommandDef, EXIT_USAGE, StatusError } from '../../command.ts';
import { humanSize, imageSize, renderItems, struct, timeAgo } from '../../render/index.ts';
import { containerRow } from '../container/ls.ts';
import { containerError, withEngine } from '../container/shared.ts';
import { familiar } from '../image/shared.ts';

const DEFAULT_FORMAT = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const HEADERS = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};

const IMAGE_FORMAT =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const IMAGE_HEADERS = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};
const CONTAINER_FORMAT =
  'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const CONTAINER_HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  LocalVolumes: 'LOCAL VOLUMES',
  Size: 'SIZE',
  RunningFor: 'CREATED',
  Status: 'STATUS',
  Names: 'NAMES',
};
const VOLUME_FORMAT = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const VOLUME_HEADERS = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const CACHE_FORMAT =
  'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const CACHE_HEADERS = {
  ID: 'CACHE ID',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  Shared: 'SHARED',
};

/** docker's RECLAIMABLE: `1.2MB (40%)`, the share left out when there is no total. */
export function reclaimableText(reclaimable: number, total: number): string {
  return total > 0
    ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)`
    : humanSize(reclaimable);
}

function summaryRow(type: string, context: string, s: UsageSummary<unknown>, percent = true) {
  return struct(`*formatter.${context}`, {
    Active: String(s.activeCount),
    Reclaimable: percent ? reclaimableText(s.reclaimable, s.totalSize) : humanSize(s.reclaimable),
    Size: humanSize(s.totalSize),
    TotalCount: String(s.totalCount),
    Type: type,
  });
}

function imageRow(u: ImageUsage, now: number) {
  // docker's df shows the first tag only; <none> for a dangling image.
  const first = u.image.repoTags[0];
  const name = first ? familiar(first) : undefined;
  const at = name ? name.lastIndexOf(':') : -1;
  return struct('*formatter.imageContext', {
    Containers: String(u.containers),
    CreatedSince: timeAgo(u.image.created, now),
    ID: u.image.id.replace(/^sha256:/, '').slice(0, 12),
    Repository: name ? name.slice(0, at) : '<none>',
    SharedSize: imageSize(u.sharedSize),
    Size: imageSize(u.size),
    Tag: name ? name.slice(at + 1) : '<none>',
    UniqueSize: imageSize(u.size - u.sharedSize),
  });
}

function volumeRow(u: VolumeUsage) {
  return struct('*formatter.volumeContext', {
    Links: String(u.refCount),
    Name: u.volume.name,
    Size: humanSize(u.size),
  });
}

function verbose(du: DiskUsage): string {
  const now = Date.now();
  const section = (items: unknown[], format: string, headers: Record<string, string>) =>
    renderItems(items, { format: '', defaultFormat: format, headers });
  return [
    'Images space usage:\n\n',
    section(
      du.images.items.map((u) => imageRow(u, now)),
      IMAGE_FORMAT,
      IMAGE_HEADERS,
    ),
    '\nContainers space usage:\n\n',
    section(
      du.containers.items.map((u: ContainerUsage) =>
        containerRow(u.container, { trunc: true, now, size: { rw: u.sizeRw, rootFs: 0 } }),
      ),
      CONTAINER_FORMAT,
      CONTAINER_HEADERS,
    ),
    '\nLocal Volumes space usage:\n\n',
    section(du.volumes.items.map(volumeRow), VOLUME_FORMAT, VOLUME_HEADERS),
    `\nBuild cache usage: ${humanSize(du.buildCache.totalSize)}\n\n`,
    section([], CACHE_FORMAT, CACHE_HEADERS),
  ].join('');
}

const command: CommandDef = {
  usage: '[OPTIONS]',
  summary: 'Show skiff disk usage',
  args: { min: 0, max: 0 },
  flags: [
    { name: 'format', type: 'string', description: 'Format output using a custom template' },
    { name: 'verbose', short: 'v', type: 'bool', description: 'Show detailed information on space usage' },
  ],
  async run(ctx, { flags }) {
    const format = String(flags.format ?? '');
    if (flags.verbose && format !== '' && format !== 'table')
      throw new StatusError('--format is not supported with --verbose yet: use one or the other', EXIT_USAGE);
    const du = await withEngine(ctx, (engine) => diskUsage(engine)).catch((err: unknown) => {
      throw containerError(err, '');
    });
    if (flags.verbose) {
      ctx.out(verbose(du));
      return 0;
    }
    const rows = [
      summaryRow('Images', 'diskUsageImagesContext', du.images),
      summaryRow('Containers', 'diskUsageContainersContext', du.containers),
      summaryRow('Local Volumes', 'diskUsageVolumesContext', du.volumes),
      summaryRow('Build Cache', 'diskUsageBuilderContext', du.buildCache, false),
    ];
    ctx.out(renderItems(rows, { format, defaultFormat: DEFAULT_FORMAT, headers: HEADERS }));
    return 0;
  },
};

export default command;
