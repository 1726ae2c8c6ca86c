import { invalidArgument } from '../../common/index.ts';

/** How a layer blob is compressed; the tar inside is the same for all. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

const COMPRESSION_BY_MEDIA_TYPE: ReadonlyMap<string, LayerCompression> = new Map([
  ['application/vnd.oci.image.layer.v1.tar', 'none'],
  ['application/vnd.oci.image.layer.v1.tar+gzip', 'gzip'],
  ['application/vnd.oci.image.layer.v1.tar+zstd', 'zstd'],
  // Non-distributable layers are deprecated but still valid OCI layers with the same content.
  ['application/vnd.oci.image.layer.nondistributable.v1.tar', 'none'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'gzip'],
  ['application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', 'zstd'],
  ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
  ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'gzip'],
  ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'gzip'],
  ['application/vnd.docker.image.rootfs.diff.tar.zstd', 'zstd'],
]);

/** The compression of a layer media type; an unknown media type is refused by name. */
export function layerCompression(mediaType: string): LayerCompression {
  const compression = COMPRESSION_BY_MEDIA_TYPE.get(mediaType);
  if (compression === undefined) {
    throw invalidArgument(
      `layer mediaType \`${mediaType}\` is not a layer type skiff can unpack (tar, tar+gzip or tar+zstd, OCI or Docker)`,
    );
  }
  return compression;
}

/** Every media type `apply` accepts. */
export const LAYER_MEDIA_TYPES: readonly string[] = [...COMPRESSION_BY_MEDIA_TYPE.keys()];
