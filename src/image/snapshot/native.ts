import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dataRoot, invalidArgument, nativeTool, runtimeFailure, syscallError } from '../../common/index.ts';
import type { MountSpec } from './overlay.ts';
import {
  createSnapshotDir,
  readSnapshotRecord,
  removeSnapshotDir,
  SNAPSHOT_KEY,
  type SnapshotKind,
} from './snapshot-dir.ts';

/**
 * The copy snapshotter, for file systems where overlay is not possible (as containerd's `native`):
 * a snapshot is a private directory `<root>/<key>/rootfs` into which the layers are copied bottom to
 * top, applying their overlay whiteouts (0:0 character devices delete, opaque directories replace),
 * and its mount is a bind of that directory. Costs a full copy per snapshot; shares nothing.
 */
export class NativeSnapshotter {
  readonly root: string;

  constructor(root: string = path.join(dataRoot(), 'snapshots-native')) {
    this.root = root;
  }

  async prepare(key: string, layers: readonly string[]): Promise<MountSpec[]> {
    return this.create(key, 'active', layers);
  }

  async view(key: string, layers: readonly string[]): Promise<MountSpec[]> {
    if (layers.length === 0) throw invalidArgument(`snapshot \`${key}\`: a view needs at least one layer`);
    return this.create(key, 'view', layers);
  }

  async mounts(key: string): Promise<MountSpec[]> {
    const { kind } = await readSnapshotRecord(this.root, checkKey(key));
    return this.mountsOf(key, kind);
  }

  async remove(key: string): Promise<void> {
    await removeSnapshotDir(this.root, checkKey(key));
  }

  /** The snapshot's merged directory (what the bind mount shows). */
  rootfsDir(key: string): string {
    return path.join(this.dir(key), 'rootfs');
  }

  private dir(key: string): string {
    return path.join(this.root, checkKey(key));
  }

  private mountsOf(key: string, kind: SnapshotKind): MountSpec[] {
    return [{ type: 'bind', source: this.rootfsDir(key), options: ['rbind', kind === 'view' ? 'ro' : 'rw'] }];
  }

  private async create(key: string, kind: SnapshotKind, layers: readonly string[]): Promise<MountSpec[]> {
    return createSnapshotDir(this.root, checkKey(key), { kind, layers: [...layers] }, async () => {
      const rootfs = this.rootfsDir(key);
      await fs.mkdir(rootfs, { mode: 0o755 });
      for (const layer of layers) await copyLayer(layer, rootfs);
      return this.mountsOf(key, kind);
    });
  }
}

function checkKey(key: string): string {
  if (!SNAPSHOT_KEY.test(key)) throw invalidArgument(`snapshot key \`${key}\` must match ${SNAPSHOT_KEY}`);
  return key;
}

/**
 * Copies one overlay layer dir onto `target` as overlayfs would show it on top. First a walk of the
 * layer clears in the target whatever the layer replaces (whiteouts, opaque dirs, a file where the
 * layer has a dir and the reverse, every non-dir the layer rewrites, so `cp` never writes through a
 * symlink); since every directory of the layer then is a real directory in the target (or absent),
 * no path below can lead out of it. Then `cp -a` copies the layer (ownership, modes, times, xattrs,
 * devices, hard links), and the copied whiteout nodes are removed.
 */
export async function copyLayer(layer: string, target: string): Promise<void> {
  const opaque = new Set(await opaqueDirs(layer));
  const whiteouts: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = await fs.readdir(path.join(layer, rel));
    for (const name of names) {
      const sub = rel === '' ? name : `${rel}/${name}`;
      const st = await fs.lstat(path.join(layer, sub));
      const dest = path.join(target, sub);
      const existing = await fs.lstat(dest).catch(() => undefined);
      if (st.isCharacterDevice() && st.rdev === 0) {
        whiteouts.push(sub);
        if (existing) await removeTree(dest);
        continue;
      }
      if (st.isDirectory()) {
        if (existing && (!existing.isDirectory() || opaque.has(sub))) await removeTree(dest);
        await walk(sub);
      } else if (existing) await removeTree(dest);
    }
  };
  if (opaque.has('.')) for (const name of await fs.readdir(target)) await removeTree(path.join(target, name));
  await walk('');
  await run('cp', ['-a', '--', `${layer}/.`, `${target}/`]);
  for (const sub of whiteouts) await fs.rm(path.join(target, sub), { force: true });
}

async function removeTree(p: string): Promise<void> {
  await fs.rm(p, { recursive: true, force: true }).catch((err: unknown) => {
    throw syscallError('rm', p, err);
  });
}

async function opaqueDirs(layer: string): Promise<string[]> {
  const out = await run(nativeTool('skiff-opaque-dirs', 'SKIFF_OPAQUE_DIRS'), [layer]);
  return out.split('\0').filter(Boolean);
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 }, (err, stdout, stderr) => {
      if (!err) resolve(stdout);
      else if (typeof err.code === 'number')
        reject(
          runtimeFailure(
            `${path.basename(command)} ${args.join(' ')}: ${stderr.trim() || `exit ${err.code}`}`,
            err,
          ),
        );
      else reject(syscallError('spawn', command, err));
    });
  });
}
