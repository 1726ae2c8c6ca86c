import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { Digest } from '../digest.ts';
import { digestOf } from '../digest.ts';
import { type Image, type ImageStore, MediaType } from '../store/index.ts';
import { applyChanges, type ContainerConfig } from './changes.ts';
import { openArchive } from './input.ts';
import { makeTempDir } from './load.ts';

export interface ImportOptions {
  /** The name to give the image (`name[:tag]`); none leaves it untagged, as `docker import` does. */
  reference?: string;
  /** Dockerfile-like instructions, as `docker import --change`. */
  changes?: readonly string[];
  /** The history entry's comment (`docker import --message`). */
  message?: string;
  /** Recorded as the history's created_by (default `skiff import`). */
  createdBy?: string;
}

/**
 * `docker import`: a rootfs tarball (gzip/zstd/plain, a stream or a path) becomes a single-layer
 * image. The layer is stored gzip-compressed; its diffID is the digest of the plain tar. The tar is
 * not unpacked here: ensureLayers() applies it (with every check of image/layer) when it is used.
 */
export async function importRootfs(
  store: ImageStore,
  input: Readable | string,
  options: ImportOptions = {},
): Promise<Image> {
  const temp = await makeTempDir(store, 'import-');
  try {
    const blobFile = path.join(temp, 'layer.tar.gz');
    const diffHash = createHash('sha256');
    const blobHash = createHash('sha256');
    let blobSize = 0;
    let tarSize = 0;
    await pipeline(
      openArchive(typeof input === 'string' ? createReadStream(input) : input),
      tap((chunk) => {
        diffHash.update(chunk);
        tarSize += chunk.length;
      }),
      zlib.createGzip(),
      tap((chunk) => {
        blobHash.update(chunk);
        blobSize += chunk.length;
      }),
      createWriteStream(blobFile),
    );
    const diffId: Digest = `sha256:${diffHash.digest('hex')}`;
    const layerDigest: Digest = `sha256:${blobHash.digest('hex')}`;
    const created = goTime(new Date());
    const containerConfig: ContainerConfig = applyChanges({}, options.changes ?? []);
    const { os, architecture, variant } = store.platform;
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture,
        ...(variant ? { variant } : {}),
        os,
        config: containerConfig,
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [
          {
            created,
            created_by: options.createdBy ?? 'skiff import',
            ...(options.message ? { comment: options.message } : {}),
          },
        ],
      }),
    );
    const configDigest = digestOf(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: blobSize },
        ],
      }),
    );
    const manifestDigest = digestOf(manifest);
    return await store.withLease([layerDigest, configDigest, manifestDigest], async () => {
      await store.content.ingest(createReadStream(blobFile), { digest: layerDigest, size: blobSize });
      await store.content.put(config, configDigest);
      await store.content.put(manifest, manifestDigest);
      store.recordLayerSize(diffId, tarSize);
      return store.putImage(manifestDigest, { names: options.reference ? [options.reference] : [] });
    });
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

function tap(fn: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      fn(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * A time as Go's RFC 3339 (nano) encoding writes it, trailing zeros of the fraction dropped
 * (`.870Z` → `.87Z`): Go tools (skopeo, podman) re-encode image configs, and a config they would
 * rewrite byte for byte keeps its digest.
 */
export function goTime(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}
