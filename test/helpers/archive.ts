/** Image archives built in memory for the image tests: layers, configs, oci-archives, docker-archives. */
import { createHash } from 'node:crypto';
import { makeTar, type TarEntry } from './tar.ts';

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface TestImage {
  /** Uncompressed layer tars, bottom to top. */
  layers: Buffer[];
  config: Buffer;
  name?: string;
  /** The layers as stored (gzip); default the plain tars. */
  gzipLayers?: Buffer[];
}

/** An image config for these layers (amd64/arm64 as the host) with Cmd. */
export function configFor(layers: Buffer[], cmd: string[] = ['/bin/sh']): Buffer {
  const architecture = process.arch === 'arm64' ? 'arm64' : 'amd64';
  return Buffer.from(
    JSON.stringify({
      architecture,
      ...(architecture === 'arm64' ? { variant: 'v8' } : {}),
      os: 'linux',
      config: { Cmd: cmd },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
    }),
  );
}

/** A layer tar of files (name → content); directories are made for their parents. */
export async function layerOf(files: Record<string, string>): Promise<Buffer> {
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const name of Object.keys(files)) {
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) entries.push({ name: dir, type: 'directory' });
      dirs.add(dir);
    }
    entries.push({ name, content: files[name]! });
  }
  return makeTar(entries);
}

/** An oci-archive: blobs/sha256/*, oci-layout, index.json with ref.name annotations; the blobs
 * `omit` names are left out. */
export async function ociArchive(
  images: TestImage[],
  extra: TarEntry[] = [],
  omit: string[] = [],
): Promise<Buffer> {
  const blobs = new Map<string, Buffer>();
  const manifests = [];
  for (const image of images) {
    blobs.set(sha256(image.config), image.config);
    const stored = image.gzipLayers ?? image.layers;
    for (const l of stored) blobs.set(sha256(l), l);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(image.config),
          size: image.config.length,
        },
        layers: stored.map((l) => ({
          mediaType: `application/vnd.oci.image.layer.v1.tar${image.gzipLayers ? '+gzip' : ''}`,
          digest: sha256(l),
          size: l.length,
        })),
      }),
    );
    blobs.set(sha256(manifest), manifest);
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(manifest),
      size: manifest.length,
      ...(image.name ? { annotations: { 'org.opencontainers.image.ref.name': image.name } } : {}),
    });
  }
  return makeTar([
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests }) },
    ...[...blobs]
      .filter(([digest]) => !omit.includes(digest))
      .map(([digest, content]) => ({ name: `blobs/${digest.replace(':', '/')}`, content })),
    ...extra,
  ]);
}

/** A legacy docker-archive (`docker save` before 25): `<id>.json`, `<diffID>/layer.tar`, manifest.json. */
export async function dockerArchive(images: TestImage[], extra: TarEntry[] = []): Promise<Buffer> {
  const files = new Map<string, Buffer>();
  const manifest = [];
  for (const image of images) {
    const configName = `${sha256(image.config).slice(7)}.json`;
    files.set(configName, image.config);
    const layerNames = image.layers.map((l) => `${sha256(l).slice(7)}/layer.tar`);
    for (const [i, l] of image.layers.entries()) files.set(layerNames[i]!, l);
    manifest.push({ Config: configName, RepoTags: image.name ? [image.name] : null, Layers: layerNames });
  }
  return makeTar([
    ...[...files].map(([name, content]) => ({ name, content })),
    { name: 'manifest.json', content: JSON.stringify(manifest) },
    ...extra,
  ]);
}

/** One platform's image of a multi-platform index. */
export interface PlatformImage extends TestImage {
  platform: { os: string; architecture: string; variant?: string };
}

/**
 * An oci-archive whose index.json names one image index (ref.name `name`) over a manifest per
 * platform, as `docker buildx --platform a,b -o type=oci` writes. The manifests of the platforms in
 * `omitPlatforms` (architecture) are left out of the archive, with their blobs. Returns the archive
 * and the digests of the index and of each manifest.
 */
export async function ociIndexArchive(
  images: PlatformImage[],
  name: string,
  omitPlatforms: string[] = [],
): Promise<{ archive: Buffer; index: string; manifests: string[] }> {
  const blobs = new Map<string, Buffer>();
  const entries = [];
  for (const image of images) {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(image.config),
          size: image.config.length,
        },
        layers: image.layers.map((l) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: sha256(l),
          size: l.length,
        })),
      }),
    );
    entries.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256(manifest),
      size: manifest.length,
      platform: image.platform,
    });
    if (omitPlatforms.includes(image.platform.architecture)) continue;
    blobs.set(sha256(image.config), image.config);
    for (const l of image.layers) blobs.set(sha256(l), l);
    blobs.set(sha256(manifest), manifest);
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: entries,
    }),
  );
  blobs.set(sha256(index), index);
  const archive = await makeTar([
    { name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' },
    {
      name: 'index.json',
      content: JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.index.v1+json',
            digest: sha256(index),
            size: index.length,
            annotations: { 'org.opencontainers.image.ref.name': name },
          },
        ],
      }),
    },
    ...[...blobs].map(([digest, content]) => ({ name: `blobs/${digest.replace(':', '/')}`, content })),
  ]);
  return { archive, index: sha256(index), manifests: entries.map((e) => e.digest) };
}
