/**
 * `pull`: resolves a reference at its registry, fetches the manifest (selecting this store's platform
 * from an index), then the config and layer blobs it lacks (three at a time), each verified against
 * its digest by the content store's ingest before it is visible. The manifests are committed only
 * after every blob is, and the image recorded last, all under a lease so no `rmi` or GC running
 * beside the pull deletes a blob in between. A refused blob leaves no image and no blob of its own.
 */
import { invalidArgument, SkiffError } from '../../common/index.ts';
import { type Digest, digestOf, parseDigest } from '../digest.ts';
import { LayerStore } from '../layers/index.ts';
import {
  familiarString,
  formatReference,
  parseDockerRef,
  type Reference,
  referenceName,
} from '../reference.ts';
import {
  chainIds,
  type Descriptor,
  type Image,
  type ImageManifest,
  type ImageStore,
  INDEX_TYPES,
  MANIFEST_TYPES,
  MediaType,
  parseConfig,
  parseManifest,
  selectManifest,
} from '../store/index.ts';
import { type RegistryClient, RegistryError } from './client.ts';
import { downloadBlob } from './download.ts';
import { type BlobTap, pullLayers } from './pull-layer.ts';
import { fromFirstSource } from './sources.ts';

/**
 * One status as docker's daemon reports it (its JSONMessage): `{id, status}` (id: a layer's short
 * digest); a layer's statuses carry progressDetail (empty, or the bytes done of total).
 */
export interface PullStatus {
  readonly id?: string;
  readonly status: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
}

export interface PullOptions {
  /** Called for each status change, in order. */
  readonly onStatus?: (status: PullStatus) => void;
  /** Path of the docker config file with `auths` (default $DOCKER_CONFIG or ~/.docker/config.json). */
  readonly dockerConfig?: string;
  /** Where the layers are unpacked as they download (default: the store's layers/ directory). */
  readonly layers?: LayerStore;
}

export interface PullResult {
  readonly image: Image;
  /** The digest of the manifest (or index) the reference resolved to. */
  readonly digest: Digest;
  /** The full reference pulled: `docker.io/library/busybox:latest`. */
  readonly reference: string;
  /** True when the name already pointed at this manifest (nothing was downloaded). */
  readonly upToDate: boolean;
}

const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.dockerManifest,
].join(', ');
const MAX_MANIFEST = 4 * 2 ** 20;
const CONCURRENCY = 3;

interface FetchedManifest {
  readonly digest: Digest;
  /** As the index or the registry's Content-Type declared it (undefined: the manifest says). */
  readonly mediaType: string | undefined;
  readonly bytes: Buffer;
}

export async function pullImage(
  store: ImageStore,
  input: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const ref = parseDockerRef(input);
  const status = options.onStatus ?? (() => {});
  status({ id: ref.digest ?? ref.tag, status: `Pulling from ${ref.path}` });

  // The configured mirrors first, then the registry: the first with the manifest serves the pull.
  const { client, value: top } = await fromFirstSource(ref, options.dockerConfig, (c) =>
    fetchManifest(c, ref, ref.digest ?? ref.tag!),
  );
  const parsed = parseManifest(top.bytes, top.digest, top.mediaType);
  const manifests = [top];
  let manifest: ImageManifest;
  if (parsed.kind === 'index') {
    const entry = selectManifest(
      parsed.index.manifests,
      store.platform,
      `${familiarString(ref)} (index ${top.digest})`,
    );
    const child = await fetchManifest(client, ref, entry.digest, entry);
    const inner = parseManifest(child.bytes, child.digest, child.mediaType);
    if (inner.kind !== 'manifest')
      throw invalidArgument(`${familiarString(ref)}: nested image indexes are not supported`);
    manifests.push(child);
    manifest = inner.manifest;
  } else manifest = parsed.manifest;

  const name = ref.digest !== undefined ? `${referenceName(ref)}@${ref.digest}` : formatReference(ref);
  const upToDate = alreadyPointsAt(store, ref, top.digest);
  const blobs = [manifest.config, ...manifest.layers];
  const image = await store.withLease(
    [...manifests.map((m) => m.digest), ...blobs.map((b) => b.digest)],
    async () => {
      await fetchBlob(client, store, manifest.config);
      // The config's diffIDs verify the layers as they unpack, and name their directories.
      const config = parseConfig(
        await store.content.readBytes(manifest.config.digest),
        manifest.config.digest,
      );
      if (config.rootfs.diff_ids.length !== manifest.layers.length)
        throw invalidArgument(
          `manifest ${manifests.at(-1)!.digest}: lists ${manifest.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`,
        );
      const chains = chainIds(config.rootfs.diff_ids);
      const layers = manifest.layers.map((blob, i) => ({
        blob,
        diffId: config.rootfs.diff_ids[i]!,
        chainId: chains[i]!,
      }));
      await pullLayers(
        store,
        options.layers ?? new LayerStore(store),
        layers,
        (blob, tap, onBytes) => fetchBlob(client, store, blob, tap, onBytes),
        (s) => {
          if (!(upToDate && s.status === 'Already exists')) status(s);
        },
        CONCURRENCY,
      );
      for (const m of manifests.slice().reverse()) await store.content.put(m.bytes, m.digest);
      return store.putImage(top.digest, {
        names: [name],
        ...(top.mediaType ? { mediaType: top.mediaType } : {}),
      });
    },
  );
  return { image, digest: top.digest, reference: name, upToDate };
}

/** Whether the store's name for ref already resolves through manifest digest. */
function alreadyPointsAt(store: ImageStore, ref: Reference, digest: Digest): boolean {
  try {
    const image = store.resolve(formatReference(ref));
    return image.repoDigests.includes(`${referenceName(ref)}@${digest}`);
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'NotFound') return false;
    throw err;
  }
}

/** GET manifests/<tag|digest>: the bytes, their digest (checked against a digest reference). */
async function fetchManifest(
  client: RegistryClient,
  ref: Reference,
  tagOrDigest: string,
  descriptor?: Descriptor,
): Promise<FetchedManifest> {
  let response: Response;
  try {
    response = await client.get(`manifests/${tagOrDigest}`, { accept: MANIFEST_ACCEPT });
  } catch (err) {
    if (err instanceof RegistryError && err.status === 404)
      throw new SkiffError(
        'NotFound',
        `manifest for ${familiarString(ref)} not found: ${err.message.replace(/ \(GET [^)]*\)$/, '')}`,
        { cause: err },
      );
    throw err;
  }
  const bytes = await readLimited(response, MAX_MANIFEST, `manifest for ${familiarString(ref)}`);
  const expected = tagOrDigest.includes(':') ? tagOrDigest : undefined;
  const algorithm = expected ? parseDigest(expected).algorithm : 'sha256';
  const digest = digestOf(bytes, algorithm);
  if (expected !== undefined && digest !== expected)
    throw invalidArgument(
      `manifest for ${familiarString(ref)}: the registry sent content with digest ${digest}, not ${expected}`,
    );
  const said = response.headers.get('docker-content-digest');
  if (said && expected === undefined && said.startsWith('sha256:') && said !== digest)
    throw invalidArgument(
      `manifest for ${familiarString(ref)}: content has digest ${digest}, the registry says ${said}`,
    );
  if (descriptor && bytes.length !== descriptor.size)
    throw invalidArgument(
      `manifest ${descriptor.digest}: ${bytes.length} bytes, the index says ${descriptor.size}`,
    );
  // Some registries answer application/json; only a manifest type is a declaration worth checking.
  const header = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const known = [...MANIFEST_TYPES, ...INDEX_TYPES].includes(header) ? header : undefined;
  const mediaType = descriptor?.mediaType ?? known;
  return { digest, mediaType, bytes };
}

/** The whole body, refusing more than limit bytes as they arrive (a hostile registry's endless body). */
async function readLimited(response: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) {
      await response.body?.cancel().catch(() => {});
      throw invalidArgument(`${what}: more than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * GET blobs/<digest> into the content store (verified by its ingest), unless it is there already;
 * resumed with Range requests when the connection breaks (download.ts). With a tap, every byte goes
 * to it too, in order (BlobTap in pull-layer.ts), and the verified blob is committed only after
 * tap.end() resolved.
 */
async function fetchBlob(
  client: RegistryClient,
  store: ImageStore,
  blob: Descriptor,
  tap?: BlobTap,
  onBytes?: (n: number) => void,
): Promise<void> {
  if (await store.content.exists(blob.digest)) {
    // Committed meanwhile (a pull beside this one): the tap still needs the bytes.
    if (tap) {
      for await (const chunk of await store.content.read(blob.digest)) await tap.write(chunk as Buffer);
      await tap.end();
    }
    return;
  }
  try {
    await downloadBlob(client, store, blob, {
      ...(tap ? { tap } : {}),
      // The start of each try reports what it has (0 the first time): not a progress to show.
      ...(onBytes ? { onProgress: (received: number) => received > 0 && onBytes(received) } : {}),
    });
  } catch (err) {
    if (err instanceof SkiffError && err.kind === 'InvalidArgument')
      throw invalidArgument(
        `filesystem layer verification failed for digest ${blob.digest}: ${err.message}`,
        err,
      );
    throw err;
  }
}

/**
 * A status as docker prints it when its output is not a terminal: `ID: status` or `status`; progress
 * updates (Downloading, Extracting with their bytes) print nothing there.
 */
export function pullStatusLine(s: PullStatus): string {
  if ((s.progressDetail?.current ?? 0) > 0 || (s.progressDetail?.total ?? 0) > 0) return '';
  return s.id ? `${s.id}: ${s.status}\n` : `${s.status}\n`;
}

/** The closing lines of a pull as docker prints them (before the reference `docker pull` adds). */
export function pullSummaryLines(result: PullResult): string {
  const shown = familiarString(parseDockerRef(result.reference));
  const status = result.upToDate ? `Image is up to date for ${shown}` : `Downloaded newer image for ${shown}`;
  return `Digest: ${result.digest}\nStatus: ${status}\n`;
}
