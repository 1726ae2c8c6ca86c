/**
 * One layer of a pull: downloaded into the content store and, from the same bytes as they arrive,
 * unpacked into its layer directory (layers/<chain-id>), so that a pulled image runs without an unpack
 * step and the unpack overlaps the download instead of following it.
 *
 * The blob's bytes go through a BlobTap: the fetcher hands every byte it ingests to the tap, in order,
 * and the tap feeds image/layer's apply (decompress, tar, tree writer, diffID). The two verifications
 * gate each other so that a refused layer leaves nothing: the ingest commits the blob only after the
 * unpack verified the diffID (tap.end()), and the layer directory is renamed into place only after
 * the ingest verified the blob's digest (apply's beforeCommit). A layer directory holds only its own
 * layer's changes, so layers unpack in parallel and commit in any order.
 */
import { Transform } from 'node:stream';
import { SkiffError } from '../../common/index.ts';
import { type Digest, parseDigest } from '../digest.ts';
import { type ApplyResult, apply, StreamingApply, UnpackWorkers } from '../layer/index.ts';
import type { LayerStore } from '../layers/index.ts';
import type { Descriptor, ImageStore } from '../store/index.ts';
import type { PullStatus } from './pull.ts';

/**
 * Where a fetcher hands a blob's bytes while it ingests them. Contract: the blob's bytes in order,
 * from byte 0 — a fetcher that resumes a download (HTTP Range) continues where the tap stopped; one
 * that resumes a partial ingest file from an earlier run first writes that file's bytes; one that
 * goes back to byte 0 (a registry ignoring Range, a retry after a digest mismatch) calls restart()
 * first. end() comes after the content store verified the blob's digest and before it commits it
 * (ResumableIngest.commit's beforeLink); its rejection refuses the blob.
 */
export interface BlobTap {
  /**
   * Resolves when the consumer can take more. It never rejects: after an unpack failure the bytes
   * are dropped, so that the download still ends in the digest check (a corrupt download is reported
   * as such, not as the broken archive it makes); end() then rejects.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Forgets every byte written: the next write is byte 0 again (the unpack starts over). */
  restart(): Promise<void>;
  end(): Promise<void>;
}

/** The fetcher pull.ts provides: GET the blob into the content store, passing its bytes to tap. */
export type FetchBlob = (blob: Descriptor, tap?: BlobTap, onBytes?: (n: number) => void) => Promise<void>;

export interface PullLayer {
  readonly blob: Descriptor;
  readonly diffId: Digest;
  readonly chainId: Digest;
}

/** Least time between two progress statuses of one layer. */
const PROGRESS_INTERVAL_MS = 100;
/** Bytes the tap buffers ahead of the unpacker before the download waits. */
const TAP_BUFFER = 4 * 2 ** 20;

/** docker's layer ID in pull output: 12 hex digits of the blob digest. */
export function shortId(digest: Digest): string {
  return parseDigest(digest).encoded.slice(0, 12);
}

/** A layer's statuses with docker's progressDetail, progress figures at most 10 a second. */
class LayerStatus {
  private readonly id: string;
  private readonly emit: (s: PullStatus) => void;
  private last = 0;
  constructor(id: string, emit: (s: PullStatus) => void) {
    this.id = id;
    this.emit = emit;
  }
  state(status: string): void {
    this.emit({ id: this.id, status, progressDetail: {} });
  }
  progress(status: string, current: number, total: number): void {
    const now = Date.now();
    if (now - this.last < PROGRESS_INTERVAL_MS && current < total) return;
    this.last = now;
    this.emit({ id: this.id, status, progressDetail: { current, total } });
  }
}

/**
 * Every layer of an image into the stores, `concurrency` at once: docker's `Already exists` for the
 * layers present, `Pulling fs layer` for the others and `Waiting` for those queued behind the first
 * `concurrency`. The first failure rejects, after the layers under way have settled (and cleaned up).
 */
export async function pullLayers(
  store: ImageStore,
  layers: LayerStore,
  list: readonly PullLayer[],
  fetch: FetchBlob,
  emit: (s: PullStatus) => void,
  concurrency: number,
): Promise<void> {
  await layers.mkdirRoot();
  await layers.pruneStaleUnpacks();
  const todo: PullLayer[] = [];
  for (const layer of list) {
    const present = (await store.content.exists(layer.blob.digest)) && (await layers.has(layer.chainId));
    if (present) emit({ id: shortId(layer.blob.digest), status: 'Already exists', progressDetail: {} });
    else todo.push(layer);
  }
  for (const layer of todo)
    emit({ id: shortId(layer.blob.digest), status: 'Pulling fs layer', progressDetail: {} });
  todo.forEach((layer, i) => {
    if (i >= concurrency) emit({ id: shortId(layer.blob.digest), status: 'Waiting', progressDetail: {} });
  });
  const workers = new UnpackWorkers();
  const fresh = await Promise.all(todo.map(async (l) => !(await store.content.exists(l.blob.digest))));
  workers.prestart(Math.min(concurrency, fresh.filter(Boolean).length));
  try {
    await eachBounded(todo, concurrency, (layer) => pullLayer(store, layers, layer, fetch, emit, workers));
  } finally {
    workers.close();
  }
}

/** Runs fn over items, at most limit at once; the first failure rejects (after the others settle). */
async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * Makes sure the layer's blob is in the content store and its directory in the layer store, by the
 * cheapest way the store allows: nothing ("Already exists"), unpack of the local blob, download only,
 * or download and unpack at once.
 */
export async function pullLayer(
  store: ImageStore,
  layers: LayerStore,
  layer: PullLayer,
  fetch: FetchBlob,
  emit: (s: PullStatus) => void,
  workers: UnpackWorkers,
): Promise<void> {
  const status = new LayerStatus(shortId(layer.blob.digest), emit);
  const haveBlob = await store.content.exists(layer.blob.digest);
  const haveDir = await layers.has(layer.chainId);
  if (haveBlob && haveDir) return status.state('Already exists');
  if (haveBlob) {
    await unpackLocal(store, layers, layer, status);
    return status.state('Pull complete');
  }
  const downloaded = (n: number) => status.progress('Downloading', n, layer.blob.size);
  if (haveDir) {
    await fetch(layer.blob, undefined, downloaded);
    status.state('Verifying Checksum');
    status.state('Download complete');
    return status.state('Pull complete');
  }
  const unpack = new StreamingUnpack(store, layers, layer, workers);
  try {
    await fetch(layer.blob, unpack.tap, downloaded);
  } catch (err) {
    throw await unpack.abort(err);
  }
  status.state('Verifying Checksum');
  status.state('Download complete');
  await unpack.finish((n) => status.progress('Extracting', n, layer.blob.size));
  status.state('Pull complete');
}

/** A layer whose blob is local already: unpacked from the content store. */
async function unpackLocal(
  store: ImageStore,
  layers: LayerStore,
  layer: PullLayer,
  status: LayerStatus,
): Promise<void> {
  const counter = new ByteCounter((n) => status.progress('Extracting', n, layer.blob.size));
  const source = await store.content.read(layer.blob.digest);
  source.on('error', (err) => counter.destroy(err));
  source.pipe(counter);
  try {
    const applied = await apply(counter, layer.blob.mediaType, layers.layerDir(layer.chainId), {
      expectedDiffId: layer.diffId,
    });
    store.recordLayerSize(layer.diffId, applied.size);
  } catch (err) {
    source.destroy();
    if (await alreadyUnpacked(err, layers, layer)) return;
    throw annotate(err, layer);
  }
}

/** Counts the bytes that pass (the unpacker's progress through the compressed blob). */
class ByteCounter extends Transform {
  private count = 0;
  private readonly onCount: (n: number) => void;
  constructor(onCount: (n: number) => void) {
    super();
    this.onCount = onCount;
  }
  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (err?: Error | null, data?: Buffer) => void,
  ) {
    this.count += chunk.length;
    this.onCount(this.count);
    done(null, chunk);
  }
}

/**
 * The unpack side of a download: a tap whose bytes go to apply() on a worker thread, which writes a
 * temporary directory beside the layer's and renames it into place only when the diffID matched and
 * the blob verified (commit()).
 */
class StreamingUnpack {
  readonly tap: BlobTap;
  private apply!: StreamingApply;
  private readonly layers: LayerStore;
  private readonly layer: PullLayer;
  private applied!: Promise<ApplyResult>;

  constructor(store: ImageStore, layers: LayerStore, layer: PullLayer, workers: UnpackWorkers) {
    this.layers = layers;
    this.layer = layer;
    const start = () => {
      this.apply = new StreamingApply(workers, layer.blob.mediaType, layers.layerDir(layer.chainId), {
        expectedDiffId: layer.diffId,
        maxQueued: TAP_BUFFER,
      });
      this.applied = this.apply.result.then((result) => {
        store.recordLayerSize(layer.diffId, result.size);
        return result;
      });
      this.applied.catch(() => {});
    };
    start();
    this.tap = {
      write: (chunk) => this.apply.write(chunk),
      restart: async () => {
        this.apply.abort(new Error('the download starts over'));
        await this.applied.catch(() => {});
        start();
      },
      end: async () => {
        this.apply.end();
        await this.apply.verified;
      },
    };
  }

  /** After the fetch committed the blob: lets the layer directory into place, reporting the unpack. */
  async finish(onCount: (n: number) => void): Promise<void> {
    this.apply.progress(onCount);
    this.apply.commit();
    try {
      await this.applied;
    } catch (err) {
      if (await alreadyUnpacked(err, this.layers, this.layer)) return;
      throw annotate(err, this.layer);
    }
  }

  /**
   * After the fetch failed: stops the unpack and waits until its temporary directory is gone. The
   * error to report is the fetch's (a digest mismatch explains a broken archive), unless the fetch
   * failed only because the unpack refused the layer (tap.end()).
   */
  async abort(err: unknown): Promise<unknown> {
    this.apply.abort(err);
    await this.applied.catch(() => {});
    const first = this.apply.error;
    const becauseOfUnpack = first !== undefined && (err === first || (err as Error).cause === first);
    return becauseOfUnpack ? annotate(first, this.layer) : err;
  }
}

/** Another unpacker of the same layer (a concurrent pull or run) won the rename: its copy serves. */
async function alreadyUnpacked(err: unknown, layers: LayerStore, layer: PullLayer): Promise<boolean> {
  return err instanceof SkiffError && err.kind === 'AlreadyExists' && (await layers.has(layer.chainId));
}

function annotate(err: unknown, layer: PullLayer): unknown {
  const what = `unpack layer ${layer.chainId} (blob ${layer.blob.digest})`;
  if (err instanceof Error && !err.message.startsWith(what)) err.message = `${what}: ${err.message}`;
  return err;
}
