/**
 * `system prune`: stopped containers, then (with volumes) unused anonymous volumes, then dangling
 * images (every unused one with all), as dockerd's prune endpoints do in that order, so that what
 * a removed container held is free to go in the same run. `--filter until=… / label=… / label!=…`
 * narrows containers and images; labels narrow volumes.
 */
import { invalidArgument, SkiffError } from '../../common/index.ts';
import { type Digest, type Image, type ImageStore, LayerStore } from '../../image/index.ts';
import { type Container, containerSize, type Engine } from '../containers/index.ts';

export interface PruneFilters {
  /** Only objects created before this time (ms since the epoch). */
  until?: number;
  /** `key` or `key=value` that must be present. */
  label: string[];
  /** `key` or `key=value` that must be absent. */
  labelNot: string[];
}

/** A Go duration: `24h`, `1h30m`, `10m`, `90s`, `500ms`; undefined when it is not one. */
function parseGoDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(text)) return undefined;
  const scale: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1000,
    ms: 1,
    us: 1e-3,
    µs: 1e-3,
    ns: 1e-6,
  };
  let ms = 0;
  for (const [, n, , unit] of text.matchAll(/(\d+(\.\d+)?)(h|ms|m|s|us|µs|ns)/g))
    ms += Number(n) * scale[unit!]!;
  return ms;
}

/** docker's `until`: a Unix time (seconds, with fraction), an RFC 3339 date, or a duration before now. */
export function parseUntil(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const duration = parseGoDuration(value);
  if (duration !== undefined) return now - duration;
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return date;
  throw invalidArgument(`failed to parse value as time or duration: "${value}"`);
}

/** The `--filter` values of system prune: until, label, label!; volumes refuse until, as docker's CLI. */
export function parsePruneFilters(
  values: readonly string[],
  options: { volumes?: boolean } = {},
): PruneFilters {
  const filters: PruneFilters = { label: [], labelNot: [] };
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq === -1) throw invalidArgument('bad format of filter (expected name=value)');
    const key = value.slice(0, eq).toLowerCase();
    const arg = value.slice(eq + 1);
    if (key === 'until') filters.until = parseUntil(arg);
    else if (key === 'label') filters.label.push(arg);
    else if (key === 'label!') filters.labelNot.push(arg);
    else throw invalidArgument(`invalid filter '${key}'`);
  }
  if (options.volumes && filters.until !== undefined)
    throw invalidArgument('The "until" filter is not supported with "--volumes"');
  return filters;
}

function hasLabel(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const eq = filter.indexOf('=');
  return eq === -1 ? Object.hasOwn(labels, filter) : labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

/** Whether an object of that creation time and those labels passes the filters (pure). */
export function matchesPruneFilters(
  filters: PruneFilters,
  created: string | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (filters.until !== undefined) {
    const t = Date.parse(created ?? '');
    if (Number.isNaN(t) || t >= filters.until) return false;
  }
  return (
    filters.label.every((l) => hasLabel(labels, l)) && !filters.labelNot.some((l) => hasLabel(labels, l))
  );
}

export interface SystemPruneOptions {
  /** Every image no container uses, not only dangling ones. */
  all?: boolean;
  /** Also unused anonymous volumes. */
  volumes?: boolean;
  filters?: PruneFilters;
}

export interface SystemPruneResult {
  containersDeleted: string[];
  volumesDeleted: string[];
  /** References removed (full names), then image IDs deleted, as image prune reports them. */
  imagesUntagged: string[];
  imagesDeleted: Digest[];
  /** Bytes freed: writable layers, volume data, image blobs. */
  reclaimed: number;
}

async function pruneContainers(
  engine: Engine,
  filters: PruneFilters,
): Promise<{ deleted: string[]; reclaimed: number }> {
  const deleted: string[] = [];
  let reclaimed = 0;
  const stopped = (await engine.list()).filter(
    (c: Container) =>
      (c.state === 'exited' || c.state === 'created') &&
      matchesPruneFilters(filters, c.created, c.config.Labels ?? {}),
  );
  for (const c of stopped) {
    const size = (await containerSize(engine, c)).rw;
    try {
      await engine.remove(c.id);
    } catch (err) {
      // Started or removed by another command since the listing: no longer ours to prune.
      if (err instanceof SkiffError && (err.kind === 'FailedPrecondition' || err.kind === 'NotFound'))
        continue;
      throw err;
    }
    deleted.push(c.id);
    reclaimed += size;
  }
  return { deleted, reclaimed };
}

async function imageLabels(store: ImageStore, image: Image): Promise<Record<string, string>> {
  try {
    const config = JSON.parse((await store.content.readBytes(image.id)).toString('utf8')) as {
      config?: { Labels?: Record<string, string> | null };
    };
    return config.config?.Labels ?? {};
  } catch {
    return {};
  }
}

async function pruneImages(
  engine: Engine,
  all: boolean,
  filters: PruneFilters,
): Promise<{ untagged: string[]; deleted: Digest[]; reclaimed: number }> {
  const store = await engine.imageStore();
  // Images that containers (still) use are kept, as are those the filters do not select.
  const keep = new Set<string>(engine.records.imageUsers().keys());
  for (const image of store.list())
    if (!matchesPruneFilters(filters, image.created, await imageLabels(store, image))) keep.add(image.id);
  const sizes = new Map<Digest, number>((await store.content.list()).map((b) => [b.digest, b.size]));
  let untagged: string[] = [];
  let deleted: Digest[] = [];
  let blobs: Digest[] = [];
  if (all) {
    for (const image of store.list().filter((i) => !keep.has(i.id))) {
      const r = store.remove(image.id, { force: true });
      untagged = [...untagged, ...r.untagged];
      deleted = [...deleted, ...r.deleted];
      blobs = [...blobs, ...r.blobsDeleted];
    }
  } else {
    const r = store.pruneDangling(keep);
    ({ untagged, deleted } = r);
    blobs = r.blobsDeleted;
  }
  await new LayerStore(store).gc();
  return { untagged, deleted, reclaimed: blobs.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0) };
}

export async function systemPrune(
  engine: Engine,
  options: SystemPruneOptions = {},
): Promise<SystemPruneResult> {
  const filters = options.filters ?? { label: [], labelNot: [] };
  const containers = await pruneContainers(engine, filters);
  let volumes = { deleted: [] as string[], reclaimed: 0 };
  if (options.volumes) {
    const label = [...filters.label, ...filters.labelNot.map((l) => `!${l}`)];
    volumes = await engine.volumes.prune({ all: false, label });
  }
  const images = await pruneImages(engine, options.all ?? false, filters);
  return {
    containersDeleted: containers.deleted,
    volumesDeleted: volumes.deleted,
    imagesUntagged: images.untagged,
    imagesDeleted: images.deleted,
    reclaimed: containers.reclaimed + volumes.reclaimed + images.reclaimed,
  };
}
