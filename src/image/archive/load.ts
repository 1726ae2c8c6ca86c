import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, syscallError } from '../../common/index.ts';
import { type Digest, digestOf, isDigest } from '../digest.ts';
import { formatReference, parseDockerRef } from '../reference.ts';
import { type ImageStore, INDEX_TYPES, MANIFEST_TYPES, MediaType } from '../store/index.ts';
import {
  type ArchiveInput,
  decompressor,
  detectCompression,
  type ExtractedArchive,
  extractArchive,
  readArchiveJson,
} from './input.ts';

/** An image an archive held, as loaded. */
export interface LoadedArchiveImage {
  /** The image ID (config digest). */
  readonly id: Digest;
  /** The manifest (or index) digest recorded. */
  readonly digest: Digest;
  /** The names pointed at it (normalized), none for an untagged image. */
  readonly names: string[];
}

/** A blob to ingest: a file of the extracted archive, or bytes made here (docker-archive manifests). */
interface PlannedBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly file?: string;
  readonly data?: Buffer;
}

interface PlannedImage {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly id: Digest;
  readonly names: string[];
}

interface LoadPlan {
  readonly blobs: Map<Digest, PlannedBlob>;
  readonly images: PlannedImage[];
  /** Uncompressed layer sizes by diff ID, where the load measured them (docker-archive). */
  readonly layerSizes?: Map<Digest, number>;
}

export const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_IMAGE_NAME = 'io.containerd.image.name';

/**
 * `docker load`: reads a docker-archive (`docker save`, legacy and Docker 25+ layouts) or an
 * oci-archive (oci-layout, index.json, blobs/), gzip or zstd compressed or not, holding any number of
 * images. The archive is extracted into a private temporary directory under the store's root, and
 * every blob is verified there (digests, sizes, diffIDs) before the first one enters the content store,
 * so a hostile or broken archive changes nothing. Blobs are then ingested under a lease and the images
 * recorded.
 */
export async function loadArchive(store: ImageStore, input: ArchiveInput): Promise<LoadedArchiveImage[]> {
  const temp = await makeTempDir(store, 'load-');
  try {
    const archive = await extractArchive(input, temp);
    const plan = (await isFile(archive.resolve('manifest.json')))
      ? await planDockerArchive(archive)
      : (await isFile(archive.resolve('oci-layout')))
        ? await planOciArchive(archive)
        : undefined;
    if (!plan)
      throw invalidArgument(
        'archive: neither a docker-archive (manifest.json) nor an oci-archive (oci-layout)',
      );
    if (plan.images.length === 0) throw invalidArgument('archive: holds no image');
    return await store.withLease([...plan.blobs.keys()], async () => {
      for (const blob of plan.blobs.values()) {
        if (await store.content.exists(blob.digest)) continue;
        if (blob.data) await store.content.put(blob.data, blob.digest);
        else
          await store.content.ingest(createReadStream(blob.file!), { digest: blob.digest, size: blob.size });
      }
      for (const [diffId, size] of plan.layerSizes ?? []) store.recordLayerSize(diffId, size);
      const out: LoadedArchiveImage[] = [];
      for (const image of plan.images) {
        const put = await store.putImage(image.digest, { names: image.names, mediaType: image.mediaType });
        out.push({ id: put.id, digest: image.digest, names: image.names });
      }
      return out;
    });
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

/** A private temporary directory under `<root>/tmp/` (same file system as the blobs, so renames work). */
export async function makeTempDir(store: ImageStore, prefix: string): Promise<string> {
  const parent = path.join(store.root, 'tmp');
  await fs.mkdir(parent, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw syscallError('mkdir', parent, err);
  });
  return fs.mkdtemp(path.join(parent, prefix)).catch((err: unknown) => {
    throw syscallError('mkdtemp', parent, err);
  });
}

/** A regular file of the extracted archive named by the archive's own metadata (never a path out). */
async function archiveFile(archive: ExtractedArchive, name: string, what: string): Promise<string> {
  const file = archive.resolve(name);
  if (!(await isFile(file))) throw invalidArgument(`${what}: \`${name}\` is missing from the archive`);
  return file;
}

async function isFile(file: string): Promise<boolean> {
  const stat = await fs.lstat(file).catch(() => undefined);
  return stat?.isFile() ?? false;
}

// ---------------------------------------------------------------------------------------------------
// docker-archive

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

interface HashedLayer {
  digest: Digest;
  size: number;
  diffId: Digest;
  /** Bytes of the uncompressed tar. */
  unpackedSize: number;
  compression: 'gzip' | 'zstd' | 'none';
}

const DOCKER_LAYER_TYPES = {
  none: 'application/vnd.docker.image.rootfs.diff.tar',
  gzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  zstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
} as const;

async function planDockerArchive(dir: ExtractedArchive): Promise<LoadPlan> {
  const entries = parseDockerManifestJson(await readArchiveJson(dir, 'manifest.json'));
  const blobs = new Map<Digest, PlannedBlob>();
  const images: PlannedImage[] = [];
  const hashed = new Map<string, HashedLayer>();
  const layerSizes = new Map<Digest, number>();
  for (const [i, entry] of entries.entries()) {
    const what = `archive: manifest.json[${i}]`;
    const configFile = await archiveFile(dir, entry.Config, `${what}.Config`);
    const configBytes = await fs.readFile(configFile);
    const configDigest = digestOf(configBytes);
    checkNamedDigest(entry.Config, configDigest, `${what}.Config`);
    const diffIds = configDiffIds(configBytes, `${what}: config ${entry.Config}`);
    if (diffIds.length !== entry.Layers.length)
      throw invalidArgument(
        `${what}: lists ${entry.Layers.length} layers but its config has ${diffIds.length} diff_ids`,
      );
    blobs.set(configDigest, { digest: configDigest, size: configBytes.length, file: configFile });
    const layers = [];
    for (const [j, name] of entry.Layers.entries()) {
      const file = await archiveFile(dir, name, `${what}.Layers[${j}]`);
      let layer = hashed.get(file);
      if (!layer) {
        layer = await hashLayer(file);
        hashed.set(file, layer);
      }
      checkNamedDigest(name, layer.digest, `${what}.Layers[${j}]`);
      if (layer.diffId !== diffIds[j])
        throw invalidArgument(
          `${what}: layer ${name} has diffID ${layer.diffId}, its config says ${diffIds[j]}`,
        );
      blobs.set(layer.digest, { digest: layer.digest, size: layer.size, file });
      layerSizes.set(layer.diffId, layer.unpackedSize);
      layers.push({
        mediaType: DOCKER_LAYER_TYPES[layer.compression],
        size: layer.size,
        digest: layer.digest,
      });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: MediaType.dockerConfig, size: configBytes.length, digest: configDigest },
        layers,
      }),
    );
    const digest = digestOf(manifest);
    blobs.set(digest, { digest, size: manifest.length, data: manifest });
    const names = (entry.RepoTags ?? []).map((t) => normalizeName(t, `${what}.RepoTags`));
    images.push({ digest, mediaType: MediaType.dockerManifest, id: configDigest, names });
  }
  return { blobs, images, layerSizes };
}

function parseDockerManifestJson(json: unknown): DockerManifestEntry[] {
  if (!Array.isArray(json)) throw invalidArgument('archive: manifest.json is not an array');
  return json.map((e, i) => {
    const what = `archive: manifest.json[${i}]`;
    if (typeof e !== 'object' || e === null) throw invalidArgument(`${what} is not an object`);
    const { Config, RepoTags, Layers } = e as Record<string, unknown>;
    if (typeof Config !== 'string') throw invalidArgument(`${what}.Config is not a string`);
    if (!Array.isArray(Layers) || !Layers.every((l) => typeof l === 'string'))
      throw invalidArgument(`${what}.Layers is not an array of strings`);
    if (
      RepoTags !== undefined &&
      RepoTags !== null &&
      (!Array.isArray(RepoTags) || !RepoTags.every((t) => typeof t === 'string'))
    )
      throw invalidArgument(`${what}.RepoTags is not an array of strings`);
    return {
      Config,
      RepoTags: (RepoTags as string[] | null | undefined) ?? null,
      Layers: Layers as string[],
    };
  });
}

function configDiffIds(bytes: Buffer, what: string): Digest[] {
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON`, err);
  }
  const diffIds = (config as { rootfs?: { diff_ids?: unknown } })?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || !diffIds.every((d) => typeof d === 'string' && isDigest(d)))
    throw invalidArgument(`${what}: rootfs.diff_ids is not an array of digests`);
  return diffIds as Digest[];
}

/** When a file is named by its digest (`<hex>.json`, `blobs/sha256/<hex>`), the content must match. */
function checkNamedDigest(name: string, digest: Digest, what: string): void {
  const match = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(name);
  if (match && `sha256:${match[1]}` !== digest)
    throw invalidArgument(`${what}: \`${name}\` holds content with digest ${digest}`);
}

/** The blob digest and size, the compression and the diffID (digest of the uncompressed tar). */
async function hashLayer(file: string): Promise<HashedLayer> {
  const handle = await fs.open(file, 'r');
  const head = Buffer.alloc(4);
  await handle.read(head, 0, 4, 0);
  await handle.close();
  const compression = detectCompression(head);
  const blobHash = createHash('sha256');
  let size = 0;
  let unpackedSize = 0;
  const diffHash = compression === 'none' ? undefined : createHash('sha256');
  const stream = createReadStream(file);
  if (diffHash) {
    const inflate = decompressor(compression);
    stream.on('data', (chunk: string | Buffer) => {
      blobHash.update(chunk);
      size += Buffer.byteLength(chunk);
    });
    await pipeline(stream, inflate, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        diffHash.update(chunk);
        unpackedSize += chunk.length;
      }
    }).catch((err: unknown) => {
      throw invalidArgument(
        `archive: layer ${path.basename(file)}: ${compression} data is corrupt: ${(err as Error).message}`,
        err,
      );
    });
  } else {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      blobHash.update(chunk);
      size += chunk.length;
    }
  }
  const digest = `sha256:${blobHash.digest('hex')}`;
  return {
    digest,
    size,
    diffId: diffHash ? `sha256:${diffHash.digest('hex')}` : digest,
    unpackedSize: diffHash ? unpackedSize : size,
    compression,
  };
}

// ---------------------------------------------------------------------------------------------------
// oci-archive

interface OciDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
}

async function planOciArchive(dir: ExtractedArchive): Promise<LoadPlan> {
  const layout = (await readArchiveJson(dir, 'oci-layout')) as { imageLayoutVersion?: unknown };
  if (typeof layout?.imageLayoutVersion !== 'string')
    throw invalidArgument('archive: oci-layout has no imageLayoutVersion');
  const index = (await readArchiveJson(dir, 'index.json')) as { manifests?: unknown };
  if (!Array.isArray(index?.manifests)) throw invalidArgument('archive: index.json has no manifests array');
  const blobs = new Map<Digest, PlannedBlob>();
  const images: PlannedImage[] = [];
  for (const [i, raw] of index.manifests.entries()) {
    const what = `archive: index.json manifests[${i}]`;
    const desc = checkDescriptor(raw, what);
    const id = await planOciManifest(dir, desc, blobs, what, 0);
    const name = desc.annotations?.[CONTAINERD_IMAGE_NAME] ?? fullRefName(desc.annotations?.[OCI_REF_NAME]);
    images.push({
      digest: desc.digest,
      mediaType: desc.mediaType,
      id,
      names: name ? [normalizeName(name, what)] : [],
    });
  }
  return { blobs, images };
}

/** Plans a manifest (its config and layers) or an index (the entries the archive holds); returns the
 * config digest of the image (for an index, of its first held manifest). */
async function planOciManifest(
  dir: ExtractedArchive,
  desc: OciDescriptor,
  blobs: Map<Digest, PlannedBlob>,
  what: string,
  depth: number,
): Promise<Digest> {
  const bytes = await planBlob(dir, desc, blobs, what);
  let json: { config?: unknown; layers?: unknown; manifests?: unknown };
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidArgument(`${what}: ${desc.digest} is not valid JSON`, err);
  }
  if (INDEX_TYPES.includes(desc.mediaType)) {
    if (depth > 0) throw invalidArgument(`${what}: nested indexes are not supported`);
    if (!Array.isArray(json.manifests))
      throw invalidArgument(`${what}: index ${desc.digest} has no manifests`);
    let first: Digest | undefined;
    for (const [i, raw] of json.manifests.entries()) {
      const child = checkDescriptor(raw, `${what} > manifests[${i}]`);
      // An index may list platforms the archive does not carry; putImage needs only the host's.
      if (!(await isFile(blobFile(dir, child.digest)))) continue;
      const id = await planOciManifest(dir, child, blobs, `${what} > manifests[${i}]`, depth + 1);
      first ??= id;
    }
    if (!first) throw invalidArgument(`${what}: index ${desc.digest} holds none of its manifests`);
    return first;
  }
  if (!MANIFEST_TYPES.includes(desc.mediaType))
    throw invalidArgument(`${what}: unknown media type \`${desc.mediaType}\``);
  const config = checkDescriptor(json.config, `${what} > config`);
  await planBlob(dir, config, blobs, `${what} > config`, false);
  if (!Array.isArray(json.layers))
    throw invalidArgument(`${what}: manifest ${desc.digest} has no layers array`);
  for (const [i, raw] of json.layers.entries()) {
    const layer = checkDescriptor(raw, `${what} > layers[${i}]`);
    await planBlob(dir, layer, blobs, `${what} > layers[${i}]`, false);
  }
  return config.digest;
}

function blobFile(dir: ExtractedArchive, digest: Digest): string {
  const [algorithm, hex] = digest.split(':');
  return dir.resolve(`blobs/${algorithm}/${hex}`);
}

/** Verifies a blob of the archive against its descriptor and plans it; returns its bytes when small. */
async function planBlob(
  dir: ExtractedArchive,
  desc: OciDescriptor,
  blobs: Map<Digest, PlannedBlob>,
  what: string,
  read = true,
): Promise<Buffer> {
  const file = blobFile(dir, desc.digest);
  const stat = await fs.lstat(file).catch(() => undefined);
  if (!stat?.isFile()) throw invalidArgument(`${what}: blob ${desc.digest} is missing from the archive`);
  if (stat.size !== desc.size)
    throw invalidArgument(
      `${what}: blob ${desc.digest} has ${stat.size} bytes, its descriptor says ${desc.size}`,
    );
  if (!blobs.has(desc.digest)) {
    const algorithm = desc.digest.split(':')[0]!;
    const hash = createHash(algorithm);
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== desc.digest) throw invalidArgument(`${what}: blob ${desc.digest} has digest ${actual}`);
    blobs.set(desc.digest, { digest: desc.digest, size: desc.size, file });
  }
  if (!read) return Buffer.alloc(0);
  if (desc.size > 4 * 2 ** 20) throw invalidArgument(`${what}: manifest ${desc.digest} is larger than 4 MiB`);
  return fs.readFile(file);
}

function checkDescriptor(raw: unknown, what: string): OciDescriptor {
  if (typeof raw !== 'object' || raw === null) throw invalidArgument(`${what} is not a descriptor`);
  const d = raw as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw invalidArgument(`${what}.mediaType is not a string`);
  if (typeof d.digest !== 'string' || !isDigest(d.digest))
    throw invalidArgument(`${what}.digest is not a digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw invalidArgument(`${what}.size is not a size`);
  const annotations = d.annotations as Record<string, string> | undefined;
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(annotations ? { annotations } : {}) };
}

/** A ref.name annotation names an image only when it is a whole reference; a bare tag (`latest`) is not. */
function fullRefName(name: string | undefined): string | undefined {
  if (name === undefined || !/[/:]/.test(name)) return undefined;
  return name;
}

function normalizeName(name: string, what: string): string {
  try {
    const ref = parseDockerRef(name);
    return formatReference(ref);
  } catch (err) {
    throw invalidArgument(`${what}: \`${name}\` is not an image reference`, err);
  }
}
