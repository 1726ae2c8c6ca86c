/**
 * `system df`: what images, containers, volumes and the build cache hold on disk, and how much of it
 * a prune would free, as dockerd's /system/df computes it. Image sizes are the uncompressed layers
 * (what `images` shows), each layer directory counted once however many images share it.
 */
import type { Image, ImageStore } from '../../image/index.ts';
import { type Container, containerSize, type Engine } from '../containers/index.ts';
import type { Volume } from '../volumes/index.ts';

export interface ImageUsage {
  image: Image;
  /** The image's size (config + its layers). */
  size: number;
  /** Bytes of its layers that other images have too. */
  sharedSize: number;
  /** Containers made from it (any state). */
  containers: number;
}

export interface ContainerUsage {
  container: Container;
  /** The writable layer (SizeRw). */
  sizeRw: number;
  /** Running (docker counts running, paused and restarting as active). */
  active: boolean;
}

export interface VolumeUsage {
  volume: Volume;
  size: number;
  /** Containers that mount it. */
  refCount: number;
}

export interface UsageSummary<T> {
  items: T[];
  totalCount: number;
  activeCount: number;
  totalSize: number;
  reclaimable: number;
}

export interface DiskUsage {
  images: UsageSummary<ImageUsage>;
  containers: UsageSummary<ContainerUsage>;
  volumes: UsageSummary<VolumeUsage>;
  /** skiff has no builder yet: always empty. */
  buildCache: UsageSummary<never>;
}

/** Pure over the store's numbers: per image sizes, and the total and reclaimable of all images. */
export function imageUsage(
  images: readonly Image[],
  layerSize: (layer: Image['layers'][number]) => number,
  containersOf: (image: Image) => number,
): UsageSummary<ImageUsage> {
  const imagesPerLayer = new Map<string, number>();
  for (const image of images)
    for (const chainId of new Set(image.layers.map((l) => l.chainId)))
      imagesPerLayer.set(chainId, (imagesPerLayer.get(chainId) ?? 0) + 1);
  const sizeOfLayer = new Map<string, number>();
  for (const image of images) for (const l of image.layers) sizeOfLayer.set(l.chainId, layerSize(l));
  const items = images.map((image) => {
    const layers = [...new Set(image.layers.map((l) => l.chainId))];
    const layerBytes = layers.reduce((sum, id) => sum + (sizeOfLayer.get(id) ?? 0), 0);
    const shared = layers
      .filter((id) => (imagesPerLayer.get(id) ?? 0) > 1)
      .reduce((sum, id) => sum + (sizeOfLayer.get(id) ?? 0), 0);
    // The config blob (and any layer listed twice) beyond the distinct layers.
    const own = Math.max(0, image.size - layerBytes);
    return { image, size: own + layerBytes, sharedSize: shared, containers: containersOf(image) };
  });
  const configBytes = (u: ImageUsage) =>
    u.size -
    [...new Set(u.image.layers.map((l) => l.chainId))].reduce((s, id) => s + (sizeOfLayer.get(id) ?? 0), 0);
  const total =
    [...sizeOfLayer.values()].reduce((a, b) => a + b, 0) + items.reduce((s, u) => s + configBytes(u), 0);
  const active = items.filter((u) => u.containers > 0);
  const usedLayers = new Set(active.flatMap((u) => u.image.layers.map((l) => l.chainId)));
  const used =
    [...usedLayers].reduce((s, id) => s + (sizeOfLayer.get(id) ?? 0), 0) +
    active.reduce((s, u) => s + configBytes(u), 0);
  return {
    items,
    totalCount: items.length,
    activeCount: active.length,
    totalSize: total,
    reclaimable: total - used,
  };
}

function summary<T>(items: T[], size: (t: T) => number, active: (t: T) => boolean): UsageSummary<T> {
  const totalSize = items.reduce((s, t) => s + size(t), 0);
  const activeItems = items.filter(active);
  return {
    items,
    totalCount: items.length,
    activeCount: activeItems.length,
    totalSize,
    reclaimable: totalSize - activeItems.reduce((s, t) => s + size(t), 0),
  };
}

export async function diskUsage(engine: Engine): Promise<DiskUsage> {
  const containers = await engine.list();
  const store: ImageStore = await engine.imageStore();
  const users = new Map<string, number>();
  for (const c of containers) users.set(c.imageId, (users.get(c.imageId) ?? 0) + 1);
  const images = imageUsage(
    store.list(),
    (l) => store.layerSize(l.diffId, l.blob.size),
    (image) => users.get(image.id) ?? 0,
  );
  const containerItems: ContainerUsage[] = [];
  for (const c of containers)
    containerItems.push({
      container: c,
      sizeRw: (await containerSize(engine, c)).rw,
      active: c.state === 'running',
    });
  const volumeItems: VolumeUsage[] = [];
  for (const volume of engine.volumes.list())
    volumeItems.push({
      volume,
      size: await engine.volumes.size(volume.name),
      refCount: engine.volumes.usedBy(volume.name).length,
    });
  return {
    images,
    containers: summary(
      containerItems,
      (c) => c.sizeRw,
      (c) => c.active,
    ),
    volumes: summary(
      volumeItems,
      (v) => v.size,
      (v) => v.refCount > 0,
    ),
    buildCache: { items: [], totalCount: 0, activeCount: 0, totalSize: 0, reclaimable: 0 },
  };
}
