/**
 * One blob from the registry into the content store, surviving cut connections: the bytes go into a
 * resumable ingest (content/resumable.ts), and when the connection breaks midway the download goes on
 * with `Range: bytes=<received>-` after a back-off. A 206 from there continues the file; a 200 (a
 * registry or storage service that ignores Range) starts it again from zero. A pull killed midway
 * leaves its partial file, which the next pull claims and resumes. Every byte is still checked
 * against the digest at the end; a mismatch after a resume is tried once more from zero (the kept
 * bytes may be what is wrong), a mismatch of a whole download is refused and nothing is kept.
 *
 * With a tap (a pull unpacking the layer as it arrives, pull-layer.ts), the tap sees the blob's bytes
 * in order from byte 0: a partial file from an earlier run is replayed to it first, and every time the
 * download goes back to zero the tap is told to restart.
 */
import { invalidArgument, SkiffError } from '../../common/index.ts';
import type { ResumableIngest } from '../content/index.ts';
import type { Descriptor, ImageStore } from '../store/index.ts';
import type { RegistryClient } from './client.ts';
import type { BlobTap } from './pull-layer.ts';
import { backoffMs, isTransientNetworkError, sleep } from './retry.ts';

/** Most tries of one blob in all, so a registry that cuts every response cannot keep a pull forever. */
const MAX_TRIES = 100;

export interface DownloadOptions {
  /** Bytes received so far (resumed bytes included), after each chunk. */
  readonly onProgress?: (received: number, size: number) => void;
  /** Gets every byte in order; the blob is committed only once tap.end() resolved. */
  readonly tap?: BlobTap;
}

/** GET blobs/<digest> into the store (verified), resuming a partial download when there is one. */
export async function downloadBlob(
  client: RegistryClient,
  store: ImageStore,
  blob: Descriptor,
  options: DownloadOptions = {},
): Promise<void> {
  const ingest = await store.content.openResumable({ digest: blob.digest, size: blob.size });
  let keep = false;
  const tap = options.tap;
  try {
    let fromZero = ingest.offset === 0;
    if (tap) for await (const chunk of ingest.written()) await tap.write(chunk);
    for (;;) {
      keep = true;
      await fill(client, ingest, options);
      try {
        await ingest.commit(tap ? () => tap.end() : undefined);
        keep = false; // committed: the partial's name goes, the blob stays
        return;
      } catch (err) {
        keep = false;
        if (fromZero || !(err instanceof SkiffError && err.kind === 'InvalidArgument')) throw err;
        await ingest.reset();
        await tap?.restart();
        fromZero = true;
      }
    }
  } catch (err) {
    // A digest or size refused: those bytes are worth nothing. Anything else: keep them for a resume.
    if (err instanceof SkiffError && err.kind === 'InvalidArgument') keep = false;
    throw err;
  } finally {
    await ingest.close(keep);
  }
}

/** Requests the rest of the blob until the ingest holds all of it, resuming after each cut. */
async function fill(
  client: RegistryClient,
  ingest: ResumableIngest,
  options: DownloadOptions,
): Promise<void> {
  const policy = client.retrier.policy;
  let failures = 0;
  for (let tries = 1; ingest.offset < ingest.size; tries++) {
    const before = ingest.offset;
    options.onProgress?.(before, ingest.size);
    // Errors of the request itself were retried by the client already.
    const response = await client.get(
      `blobs/${ingest.digest}`,
      before > 0 ? { range: `bytes=${before}-` } : {},
    );
    if (!response.body) throw invalidArgument(`blob ${ingest.digest}: the registry sent no body`);
    let cut: unknown;
    const answer = before > 0 ? rangeAnswer(response, before) : 'whole';
    if (answer === 'whole') {
      await ingest.reset();
      if (before > 0) await options.tap?.restart();
    }
    if (answer === 'other') {
      // A part we did not ask for: drop it and ask for the whole blob next time.
      await response.body.cancel().catch(() => {});
      await ingest.reset();
      await options.tap?.restart();
      cut = new Error(`Content-Range ${response.headers.get('content-range')} for Range bytes=${before}-`);
    } else
      try {
        await ingest.append(progress(response.body as AsyncIterable<Uint8Array>, ingest, options));
      } catch (err) {
        await response.body.cancel().catch(() => {});
        if (!isTransientNetworkError(err)) throw err;
        cut = err;
      }
    if (ingest.offset >= ingest.size) return;
    // Cut midway (or a body that just ended short): back off, then ask for the rest.
    failures = ingest.offset > before ? 1 : failures + 1;
    if (failures >= policy.attempts || tries >= MAX_TRIES)
      throw new SkiffError(
        'Unavailable',
        `registry ${client.endpoint.domain}: download of blob ${ingest.digest} broke off at ${ingest.offset} of ${ingest.size} bytes${cut ? ` (${describe(cut)})` : ''}; gave up after ${tries} attempts (the bytes received are kept, and the next pull resumes)`,
        { cause: cut },
      );
    await sleep(backoffMs(policy, failures));
  }
}

/**
 * What a response to `Range: bytes=<offset>-` holds: the rest (206 from offset), the whole blob (any
 * 200: a registry or storage service that ignores Range), or another part.
 */
function rangeAnswer(response: Response, offset: number): 'rest' | 'whole' | 'other' {
  if (response.status !== 206) return 'whole';
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  return range && Number(range[1]) === offset ? 'rest' : 'other';
}

async function* progress(
  body: AsyncIterable<Uint8Array>,
  ingest: ResumableIngest,
  options: DownloadOptions,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    yield chunk;
    // Resumed here once the ingest has written the chunk: the tap gets exactly the bytes on disk.
    await options.tap?.write(chunk);
    options.onProgress?.(ingest.offset, ingest.size);
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
