/**
 * image/snapshot: a container's rootfs as mount specs over shared layer directories. The snapshotter
 * never mounts; whoever needs the mount performs it.
 */
export { MAX_OVERLAY_LAYERS, type MountSpec, OverlaySnapshotter, type SnapshotKind } from './overlay.ts';
