import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalidArgument, syscallError } from '../../common/index.ts';
import { type Digest, digestOf } from '../digest.ts';
import { layerCompression } from '../layer/index.ts';
import { formatReference, parseDockerRef } from '../reference.ts';
import { type Image, type ImageStore, MediaType } from '../store/index.ts';
import { decompressor } from './input.ts';
import { CONTAINERD_IMAGE_NAME, makeTempDir, OCI_REF_NAME } from './load.ts';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

/** Where a saved archive goes: a stream, or a file path (written beside and renamed when complete). */
export type ArchiveOutput = Writable | string;

interface SavedImage {
  readonly image: Image;
  /** The name given (normalized), when the reference was a name rather than an ID. */
  readonly name?: string;
}

const OCI_LAYER_TYPES = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/**
 * `docker save`: writes the images `refs` name into one archive, each blob (or layer tar) once.
 * docker-archive is the `docker save` layout (manifest.json, repositories, `<id>.json`,
 * `<diffID>/layer.tar` uncompressed, as `docker load` and `podman load` expect); oci-archive is an OCI
 * image layout whose index.json names each image by `org.opencontainers.image.ref.name` (the full
 * reference, as podman writes it) and `io.containerd.image.name`.
 */
export async function saveArchive(
  store: ImageStore,
  refs: readonly string[],
  format: ArchiveFormat,
  output: ArchiveOutput,
): Promise<void> {
  if (refs.length === 0) throw invalidArgument('save: no image given');
  if (format !== 'docker-archive' && format !== 'oci-archive')
    throw invalidArgument(`save: format \`${format}\` is neither docker-archive nor oci-archive`);
  const images = refs.map((ref) => savedImage(store, ref));
  const blobs = [
    ...new Set(images.flatMap(({ image }) => [image.id, ...image.layers.map((l) => l.blob.digest)])),
  ];
  await store.withLease(blobs, async () => {
    const pack = tar.pack();
    const written = writeOutput(pack as unknown as Readable, output);
    try {
      if (format === 'oci-archive') await packOci(store, images, pack);
      else await packDocker(store, images, pack);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      await written.catch(() => undefined);
      throw err;
    }
    await written;
  });
}

function savedImage(store: ImageStore, ref: string): SavedImage {
  const image = store.resolve(ref);
  // A name (not an ID) keeps its name in the archive; `busybox` means busybox:latest.
  const byId =
    image.id === ref ||
    image.id.startsWith(`sha256:${ref}`) ||
    (ref.length >= 4 && image.id.slice(7).startsWith(ref));
  if (byId) return { image };
  const parsed = parseDockerRef(ref);
  return { image, name: parsed.digest === undefined ? formatReference(parsed) : undefined };
}

async function writeOutput(pack: Readable, output: ArchiveOutput): Promise<void> {
  if (typeof output !== 'string') return pipeline(pack, output);
  const temp = path.join(path.dirname(output), `.${path.basename(output)}.${process.pid}.tmp`);
  try {
    await pipeline(pack, createWriteStream(temp, { mode: 0o644 }));
    await fs.rename(temp, output).catch((err: unknown) => {
      throw syscallError('rename', output, err);
    });
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

function entry(pack: tar.Pack, name: string, size: number, body?: Buffer | Readable): Promise<void> {
  const header = { name, size, mode: 0o644, mtime: new Date(0), type: 'file' as const };
  if (body === undefined || Buffer.isBuffer(body))
    return new Promise((resolve, reject) =>
      pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())),
    );
  return new Promise((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    pipeline(body, sink).catch(reject);
  });
}

function dir(pack: tar.Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) =>
    pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) }, (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------
// oci-archive

async function packOci(store: ImageStore, images: SavedImage[], pack: tar.Pack): Promise<void> {
  await entry(pack, 'oci-layout', 30, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  await dir(pack, 'blobs/');
  await dir(pack, 'blobs/sha256/');
  const done = new Set<Digest>();
  const putBlob = async (digest: Digest, data?: Buffer) => {
    if (done.has(digest)) return;
    done.add(digest);
    const name = `blobs/${digest.replace(':', '/')}`;
    if (data) return entry(pack, name, data.length, data);
    const { size } = await store.content.stat(digest);
    return entry(pack, name, size, await store.content.read(digest));
  };
  const manifests = [];
  for (const { image, name } of images) {
    const configBytes = await store.content.readBytes(image.id, 64 * 2 ** 20);
    await putBlob(image.id, configBytes);
    const layers = [];
    for (const layer of image.layers) {
      await putBlob(layer.blob.digest);
      layers.push({
        mediaType: OCI_LAYER_TYPES[layerCompression(layer.blob.mediaType)],
        digest: layer.blob.digest,
        size: layer.blob.size,
      });
    }
    // Written as an OCI manifest whatever the source was (the config and layers are the same bytes).
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: image.id, size: configBytes.length },
        layers,
      }),
    );
    const digest = digestOf(manifest);
    await putBlob(digest, manifest);
    manifests.push({
      mediaType: MediaType.ociManifest,
      digest,
      size: manifest.length,
      ...(name ? { annotations: { [OCI_REF_NAME]: name, [CONTAINERD_IMAGE_NAME]: name } } : {}),
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  await entry(pack, 'index.json', index.length, index);
}

// ---------------------------------------------------------------------------------------------------
// docker-archive

async function packDocker(store: ImageStore, images: SavedImage[], pack: tar.Pack): Promise<void> {
  const temp = await makeTempDir(store, 'save-');
  try {
    const manifest = [];
    const repositories: Record<string, Record<string, string>> = {};
    const written = new Set<string>();
    for (const { image, name } of images) {
      const configHex = image.id.slice('sha256:'.length);
      if (!written.has(image.id)) {
        written.add(image.id);
        const config = await store.content.readBytes(image.id, 64 * 2 ** 20);
        await entry(pack, `${configHex}.json`, config.length, config);
      }
      const layerNames = [];
      for (const layer of image.layers) {
        const layerHex = layer.diffId.slice('sha256:'.length);
        layerNames.push(`${layerHex}/layer.tar`);
        if (written.has(layer.diffId)) continue;
        written.add(layer.diffId);
        await dir(pack, `${layerHex}/`);
        await packLayerTar(
          store,
          layer.blob.digest,
          layer.blob.mediaType,
          `${layerHex}/layer.tar`,
          temp,
          pack,
        );
      }
      manifest.push({ Config: `${configHex}.json`, RepoTags: name ? [name] : null, Layers: layerNames });
      if (name) {
        const colon = name.lastIndexOf(':');
        const top = image.layers.at(-1)?.diffId.slice('sha256:'.length) ?? configHex;
        const repo = repositories[name.slice(0, colon)] ?? {};
        repo[name.slice(colon + 1)] = top;
        repositories[name.slice(0, colon)] = repo;
      }
    }
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    await entry(pack, 'manifest.json', manifestBytes.length, manifestBytes);
    const repoBytes = Buffer.from(JSON.stringify(repositories));
    await entry(pack, 'repositories', repoBytes.length, repoBytes);
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

/** docker-archive layers are uncompressed tars: a compressed blob is inflated to a temporary file
 * first, since a tar entry's size must be known before its bytes. */
async function packLayerTar(
  store: ImageStore,
  digest: Digest,
  mediaType: string,
  name: string,
  temp: string,
  pack: tar.Pack,
): Promise<void> {
  const compression = layerCompression(mediaType);
  if (compression === 'none') {
    const { size } = await store.content.stat(digest);
    return entry(pack, name, size, await store.content.read(digest));
  }
  const file = path.join(temp, 'layer.tar');
  await pipeline(await store.content.read(digest), decompressor(compression), createWriteStream(file));
  const { size } = await fs.stat(file);
  await entry(pack, name, size, createReadStream(file));
  await fs.rm(file, { force: true });
}
