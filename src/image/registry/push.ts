/**
 * `push`: uploads a local image's config and layer blobs to the registry of its name, skipping each
 * blob the repository already has (HEAD first, as docker does), each other one in one monolithic
 * upload (POST blobs/uploads/, then PUT <location>?digest=), and then PUTs the manifest under the
 * tag with its media type. The token asked for carries `pull,push` on the repository.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { invalidArgument, SkiffError } from '../../common/index.ts';
import { type Digest, parseDigest } from '../digest.ts';
import {
  familiarString,
  formatReference,
  parseDockerRef,
  type Reference,
  referenceName,
} from '../reference.ts';
import { type Descriptor, type Image, type ImageStore, parseManifest } from '../store/index.ts';
import { RegistryClient, RegistryError } from './client.ts';
import { credentialsFor } from './credentials.ts';
import { endpointFor } from './endpoint.ts';
import type { PullStatus } from './pull.ts';

export interface PushOptions {
  readonly onStatus?: (status: PullStatus) => void;
  /** Path of the docker config file with `auths` (default $DOCKER_CONFIG or ~/.docker/config.json). */
  readonly dockerConfig?: string;
}

export interface PushResult {
  /** `127.0.0.1:5000/busybox` as docker names it in `The push refers to repository [...]`. */
  readonly repository: string;
  readonly tag: string;
  /** The manifest digest the registry stored it under. */
  readonly digest: Digest;
  /** Size of the manifest in bytes. */
  readonly size: number;
}

/** docker's first line of a push. */
export function pushHeaderLine(input: string): string {
  return `The push refers to repository [${referenceName(parseDockerRef(input))}]\n`;
}

export async function pushImage(
  store: ImageStore,
  input: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const ref = parseDockerRef(input);
  if (ref.digest !== undefined)
    throw invalidArgument(`cannot push a digest reference (${familiarString(ref)}): push a tag`);
  const tag = ref.tag!;
  const status = options.onStatus ?? (() => {});
  const image = store.resolve(formatReference(ref));
  const bytes = await store.content.readBytes(image.manifestDigest);
  const parsed = parseManifest(bytes, image.manifestDigest);
  if (parsed.kind !== 'manifest')
    throw invalidArgument(`${familiarString(ref)}: resolves to an index; pushing indexes is not supported`);
  const manifest = parsed.manifest;
  const from = mountSource(image, ref.domain, ref.path);
  const client = new RegistryClient(
    endpointFor(ref.domain),
    ref.path,
    await credentialsFor(ref.domain, options.dockerConfig),
    [`repository:${ref.path}:pull,push`, ...(from ? [`repository:${from}:pull`] : [])],
  );

  return store.withLease(
    [image.manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
    async () => {
      for (const layer of manifest.layers) status({ id: shortId(layer.digest), status: 'Preparing' });
      // One at a time: the first request authenticates, and a registry sees layers in order.
      for (const layer of manifest.layers) {
        const id = shortId(layer.digest);
        const done = await pushBlob(client, store, layer, from);
        status({ id, status: done === 'mounted' ? `Mounted from ${from}` : done });
      }
      await pushBlob(client, store, manifest.config, from);
      const response = await client.request(
        'PUT',
        `${client.endpoint.base}/v2/${ref.path}/manifests/${tag}`,
        {
          headers: { 'content-type': manifest.mediaType },
          body: () => bytes,
        },
      );
      await response.body?.cancel();
      const said = response.headers.get('docker-content-digest');
      if (said && said !== image.manifestDigest)
        throw new SkiffError(
          'RuntimeFailure',
          `push of ${familiarString(ref)}: the registry stored the manifest as ${said}, not ${image.manifestDigest}`,
        );
      return { repository: referenceName(ref), tag, digest: image.manifestDigest, size: bytes.length };
    },
  );
}

/**
 * Another repository of the same registry the image is known under (its other names), from which the
 * registry may mount blobs instead of receiving them again. Docker remembers where each blob came
 * from; the image's names are what this store knows.
 */
function mountSource(image: Image, domain: string, repository: string): string | undefined {
  for (const name of [...image.repoDigests, ...image.repoTags]) {
    let other: Reference;
    try {
      other = parseDockerRef(name);
    } catch {
      continue;
    }
    if (other.domain === domain && other.path !== repository) return other.path;
  }
  return undefined;
}

/**
 * Uploads one blob unless the repository has it: `Layer already exists`, `mounted` (the registry
 * took it from the repository from), or `Pushed`.
 */
async function pushBlob(
  client: RegistryClient,
  store: ImageStore,
  blob: Descriptor,
  from: string | undefined,
): Promise<'Layer already exists' | 'mounted' | 'Pushed'> {
  const base = `${client.endpoint.base}/v2/${client.repository}`;
  try {
    await client.request('HEAD', `${base}/blobs/${blob.digest}`);
    return 'Layer already exists';
  } catch (err) {
    if (!(err instanceof RegistryError && err.status === 404)) throw err;
  }
  // With mount=&from=, 201 is a blob mounted; 202 an upload session as without them.
  const query = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
  const started = await client.request('POST', `${base}/blobs/uploads/${query}`);
  await started.body?.cancel();
  if (from && started.status === 201) return 'mounted';
  const location = started.headers.get('location');
  if (!location)
    throw new SkiffError(
      'RuntimeFailure',
      `${client.endpoint.domain}: blob upload started without a Location`,
    );
  const url = new URL(location, client.endpoint.base);
  url.searchParams.set('digest', blob.digest);
  const file = store.content.blobPath(blob.digest);
  const done = await client.request('PUT', url.toString(), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body: () => Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
  });
  await done.body?.cancel();
  return 'Pushed';
}

/** docker's layer ID in push output: 12 hex digits of the blob digest. */
function shortId(digest: Digest): string {
  return parseDigest(digest).encoded.slice(0, 12);
}

/** The closing line of a push as docker prints it. */
export function pushSummaryLine(result: PushResult): string {
  return `${result.tag}: digest: ${result.digest} size: ${result.size}\n`;
}
