// Volumes of the local driver: records, directories, copy-up.
export { isEmptyDir, resolveInRoot } from './copy-up.ts';
export { parsePruneFilters, parseVolumeFilters } from './filters.ts';
export { anonymousVolumeName, isValidVolumeName, VOLUME_NAME_CHARS, validateVolumeName } from './names.ts';
export {
  ANONYMOUS_LABEL,
  type CreateVolumeOptions,
  type PruneOptions,
  type PruneResult,
  type Volume,
  type VolumeFilters,
  VolumeStore,
} from './store.ts';
