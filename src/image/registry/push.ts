/**
 * `push`: uploads a local image's config and layer blobs to the registry of its name, skipping each
 * blob the repository already has (HEAD first, as docker does), each other one monolithic or in
 * chunks (upload.ts), and then PUTs the manifest under the tag with its media type. A name that
 * points at an image index pushes every platform's blobs and manifest (by digest), then the index
 * under the tag; an index whose platforms are not all in the store is refused, naming them. The token
 * asked for carries `pull,push` on the repository.
 */
import { failedPrecondition, invalidArgument, SkiffError } from '../../common/index.ts';
import { type Digest, parseDigest } from '../digest.ts';
import {
  familiarString,
  formatReference,
  parseDockerRef,
  type Reference,
  referenceName,
} from '../reference.ts';
import {
  type Descriptor,
  formatPlatform,
  type Image,
  type ImageManifest,
  type ImageStore,
  parseManifest,
} from '../store/index.ts';
import { RegistryClient, RegistryError } from './client.ts';
import { credentialsFor } from './credentials.ts';
import { endpointFor } from './endpoint.ts';
import type { PullStatus } from './pull.ts';
import { uploadBlob } from './upload.ts';

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
  const topDigest = store.referenceDigest(formatReference(ref)) ?? image.manifestDigest;
  const top = await store.content.readBytes(topDigest);
  const parsed = parseManifest(top, topDigest);
  const children =
    parsed.kind === 'index'
      ? await indexChildren(store, familiarString(ref), topDigest, parsed.index.manifests)
      : [{ digest: topDigest, mediaType: parsed.manifest.mediaType, bytes: top, manifest: parsed.manifest }];
  const topType = parsed.kind === 'index' ? parsed.index.mediaType : parsed.manifest.mediaType;
  const from = mountSource(image, ref.domain, ref.path);
  const client = new RegistryClient(
    endpointFor(ref.domain),
    ref.path,
    await credentialsFor(ref.domain, options.dockerConfig),
    [`repository:${ref.path}:pull,push`, ...(from ? [`repository:${from}:pull`] : [])],
  );
  const layers = unique(children.flatMap((c) => c.manifest.layers));
  const configs = unique(children.map((c) => c.manifest.config));

  return store.withLease(
    [
      topDigest,
      ...children.map((c) => c.digest),
      ...configs.map((b) => b.digest),
      ...layers.map((l) => l.digest),
    ],
    async () => {
      for (const layer of layers) status({ id: shortId(layer.digest), status: 'Preparing' });
      // One at a time: the first request authenticates, and a registry sees layers in order.
      for (const layer of layers) {
        const id = shortId(layer.digest);
        const done = await pushBlob(client, store, layer, from);
        status({ id, status: done === 'mounted' ? `Mounted from ${from}` : done });
      }
      for (const config of configs) await pushBlob(client, store, config, from);
      // An index's manifests go first, by digest, so the index never names one the registry lacks.
      if (parsed.kind === 'index')
        for (const child of children)
          await putManifest(client, child.digest, child.mediaType, child.bytes, child.digest);
      await putManifest(client, tag, topType, top, topDigest);
      return { repository: referenceName(ref), tag, digest: topDigest, size: top.length };
    },
  );
}

interface ChildManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly manifest: ImageManifest;
}

/**
 * Every manifest of an index with its content, all of which must be in the store: an index whose
 * platform is missing here is not pushed (the registry would hold an index naming what it lacks).
 */
async function indexChildren(
  store: ImageStore,
  name: string,
  indexDigest: Digest,
  entries: readonly Descriptor[],
): Promise<ChildManifest[]> {
  const children: ChildManifest[] = [];
  const missing: string[] = [];
  for (const entry of entries) {
    const platform = entry.platform ? formatPlatform(entry.platform) : 'unknown platform';
    const absent = async (digest: Digest) => !(await store.content.exists(digest));
    if (await absent(entry.digest)) {
      missing.push(`${platform} (manifest ${entry.digest})`);
      continue;
    }
    const bytes = await store.content.readBytes(entry.digest);
    const inner = parseManifest(bytes, entry.digest, entry.mediaType);
    if (inner.kind !== 'manifest')
      throw invalidArgument(
        `${name}: index ${indexDigest} nests another index; pushing nested indexes is not supported`,
      );
    const lacking: Digest[] = [];
    for (const blob of [inner.manifest.config, ...inner.manifest.layers])
      if (await absent(blob.digest)) lacking.push(blob.digest);
    if (lacking.length > 0) missing.push(`${platform} (blob ${lacking.join(', ')})`);
    else children.push({ digest: entry.digest, mediaType: entry.mediaType, bytes, manifest: inner.manifest });
  }
  if (missing.length > 0)
    throw failedPrecondition(
      `${name}: cannot push the image index ${indexDigest}: the content of ${missing.join('; ')} is not in the local store (pull or load the image with every platform, or tag and push one platform's image)`,
    );
  return children;
}

/** PUT manifests/<tag or digest>; the registry's digest must be ours. */
async function putManifest(
  client: RegistryClient,
  reference: string,
  mediaType: string,
  bytes: Buffer,
  digest: Digest,
): Promise<void> {
  const response = await client.request(
    'PUT',
    `${client.endpoint.base}/v2/${client.repository}/manifests/${reference}`,
    { headers: { 'content-type': mediaType }, body: () => bytes },
  );
  await response.body?.cancel();
  const said = response.headers.get('docker-content-digest');
  if (said && said !== digest)
    throw new SkiffError(
      'RuntimeFailure',
      `push of ${client.repository}:${reference}: the registry stored the manifest as ${said}, not ${digest}`,
    );
}

/** Descriptors without repeats (platforms share layers), in first-seen order. */
function unique(descriptors: readonly Descriptor[]): Descriptor[] {
  const seen = new Map<Digest, Descriptor>();
  for (const d of descriptors) if (!seen.has(d.digest)) seen.set(d.digest, d);
  return [...seen.values()];
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
  const done = await uploadBlob(client, blob, store.content.blobPath(blob.digest), from ? { from } : {});
  return done === 'mounted' ? 'mounted' : 'Pushed';
}

/** docker's layer ID in push output: 12 hex digits of the blob digest. */
function shortId(digest: Digest): string {
  return parseDigest(digest).encoded.slice(0, 12);
}

/** The closing line of a push as docker prints it. */
export function pushSummaryLine(result: PushResult): string {
  return `${result.tag}: digest: ${result.digest} size: ${result.size}\n`;
}
