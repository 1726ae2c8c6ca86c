/**
 * image/archive: `load`/`save` of docker-archive and oci-archive files, `import` of a rootfs tarball as
 * a single-layer image, `export` of an image's merged rootfs.
 */
export { applyChanges, type ContainerConfig } from './changes.ts';
export { goTime, type ImportOptions, importRootfs } from './import.ts';
export { type ArchiveInput, type Compression, detectCompression } from './input.ts';
export { CONTAINERD_IMAGE_NAME, type LoadedArchiveImage, loadArchive, OCI_REF_NAME } from './load.ts';
export { type ArchiveFormat, type ArchiveOutput, saveArchive } from './save.ts';
