/**
 * image/layer: one layer blob unpacked into one directory that overlayfs can use as a lowerdir,
 * with OCI whiteouts as overlay whiteouts, hostile archives refused, and the diffID computed on the way.
 */
export { type ApplyOptions, type ApplyResult, apply } from './apply.ts';
export { StreamingApply, type StreamingApplyOptions, UnpackWorkers } from './apply-worker.ts';
export {
  type EntryRole,
  entryComponents,
  entryRole,
  OPAQUE_WHITEOUT,
  WHITEOUT_PREFIX,
} from './entry-path.ts';
export { LAYER_MEDIA_TYPES, type LayerCompression, layerCompression } from './media-types.ts';
export { encodeNodeOperations, layerNodesPath, type NodeOperation } from './nodes.ts';
export type { DevicePolicy } from './tree-writer.ts';
export { isArchiveXattrAllowed } from './xattrs.ts';
