/**
 * apply() on a worker thread, fed chunk by chunk: what a pull uses to unpack a layer while it
 * downloads. Decompression, tar parsing, the diffID hash and the tree writer's synchronous syscalls
 * (thousands of file creations, the bulk of an unpack) run beside the main thread, which keeps
 * downloading and ingesting; several layers unpack on several cores. The same guarantees as apply():
 * a temporary directory beside targetDir, renamed into place only after the diffID matched and the
 * caller said commit(); on a failure or abort() nothing is left.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorKind, SkiffError } from '../../common/index.ts';
import type { ApplyResult } from './apply.ts';

export interface StreamingApplyOptions {
  readonly expectedDiffId?: string;
  /** Most bytes written and not yet consumed by the unpacker before write() waits (default 4 MiB). */
  readonly maxQueued?: number;
}

/** Bytes sent to the worker at once: few messages, and large inputs for the decompressor. */
const BATCH = 512 * 1024;

/** The worker's file: beside this module from the sources, beside the bundle in dist/. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL('./unpack-worker.ts', here)
    : new URL('./skiff-unpack-worker.cjs', here);
}

/**
 * Unpack workers, reused from layer to layer (starting one costs a new V8 isolate); close() ends
 * them.
 */
export class UnpackWorkers {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();

  /** Starts workers ahead of their first layer (a worker takes a while to boot: a new V8 isolate). */
  prestart(count: number): void {
    while (this.all.size < count) this.idle.push(this.spawn());
  }

  /** An idle worker, or a new one. */
  take(): Worker {
    return this.idle.pop() ?? this.spawn();
  }

  /** A new worker; one that dies while idle leaves the pool (a job's own listeners report the rest). */
  private spawn(): Worker {
    const worker = new Worker(workerUrl());
    this.all.add(worker);
    worker.on('error', () => {});
    worker.once('exit', () => {
      this.all.delete(worker);
      const i = this.idle.indexOf(worker);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return worker;
  }

  /** A worker back after its layer settled; a failed worker (crashed) is dropped. */
  give(worker: Worker, healthy: boolean): void {
    if (healthy) this.idle.push(worker);
    else {
      this.all.delete(worker);
      void worker.terminate();
    }
  }

  close(): void {
    for (const worker of this.all) worker.postMessage({ type: 'exit' });
    this.all.clear();
    this.idle.length = 0;
  }
}

export class StreamingApply {
  /** Settles when the archive was read whole and its diffID matched (the rename waits for commit()). */
  readonly verified: Promise<void>;
  /** Settles when the layer is in place, or failed and its temporary directory is gone. */
  readonly result: Promise<ApplyResult>;
  /** Compressed bytes the unpacker has taken so far. */
  consumed = 0;
  private written = 0;
  private readonly maxQueued: number;
  private readonly worker: Worker;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private onConsumed: (n: number) => void = () => {};
  private batch: Uint8Array<ArrayBuffer> | undefined;
  private batched = 0;
  /** Once the worker is back in the pool it may serve another layer: nothing more is sent to it. */
  private released = false;

  constructor(
    workers: UnpackWorkers,
    mediaType: string,
    targetDir: string,
    options: StreamingApplyOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? 4 * 2 ** 20;
    const worker = workers.take();
    this.worker = worker;
    let verified!: { resolve: () => void; reject: (err: Error) => void };
    this.verified = new Promise<void>((resolve, reject) => {
      verified = { resolve, reject };
    });
    this.verified.catch(() => {});
    let settled = false;
    this.result = new Promise<ApplyResult>((resolve, reject) => {
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        this.failure = err;
        verified.reject(err);
        this.wake?.();
        reject(err);
      };
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'ack') {
          this.consumed = m.bytes;
          this.onConsumed(m.bytes);
          if (this.written - this.consumed <= this.maxQueued) this.wake?.();
        } else if (m.type === 'verified') verified.resolve();
        else if (m.type === 'done') {
          release(true);
          settled = true;
          resolve(m.result);
        } else if (m.type === 'failed') {
          release(true);
          fail(fromWorker(m.error));
        }
      };
      const onError = (err: Error) => {
        release(false);
        fail(err);
      };
      const onExit = (code: number) => {
        release(false);
        fail(new SkiffError('RuntimeFailure', `layer unpack worker exited with ${code}`));
      };
      const release = (healthy: boolean) => {
        this.released = true;
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        workers.give(worker, healthy);
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    worker.postMessage({ type: 'start', mediaType, targetDir, expectedDiffId: options.expectedDiffId });
    this.result.catch(() => {});
  }

  /**
   * Hands a chunk over (copied: the caller's buffer goes on to the content store), in batches of
   * BATCH bytes, whose memory moves to the worker; resolves when the unpacker's queue is below the
   * bound (or it failed).
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure || this.released) return;
    let offset = 0;
    while (offset < chunk.length) {
      this.batch ??= new Uint8Array(BATCH);
      const n = Math.min(chunk.length - offset, BATCH - this.batched);
      this.batch.set(chunk.subarray(offset, offset + n), this.batched);
      this.batched += n;
      offset += n;
      if (this.batched === BATCH) this.flush();
    }
    while (!this.failure && this.written - this.consumed > this.maxQueued)
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    this.wake = undefined;
  }

  end(): void {
    if (!this.failure && !this.released) this.flush();
    this.send({ type: 'end' });
  }

  private flush(): void {
    if (!this.batch || this.batched === 0) return;
    const data = this.batched === BATCH ? this.batch : this.batch.slice(0, this.batched);
    this.worker.postMessage({ type: 'chunk', data }, [data.buffer]);
    this.written += this.batched;
    this.batch = undefined;
    this.batched = 0;
  }

  /** Reports the unpacker's progress (compressed bytes consumed) from now on. */
  progress(onConsumed: (n: number) => void): void {
    this.onConsumed = onConsumed;
  }

  /** Lets the verified layer into place. */
  commit(): void {
    this.send({ type: 'commit' });
  }

  /** Refuses the layer: the worker removes its temporary directory and result rejects. */
  abort(err: unknown): void {
    this.send({ type: 'abort', message: err instanceof Error ? err.message : String(err) });
  }

  private send(message: object): void {
    if (!this.released) this.worker.postMessage(message);
  }

  /** The first failure of the unpack, if any. */
  get error(): Error | undefined {
    return this.failure;
  }
}

type WorkerMessage =
  | { type: 'ack'; bytes: number }
  | { type: 'verified' }
  | { type: 'done'; result: ApplyResult }
  | { type: 'failed'; error: { kind?: string; message: string; code?: string } };

/** The worker's error as the same kind of SkiffError (its message names operation, object, errno). */
function fromWorker(error: { kind?: string; message: string }): Error {
  return new SkiffError((error.kind as ErrorKind | undefined) ?? 'RuntimeFailure', error.message);
}
