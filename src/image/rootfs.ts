import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { nativeTool, notFound, runtimeFailure, type SkiffError, syscallError } from '../common/index.ts';
import { importRootfs } from './archive/import.ts';
import { makeTempDir } from './archive/load.ts';
import { LayerStore } from './layers/index.ts';
import { createSnapshotter, type MountSpec, NativeSnapshotter, type Snapshotter } from './snapshot/index.ts';
import type { Image, ImageStore } from './store/index.ts';

export interface PrepareRootfsOptions {
  /** Default: a LayerStore of the image store's root. */
  layers?: LayerStore;
  /** Default: createSnapshotter() ($SKIFF_SNAPSHOTTER) under the image store's root. */
  snapshotter?: Snapshotter;
  /** A read-only view instead of a writable snapshot. */
  readonly?: boolean;
}

/**
 * A container's rootfs: resolves the image, unpacks its missing layers, and makes the snapshot `key`
 * over them. Returns the image and the mount specs (mountSnapshot performs them).
 */
export async function prepareRootfs(
  store: ImageStore,
  imageRef: string,
  key: string,
  options: PrepareRootfsOptions = {},
): Promise<{ image: Image; mounts: MountSpec[] }> {
  const image = store.resolve(imageRef);
  const layers = options.layers ?? new LayerStore(store);
  const snapshotter = options.snapshotter ?? createSnapshotter(undefined, store.root);
  const dirs = await layers.ensureLayers(image);
  const mounts = options.readonly ? await snapshotter.view(key, dirs) : await snapshotter.prepare(key, dirs);
  return { image, mounts };
}

/** What exportRootfs writes: an image's merged layers, or a directory (a mounted snapshot). */
export type ExportSource = { image: string } | { rootfs: string };

/**
 * `docker export`: the merged view as a tar stream. For an image its layers are merged by a temporary
 * copy snapshot (whiteouts applied); a container's mounted rootfs is given as a directory. The tar is
 * written by GNU tar (numeric owners, xattrs but overlay's trusted.* internals, sparse files).
 */
export async function exportRootfs(
  store: ImageStore,
  source: ExportSource,
  output: Writable | string,
): Promise<void> {
  if ('rootfs' in source) return tarDirectory(source.rootfs, output);
  const temp = await makeTempDir(store, 'export-');
  try {
    const image = store.resolve(source.image);
    const dirs = await new LayerStore(store).ensureLayers(image);
    const snapshots = new NativeSnapshotter(temp);
    await snapshots.prepare('export', dirs);
    await tarDirectory(snapshots.rootfsDir('export'), output);
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}

async function tarDirectory(dir: string, output: Writable | string): Promise<void> {
  const stat = await fs.lstat(dir).catch((err: unknown) => {
    throw syscallError('lstat', dir, err);
  });
  if (!stat.isDirectory()) throw notFound(`export: \`${dir}\` is not a directory`);
  const child = spawn(
    'tar',
    ['--numeric-owner', '--xattrs', '--xattrs-exclude=trusted.*', '--sparse', '-C', dir, '-cf', '-', '.'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(syscallError('spawn', 'tar', err)));
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(runtimeFailure(`export: tar of ${dir} failed (${code}): ${stderr.trim()}`)),
    );
  });
  const sink = typeof output === 'string' ? createWriteStream(output) : output;
  await Promise.all([pipeline(child.stdout, sink), exited]);
}

export const HELLO_WORLD = 'hello-world:latest';

/**
 * The built-in hello-world image (a fresh install runs something without a registry): one layer
 * holding /hello (native/build/skiff-hello, static), Cmd ["/hello"]. Made when absent.
 */
export async function ensureHelloWorld(store: ImageStore): Promise<Image> {
  try {
    return store.resolve(HELLO_WORLD);
  } catch (err) {
    if ((err as SkiffError).kind !== 'NotFound') throw err;
  }
  const binary = await fs.readFile(nativeTool('skiff-hello', 'SKIFF_HELLO'));
  const layer = await helloLayer(binary);
  return importRootfs(store, Readable.from([layer]), {
    reference: HELLO_WORLD,
    changes: ['CMD ["/hello"]'],
    createdBy: 'skiff: built-in hello-world (native/tools/hello.c)',
  });
}

async function helloLayer(binary: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of pack as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  const epoch = new Date(0);
  pack.entry(
    { name: 'hello', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: epoch, size: binary.length },
    binary,
  );
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}
