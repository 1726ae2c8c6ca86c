/**
 * image/snapshot: a container's rootfs as mount specs over shared layer directories. The snapshotter
 * returns specs and never mounts; mountSnapshot performs them (with native/skiff-mount) for whoever
 * needs the mount.
 */
export { mountArguments, mountSnapshot, unmountSnapshot } from './mount.ts';
export { copyLayer, NativeSnapshotter } from './native.ts';
export { MAX_OVERLAY_LAYERS, type MountSpec, OverlaySnapshotter, type SnapshotKind } from './overlay.ts';
export { readSnapshotFile, type SnapshotFile } from './read-file.ts';
export { createSnapshotter, type Snapshotter, type SnapshotterName } from './select.ts';
