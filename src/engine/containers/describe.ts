/**
 * The engine's reading side for `inspect` and `ps`: gathers what the pure mappings (./inspect.ts,
 * ./list.ts) need from the disk (snapshot mounts, the writable layer's size, the image's size).
 */
import { type HealthState, healthSuffix } from '../health/state.ts';
import type { Engine } from './engine.ts';
import { type GraphDriver, graphDriverOf, type InspectExtras, inspectContainer } from './inspect.ts';
import { directorySize, type FilterLookups, type ListOptions, selectContainers } from './list.ts';
import type { Container } from './records.ts';

export interface ContainerSize {
  /** The writable layer (SizeRw). */
  rw: number;
  /** The whole rootfs: image plus writable layer (SizeRootFs). */
  rootFs: number;
}

export async function graphDriver(engine: Engine, c: Container): Promise<GraphDriver> {
  try {
    return graphDriverOf(await engine.snapshotter().mounts(c.id), engine.paths_(c).rootfs);
  } catch {
    return { Name: 'overlay2', Data: null }; // the snapshot is gone (a removal in progress)
  }
}

/** SizeRw and SizeRootFs: the upper dir's files, plus the image's size for the virtual size. */
export async function containerSize(
  engine: Engine,
  c: Container,
  driver?: GraphDriver,
): Promise<ContainerSize> {
  const d = driver ?? (await graphDriver(engine, c));
  const upper = d.Data?.UpperDir;
  const rw = upper ? await directorySize(upper) : 0;
  let imageSize = 0;
  try {
    imageSize = (await engine.imageStore()).resolve(c.imageId).size;
  } catch {
    // The image was removed under the container (docker rmi -f): count the layer alone.
  }
  return { rw, rootFs: rw + imageSize };
}

/** Docker's ContainerJSON of one container (its state brought up to date by the caller). */
export async function describeContainer(
  engine: Engine,
  c: Container,
  options: { size?: boolean } = {},
): Promise<Record<string, unknown>> {
  c.paused = await engine.isPaused(c);
  const driver = await graphDriver(engine, c);
  const extras: InspectExtras = {
    paths: engine.paths_(c),
    graphDriver: driver,
    ...(options.size ? { size: await containerSize(engine, c, driver) } : {}),
    ...healthOf(engine, c),
  };
  return inspectContainer(c, extras);
}

/** `docker ps`'s selection over the engine's containers (states reconciled first). */
export async function listContainers(engine: Engine, options: ListOptions): Promise<Container[]> {
  const all = await engine.list();
  for (const c of all) c.paused = await engine.isPaused(c);
  const store = options.filters?.some((f) => f.toLowerCase().startsWith('ancestor='))
    ? await engine.imageStore()
    : undefined;
  const lookups: FilterLookups = {
    imageIds(ref) {
      try {
        return store ? [store.resolve(ref).id] : [];
      } catch {
        return []; // as moby: an ancestor that names no image matches nothing
      }
    },
    container: (ref) => engine.records.resolve(ref),
    health: (c) => engine.healthRecords.get(c)?.Status ?? 'none',
  };
  return selectContainers(all, options, lookups);
}

/** State.Health of c, for inspect (none without a health check or before the first start). */
function healthOf(engine: Engine, c: Container): { health?: HealthState } {
  const health = engine.healthRecords.get(c);
  return health ? { health } : {};
}

/** The STATUS column's health part of a running container: " (healthy)", " (health: starting)". */
export function healthStatusSuffix(engine: Engine, c: Container): string {
  return c.state === 'running' ? healthSuffix(engine.healthRecords.get(c)?.Status) : '';
}
