import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, invalidArgument, type SkiffError, syscallError } from '../../common/index.ts';
import type { Digest } from '../digest.ts';
import { apply } from '../layer/index.ts';
import type { Image, ImageStore, RemoveResult } from '../store/index.ts';

/** What gc() did: the layer directories (by chain ID) it removed. */
export interface LayerGcResult {
  readonly removed: Digest[];
}

/**
 * Unpacked layers under `<root>/layers/<hex of the chain ID>/` (DESIGN.md), each unpacked once and
 * shared by every image that has it. A directory holds only its own layer's changes (overlay
 * whiteouts included), so the snapshotters stack them. The directory name is the chain ID's hex
 * alone: a `:` would split an overlay lowerdir option.
 */
export class LayerStore {
  readonly images: ImageStore;
  readonly root: string;

  constructor(images: ImageStore, root: string = path.join(images.root, 'layers')) {
    this.images = images;
    this.root = root;
  }

  /** The directory of the layer with this chain ID (whether it is unpacked or not). */
  layerDir(chainId: Digest): string {
    const match = /^sha256:([a-f0-9]{64})$/.exec(chainId);
    if (!match) throw invalidArgument(`layer chain ID \`${chainId}\` is not a sha256 digest`);
    return path.join(this.root, match[1]!);
  }

  async has(chainId: Digest): Promise<boolean> {
    try {
      return (await fs.lstat(this.layerDir(chainId))).isDirectory();
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return false;
      throw syscallError('lstat', this.layerDir(chainId), err);
    }
  }

  /**
   * Unpacks the image's layers that are not unpacked yet, bottom to top, each verified against its
   * diffID. Returns the layer directories bottom to top. A lease keeps the image's blobs from an
   * `rmi` running beside us while they are read.
   */
  async ensureLayers(image: Image): Promise<string[]> {
    await this.mkdirRoot();
    const blobs = image.layers.map((l) => l.blob.digest);
    return this.images.withLease(blobs, async () => {
      const dirs: string[] = [];
      for (const layer of image.layers) {
        const dir = this.layerDir(layer.chainId);
        dirs.push(dir);
        if (await this.has(layer.chainId)) continue;
        const stream = await this.images.content.read(layer.blob.digest);
        try {
          const applied = await apply(stream, layer.blob.mediaType, dir, { expectedDiffId: layer.diffId });
          this.images.recordLayerSize(layer.diffId, applied.size);
        } catch (err) {
          // A concurrent unpacker of the same layer won the rename: its (verified) copy serves.
          if ((err as SkiffError).kind === 'AlreadyExists' && (await this.has(layer.chainId))) continue;
          throw annotate(
            err,
            `unpack layer ${layer.chainId} (blob ${layer.blob.digest}) of image ${image.id}`,
          );
        }
      }
      return dirs;
    });
  }

  /** Creates the layers directory (idempotent). */
  async mkdirRoot(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw syscallError('mkdir', this.root, err);
    });
  }

  /**
   * Removes the temporary directories of unpackers that died (killed pulls): apply() names them
   * `.<chain hex>.unpacking-<pid>-<random>`, and a pid that no longer exists unpacks nothing. Those of
   * live processes stay (a reused pid keeps a leftover until gc's age limit).
   */
  async pruneStaleUnpacks(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return;
      throw syscallError('readdir', this.root, err);
    }
    for (const name of names) {
      const pid = /^\.[a-f0-9]{64}\.unpacking-(\d+)-/.exec(name)?.[1];
      if (pid !== undefined && !processExists(Number(pid))) await removeTree(path.join(this.root, name));
    }
  }

  /** Chain IDs of the unpacked layers (temporary unpack and removal dirs are not layers). */
  async list(): Promise<Digest[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return [];
      throw syscallError('readdir', this.root, err);
    }
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /**
   * Removes every layer directory that no image uses (ImageStore.chainIdsInUse). A directory is first
   * renamed out of the way (atomic: a reader sees the whole layer or none) and then deleted; an
   * ensureLayers() after that simply unpacks it again. Leftover temporaries of crashed unpacks and
   * removals go too. Layers are in use through images only: the engine must refuse `rmi` of an image
   * a container uses (as Docker does), or that container's lower dirs could go.
   */
  async gc(): Promise<LayerGcResult> {
    const removed: Digest[] = [];
    for (const chainId of await this.list()) {
      const dir = this.layerDir(chainId);
      const doomed = path.join(this.root, `.removing-${randomUUID()}`);
      // The check and the rename under the store's write lock: an image recorded meanwhile (a load
      // sharing this layer, whose ensureLayers then finds it present) is either seen here, or its
      // ensureLayers finds the layer gone and unpacks it again.
      const renamed = this.images.underWriteLock(() => {
        if (this.images.chainIdsInUse().has(chainId)) return false;
        try {
          renameSync(dir, doomed);
          return true;
        } catch (err) {
          if (hasErrno(err, 'ENOENT')) return false;
          throw syscallError('rename', dir, err);
        }
      });
      if (!renamed) continue;
      await removeTree(doomed);
      removed.push(chainId);
    }
    await this.pruneTemporaries();
    await this.pruneStaleUnpacks();
    return { removed };
  }

  /** Removes `.removing-*` dirs, and `.*.unpacking-*` dirs older than an hour (a crashed unpack). */
  private async pruneTemporaries(): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.root);
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return;
      throw syscallError('readdir', this.root, err);
    }
    for (const name of names) {
      const full = path.join(this.root, name);
      if (name.startsWith('.removing-')) await removeTree(full);
      else if (name.startsWith('.') && name.includes('.unpacking-')) {
        const stat = await fs.lstat(full).catch(() => undefined);
        if (stat && Date.now() - stat.mtimeMs > 60 * 60 * 1000) await removeTree(full);
      }
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !hasErrno(err, 'ESRCH');
  }
}

async function removeTree(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
    throw syscallError('rm', dir, err);
  });
}

function annotate(err: unknown, what: string): unknown {
  if (err instanceof Error && !err.message.startsWith(what)) err.message = `${what}: ${err.message}`;
  return err;
}

/** `rmi` with the layer directories: removes the image (ImageStore.remove) and then unused layers. */
export async function removeImage(
  layers: LayerStore,
  reference: string,
  options: { force?: boolean } = {},
): Promise<RemoveResult & { layersRemoved: Digest[] }> {
  const result = layers.images.remove(reference, options);
  const { removed } = result.deleted.length > 0 ? await layers.gc() : { removed: [] };
  return { ...result, layersRemoved: removed };
}

/** Store-wide garbage collection: unreferenced blobs (after a grace period) and unused layer dirs. */
export async function collectGarbage(
  layers: LayerStore,
  options: { graceMs?: number } = {},
): Promise<{ blobsDeleted: Digest[]; layersRemoved: Digest[] }> {
  const blobsDeleted = await layers.images.gc(options);
  const { removed } = await layers.gc();
  await pruneTempArea(path.join(layers.images.root, 'tmp'), options.graceMs ?? 60 * 60 * 1000);
  return { blobsDeleted, layersRemoved: removed };
}

/** Removes what crashed loads, saves and imports left in <root>/tmp (older than graceMs). */
async function pruneTempArea(dir: string, graceMs: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return;
    throw syscallError('readdir', dir, err);
  }
  for (const name of names) {
    const full = path.join(dir, name);
    const stat = await fs.lstat(full).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs >= graceMs) await removeTree(full);
  }
}
