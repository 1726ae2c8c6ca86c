import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dataRoot, failedPrecondition, hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import {
  createSnapshotDir,
  readSnapshotRecord,
  removeSnapshotDir,
  SNAPSHOT_KEY,
  type SnapshotKind,
  type SnapshotRecord,
} from './snapshot-dir.ts';

export type { SnapshotKind } from './snapshot-dir.ts';

/**
 * A mount to perform, containerd style: the snapshotter never mounts (Node cannot, and whoever needs
 * the mount — the runtime's plan, a test — performs it as `mount -t TYPE SOURCE TARGET -o OPTIONS`).
 */
export interface MountSpec {
  type: string;
  source: string;
  options: string[];
  /** When set, the mount must be performed in this working directory: its lowerdirs are relative. */
  cwd?: string;
}

/** The kernel's OVL_MAX_STACK: lower layers one overlay mount can stack. */
export const MAX_OVERLAY_LAYERS = 500;
/** The mount data is one page, NUL included. */
const MAX_MOUNT_DATA = 4095;

/**
 * Overlay snapshots: a container's rootfs is its image's layer directories (lowerdir, shared) under a
 * private upper and work dir in `<root>/<key>/`. When the absolute paths of many layers would not fit
 * in one page of mount data, the lowerdirs are given as short symlinks `l/<id>` relative to `<root>`
 * and the mount spec says to mount from there (`cwd`), as Docker's overlay2 does; that fits about 270
 * layers, more than Docker's 128.
 */
export class OverlaySnapshotter {
  readonly root: string;

  constructor(root: string = path.join(dataRoot(), 'snapshots')) {
    this.root = root;
  }

  /** A writable snapshot over `layers` (bottom to top; none is an empty rootfs). */
  async prepare(key: string, layers: readonly string[]): Promise<MountSpec[]> {
    return this.create(key, 'active', layers);
  }

  /** A read-only view of `layers` (at least one): no upper directory. */
  async view(key: string, layers: readonly string[]): Promise<MountSpec[]> {
    if (layers.length === 0) throw invalidArgument(`snapshot \`${key}\`: a view needs at least one layer`);
    return this.create(key, 'view', layers);
  }

  /** The mounts of an existing snapshot (after a restart, say). */
  async mounts(key: string): Promise<MountSpec[]> {
    const record = await this.read(key);
    return this.mountsOf(key, record);
  }

  /** Removes the snapshot's upper and work dirs; the caller has unmounted it. */
  async remove(key: string): Promise<void> {
    await removeSnapshotDir(this.root, checkKey(key));
  }

  /** Where writes to an active snapshot land. */
  upperDir(key: string): string {
    return path.join(this.dir(key), 'upper');
  }

  private dir(key: string): string {
    return path.join(this.root, checkKey(key));
  }

  private async create(key: string, kind: SnapshotKind, layers: readonly string[]): Promise<MountSpec[]> {
    checkKey(key);
    for (const layer of layers) checkLayerDir(layer);
    if (layers.length > MAX_OVERLAY_LAYERS) {
      throw failedPrecondition(
        `snapshot \`${key}\`: ${layers.length} layers, more than overlayfs stacks (${MAX_OVERLAY_LAYERS})`,
      );
    }
    const record: SnapshotRecord = { kind, layers: [...layers] };
    return createSnapshotDir(this.root, key, record, async (dir) => {
      if (kind === 'active') {
        await fs.mkdir(this.upperDir(key), 0o755);
        await fs.mkdir(path.join(dir, 'work'), 0o700);
      }
      return this.mountsOf(key, record);
    });
  }

  private read(key: string): Promise<SnapshotRecord> {
    return readSnapshotRecord(this.root, checkKey(key));
  }

  private async mountsOf(key: string, record: SnapshotRecord): Promise<MountSpec[]> {
    const topFirst = [...record.layers].reverse();
    if (record.kind === 'active' && topFirst.length === 0) {
      return [{ type: 'bind', source: this.upperDir(key), options: ['rbind', 'rw'] }];
    }
    if (record.kind === 'view' && topFirst.length === 1) {
      return [{ type: 'bind', source: topFirst[0]!, options: ['rbind', 'ro'] }];
    }
    const dir = this.dir(key);
    const tail =
      record.kind === 'active' ? [`upperdir=${this.upperDir(key)}`, `workdir=${path.join(dir, 'work')}`] : [];
    // index=off: the same lower dirs are shared by many mounts with different uppers.
    const build = (lowers: readonly string[]) => ['index=off', `lowerdir=${lowers.join(':')}`, ...tail];
    const options = build(topFirst);
    if (options.join(',').length <= MAX_MOUNT_DATA) return [{ type: 'overlay', source: 'overlay', options }];
    // As Docker's overlay2: short links relative to the snapshot root, mounted from there.
    const short = build(await this.shortLinks(topFirst));
    if (short.join(',').length > MAX_MOUNT_DATA) {
      throw failedPrecondition(
        `snapshot \`${key}\`: ${topFirst.length} layers do not fit in one overlay mount's options even as short links`,
      );
    }
    return [{ type: 'overlay', source: 'overlay', options: short, cwd: this.root }];
  }

  /** `l/<id>` (relative to the root) → layer dir, one per layer dir (the id derives from its path), made once. */
  private async shortLinks(layers: readonly string[]): Promise<string[]> {
    const linkDir = path.join(this.root, 'l');
    await fs.mkdir(linkDir, { recursive: true, mode: 0o700 });
    const links: string[] = [];
    for (const layer of layers) {
      const id = createHash('sha256').update(layer).digest('hex').slice(0, 12);
      const link = path.join(linkDir, id);
      const existing = await fs.readlink(link).catch((err: unknown) => {
        if (hasErrno(err, 'ENOENT')) return undefined;
        throw syscallError('readlink', link, err);
      });
      if (existing !== layer) {
        // Atomically, so a concurrent mount never sees a missing or half-made link.
        const tmp = `${link}.${process.pid}.tmp`;
        await fs.rm(tmp, { force: true });
        await fs.symlink(layer, tmp);
        await fs.rename(tmp, link);
      }
      links.push(path.join('l', id));
    }
    return links;
  }
}

function checkKey(key: string): string {
  if (!SNAPSHOT_KEY.test(key) || key === 'l') {
    throw invalidArgument(
      `snapshot key \`${key}\` must be 1–128 letters, digits, '_', '.' or '-' (and not \`l\`)`,
    );
  }
  return key;
}

/** Overlay's option syntax gives `:` `,` `\` a meaning; a layer dir must be absolute and free of them. */
function checkLayerDir(layer: string): void {
  if (!path.isAbsolute(layer) || /[:,\\\n]/.test(layer) || path.normalize(layer) !== layer) {
    throw invalidArgument(
      `layer directory \`${layer}\` must be a normalized absolute path without ':', ',' or '\\'`,
    );
  }
}
