/**
 * The worker thread of applyInWorker (apply-worker.ts): one layer's apply() on bytes that arrive as
 * messages, so that the layers of a pull unpack on their own threads (decompression, tar parsing,
 * hashing and the tree writer's synchronous syscalls) beside the main thread's downloads.
 *
 * Messages in:  {type:'start', mediaType, targetDir, expectedDiffId} · {type:'chunk', data} ·
 *               {type:'end'} · {type:'commit'} · {type:'abort', message} · {type:'exit'}
 * Messages out: {type:'ack', bytes} (bytes consumed so far) · {type:'verified'} (diffID matched;
 *               waiting for commit or abort) · {type:'done', result} · {type:'failed', error}
 */
import { Transform, type TransformCallback } from 'node:stream';
import { type MessagePort, parentPort } from 'node:worker_threads';
import { apply } from './apply.ts';

interface Start {
  mediaType: string;
  targetDir: string;
  expectedDiffId?: string;
}

/** The layer's bytes on their way to apply(), acknowledged as the decompressor takes them. */
class AckingInput extends Transform {
  private consumed = 0;
  private readonly ack: (bytes: number) => void;
  constructor(ack: (bytes: number) => void) {
    super();
    this.ack = ack;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.consumed += chunk.length;
    this.ack(this.consumed);
    done(null, chunk);
  }
}

/** One layer at a time: the pool hands the worker its next layer once it reported the last one. */
function main(): void {
  const port = parentPort;
  if (!port) return;
  let job: Job | undefined;
  port.on('message', (m: Message) => {
    if (m.type === 'start')
      job = startJob(port, m, () => {
        job = undefined;
      });
    else if (m.type === 'exit') port.close();
    else job?.receive(m);
  });
}

type Message =
  | ({ type: 'start' } & Start)
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'end' }
  | { type: 'commit' }
  | { type: 'abort'; message: string }
  | { type: 'exit' };

interface Job {
  receive(m: Message): void;
}

function startJob(port: MessagePort, start: Start, finished: () => void): Job {
  const input = new AckingInput((bytes) => port.postMessage({ type: 'ack', bytes }));
  // apply()'s pipeline reports the input's errors; an abort may come before it is attached.
  input.on('error', () => {});
  let gate!: { resolve: () => void; reject: (err: Error) => void };
  const committed = new Promise<void>((resolve, reject) => {
    gate = { resolve, reject };
  });
  committed.catch(() => {});
  apply(input, start.mediaType, start.targetDir, {
    ...(start.expectedDiffId !== undefined ? { expectedDiffId: start.expectedDiffId } : {}),
    beforeCommit: async () => {
      port.postMessage({ type: 'verified' });
      await committed;
    },
  }).then(
    (result) => {
      finished();
      port.postMessage({ type: 'done', result });
    },
    (err: unknown) => {
      finished();
      const e = err as { kind?: string; message?: string };
      port.postMessage({ type: 'failed', error: { kind: e.kind, message: e.message ?? String(err) } });
    },
  );
  return {
    receive(m) {
      if (m.type === 'chunk') input.write(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      else if (m.type === 'end') input.end();
      else if (m.type === 'commit') gate.resolve();
      else if (m.type === 'abort') {
        const err = new Error(m.message);
        gate.reject(err);
        input.destroy(err);
      }
    },
  };
}

main();
