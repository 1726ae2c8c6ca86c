/**
 * The container's root filesystem: for a running container the overlay the kernel mounted at its
 * `/` (the container's own mountinfo), else the snapshot's mount spec; lower dirs resolved to the
 * image's layers, and the size of what the container wrote (the upper dir).
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { type Image, type ImageStore, LayerStore, type MountSpec } from '../../image/index.ts';
import { directorySize } from '../containers/index.ts';
import { readText } from './procfs.ts';
import type { LayerFacts, RootfsFacts } from './types.ts';

/** What a root mount says: its type and options (lowerdir, upperdir, …). */
export interface RootMount {
  fstype: string;
  source: string;
  options: string[];
  /** The directory relative lowerdirs are relative to (the overlay snapshotter's short links). */
  cwd?: string;
}

/** mountinfo escapes space, tab, newline and backslash as three octal digits. */
const unescapeField = (field: string) =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));

/** Pure: the mount at `/` in a mountinfo text (the last one: it hides those under it). */
export function rootMountOf(mountinfo: string): RootMount | undefined {
  let found: RootMount | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields[4] !== '/') continue;
    found = {
      fstype: fields[separator + 1] ?? '',
      source: unescapeField(fields[separator + 2] ?? ''),
      options: (fields[separator + 3] ?? '').split(',').map(unescapeField),
    };
  }
  return found;
}

/** Pure: lower dirs (bottom to top) and upper dir of an overlay's options; a bind's source as its upper. */
export function overlayDirs(mount: RootMount): { lowers: string[]; upper: string | null } {
  const opt = (key: string) => mount.options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  if (mount.fstype !== 'overlay') return { lowers: [], upper: mount.source || null };
  const absolute = (p: string) => (mount.cwd && !path.isAbsolute(p) ? path.join(mount.cwd, p) : p);
  // lowerdir lists the top layer first; `::` separates data-only layers (none here).
  const lowers = (opt('lowerdir') ?? '').split(':').filter(Boolean).map(absolute).reverse();
  return { lowers, upper: opt('upperdir') ?? null };
}

export function specMount(specs: readonly MountSpec[]): RootMount | undefined {
  const spec = specs.find((s) => s.type === 'overlay') ?? specs[0];
  if (!spec) return undefined;
  const bindSource = spec.type === 'bind' ? spec.source : '';
  return {
    fstype: spec.type,
    source: bindSource,
    options: spec.options,
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
  };
}

function resolveLayers(
  lowers: readonly string[],
  store: ImageStore | undefined,
  image: Image | undefined,
): LayerFacts[] {
  const byDir = new Map<string, Image['layers'][number]>();
  if (store && image) {
    const layers = new LayerStore(store);
    for (const layer of image.layers) byDir.set(layers.layerDir(layer.chainId), layer);
  }
  return lowers.map((dir) => {
    let real = dir;
    try {
      real = realpathSync(dir); // a short link l/<id> names the layer dir
    } catch {
      // gone: reported as mounted
    }
    const layer = byDir.get(real);
    return {
      dir,
      chainId: layer?.chainId ?? null,
      diffId: layer?.diffId ?? null,
      size: layer && store ? store.layerSize(layer.diffId, layer.blob.size) : null,
    };
  });
}

export interface RootfsInputs {
  /** The init's host pid when running (its mountinfo is read), else undefined. */
  pid?: number;
  /** The snapshot's mount specs (undefined when the snapshot is gone). */
  specs?: readonly MountSpec[];
  store?: ImageStore;
  image?: Image;
}

export async function collectRootfs(inputs: RootfsInputs): Promise<RootfsFacts | null> {
  const kernel =
    inputs.pid === undefined ? undefined : rootMountOf(readText(`/proc/${inputs.pid}/mountinfo`) ?? '');
  const spec = inputs.specs ? specMount(inputs.specs) : undefined;
  const mount = kernel?.fstype === 'overlay' || !spec ? kernel : spec;
  if (!mount) return null;
  if (mount === kernel && spec?.cwd) mount.cwd = spec.cwd;
  const { lowers, upper } = overlayDirs(mount);
  return {
    driver: mount.fstype,
    source: mount === kernel ? 'mountinfo' : 'snapshot',
    layers: resolveLayers(lowers, inputs.store, inputs.image),
    upperDir: upper,
    writableSize: upper ? await directorySize(upper) : 0,
  };
}
