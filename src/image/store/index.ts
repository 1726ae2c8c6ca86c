export { chainIds } from './chain-id.ts';
export {
  type Image,
  type ImageLayer,
  ImageStore,
  type OpenImageStoreOptions,
  type PutImageOptions,
  type RemoveResult,
} from './image-store.ts';
export {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ParsedManifest,
  type Platform,
  parseConfig,
  parseManifest,
} from './manifest.ts';
export { CONFIG_TYPES, INDEX_TYPES, MANIFEST_TYPES, MediaType } from './media-types.ts';
export { formatPlatform, hostPlatform, platformMatches, selectManifest } from './platform.ts';
export { IMAGE_MIGRATIONS } from './schema.ts';
