import path from 'node:path';
import { dataRoot, invalidArgument } from '../../common/index.ts';
import { NativeSnapshotter } from './native.ts';
import { type MountSpec, OverlaySnapshotter } from './overlay.ts';

/** What both snapshotters offer (containerd's snapshotter verbs, as mount specs). */
export interface Snapshotter {
  readonly root: string;
  prepare(key: string, layers: readonly string[]): Promise<MountSpec[]>;
  view(key: string, layers: readonly string[]): Promise<MountSpec[]>;
  mounts(key: string): Promise<MountSpec[]>;
  remove(key: string): Promise<void>;
}

export type SnapshotterName = 'overlay' | 'native';

/**
 * The configured snapshotter: `name`, else $SKIFF_SNAPSHOTTER, else overlay. `native` copies the
 * layers (for file systems overlay cannot use). Each keeps its snapshots under its own directory of
 * `root` (default $SKIFF_ROOT), so switching never mixes them.
 */
export function createSnapshotter(
  name: string = process.env.SKIFF_SNAPSHOTTER || 'overlay',
  root: string = dataRoot(),
): Snapshotter {
  if (name === 'overlay') return new OverlaySnapshotter(path.join(root, 'snapshots'));
  if (name === 'native') return new NativeSnapshotter(path.join(root, 'snapshots-native'));
  throw invalidArgument(`snapshotter \`${name}\` (SKIFF_SNAPSHOTTER) is neither overlay nor native`);
}
