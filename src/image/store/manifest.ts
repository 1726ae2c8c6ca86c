/**
 * Manifests, indexes and image configs: parsed from their blobs and checked field by field (the parts
 * of the OCI schemas that skiff relies on), with errors that name the blob and the field:
 * `manifest sha256:ab…: layers[1].digest: unsupported digest algorithm`.
 */
import { invalidArgument, notImplemented, type SkiffError } from '../../common/index.ts';
import { type Digest, parseDigest } from '../digest.ts';
import { LAYER_MEDIA_TYPES } from '../layer/index.ts';
import { CONFIG_TYPES, INDEX_TYPES, MANIFEST_TYPES, MediaType } from './media-types.ts';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Record<string, string>;
}

export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Record<string, string>;
}

export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType: string;
  readonly manifests: readonly Descriptor[];
}

/** The parts of an image config (config.md) that the store reads; the rest is kept in the blob. */
export interface ImageConfig {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly created?: string;
  readonly rootfs: { readonly type: 'layers'; readonly diff_ids: readonly Digest[] };
  readonly config?: Record<string, unknown>;
  readonly history?: readonly Record<string, unknown>[];
}

export type ParsedManifest =
  | { readonly kind: 'manifest'; readonly manifest: ImageManifest }
  | { readonly kind: 'index'; readonly index: ImageIndex };

type Json = Record<string, unknown>;

/** Collects a blob's context so every error names it. */
class Checker {
  private readonly what: string;
  constructor(what: string) {
    this.what = what;
  }

  fail(field: string, message: string, cause?: unknown): SkiffError {
    return invalidArgument(`${this.what}: ${field ? `${field}: ` : ''}${message}`, cause);
  }

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw this.fail(field, 'must be an object');
    return value as Json;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') throw this.fail(field, 'must be a non-empty string');
    return value;
  }

  digest(value: unknown, field: string): Digest {
    const s = this.string(value, field);
    try {
      parseDigest(s);
    } catch (err) {
      throw this.fail(field, (err as Error).message, err);
    }
    return s;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) throw this.fail(field, 'must be an array');
    return value;
  }

  descriptor(value: unknown, field: string): Descriptor {
    const d = this.object(value, field);
    const size = d.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw this.fail(`${field}.size`, 'must be a non-negative integer');
    const out: { -readonly [K in keyof Descriptor]: Descriptor[K] } = {
      mediaType: this.mediaType(d.mediaType, `${field}.mediaType`),
      digest: this.digest(d.digest, `${field}.digest`),
      size,
    };
    if (d.platform !== undefined) out.platform = this.platform(d.platform, `${field}.platform`);
    if (d.annotations !== undefined)
      out.annotations = this.object(d.annotations, `${field}.annotations`) as never;
    return out;
  }

  mediaType(value: unknown, field: string): string {
    const s = this.string(value, field);
    if (!/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(s))
      throw this.fail(field, `\`${s}\` is not a media type`);
    return s;
  }

  platform(value: unknown, field: string): Platform {
    const p = this.object(value, field);
    const out: { -readonly [K in keyof Platform]: Platform[K] } = {
      os: this.string(p.os, `${field}.os`),
      architecture: this.string(p.architecture, `${field}.architecture`),
    };
    if (p.variant !== undefined) out.variant = this.string(p.variant, `${field}.variant`);
    return out;
  }

  schemaVersion(json: Json): void {
    if (json.schemaVersion !== 2)
      throw json.schemaVersion === 1
        ? notImplemented(`${this.what}: Docker image manifest schema 1 is deprecated and not supported`)
        : this.fail('schemaVersion', 'must be 2');
  }
}

function parseJson(bytes: Uint8Array, what: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalidArgument(`${what}: invalid JSON: ${(err as Error).message}`, err);
  }
  return new Checker(what).object(json, '');
}

/**
 * Parses a manifest or index blob. declaredType is the media type of the descriptor that pointed at it
 * (the registry's Content-Type, an index entry); when the blob says otherwise, it is refused.
 */
export function parseManifest(bytes: Uint8Array, digest: Digest, declaredType?: string): ParsedManifest {
  const what = `manifest ${digest}`;
  const json = parseJson(bytes, what);
  const check = new Checker(what);
  const own = json.mediaType === undefined ? undefined : check.mediaType(json.mediaType, 'mediaType');
  if (own !== undefined && declaredType !== undefined && own !== declaredType)
    throw check.fail('mediaType', `is ${own}, but it was referenced as ${declaredType}`);
  const type =
    own ?? declaredType ?? (json.manifests !== undefined ? MediaType.ociIndex : MediaType.ociManifest);
  if (type === MediaType.dockerSchema1 || type === MediaType.dockerSchema1Signed || json.schemaVersion === 1)
    check.schemaVersion({ schemaVersion: 1 });
  if (INDEX_TYPES.includes(type)) return { kind: 'index', index: checkIndex(json, type, check) };
  if (MANIFEST_TYPES.includes(type)) return { kind: 'manifest', manifest: checkManifest(json, type, check) };
  throw check.fail(
    'mediaType',
    `unsupported media type ${type} (expected an OCI or Docker v2 manifest or index)`,
  );
}

function checkManifest(json: Json, mediaType: string, check: Checker): ImageManifest {
  check.schemaVersion(json);
  const config = check.descriptor(json.config, 'config');
  if (!CONFIG_TYPES.includes(config.mediaType))
    throw check.fail('config.mediaType', `unsupported config media type ${config.mediaType}`);
  const layers = check
    .array(json.layers, 'layers')
    .map((layer, i) => check.descriptor(layer, `layers[${i}]`));
  layers.forEach((layer, i) => {
    if (!LAYER_MEDIA_TYPES.includes(layer.mediaType))
      throw check.fail(`layers[${i}].mediaType`, `unsupported layer media type ${layer.mediaType}`);
  });
  const out: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  if (json.annotations !== undefined)
    return { ...out, annotations: check.object(json.annotations, 'annotations') as Record<string, string> };
  return out;
}

function checkIndex(json: Json, mediaType: string, check: Checker): ImageIndex {
  check.schemaVersion(json);
  const manifests = check
    .array(json.manifests, 'manifests')
    .map((entry, i) => check.descriptor(entry, `manifests[${i}]`));
  return { schemaVersion: 2, mediaType, manifests };
}

/** Parses an image config and checks what the store needs: os, architecture, rootfs.diff_ids. */
export function parseConfig(bytes: Uint8Array, digest: Digest): ImageConfig {
  const what = `image config ${digest}`;
  const json = parseJson(bytes, what);
  const check = new Checker(what);
  check.string(json.os, 'os');
  check.string(json.architecture, 'architecture');
  if (json.variant !== undefined) check.string(json.variant, 'variant');
  const rootfs = check.object(json.rootfs, 'rootfs');
  if (rootfs.type !== 'layers') throw check.fail('rootfs.type', 'must be "layers"');
  check.array(rootfs.diff_ids, 'rootfs.diff_ids').forEach((d, i) => {
    check.digest(d, `rootfs.diff_ids[${i}]`);
  });
  if (json.config !== undefined && json.config !== null) check.object(json.config, 'config');
  if (json.created !== undefined) check.string(json.created, 'created');
  return json as unknown as ImageConfig;
}
