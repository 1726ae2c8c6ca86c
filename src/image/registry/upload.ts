/**
 * A blob's upload session (distribution's protocol): POST blobs/uploads/ opens it (with mount=&from=
 * the registry may instead take the blob from another repository: 201), then either one monolithic
 * PUT <location>?digest= with the bytes (small blobs), or PATCHes of chunks with Content-Range and
 * Content-Length, each answered with the next Location and the Range the registry holds, then an
 * empty PUT ?digest= (blobs from the chunk threshold up, or whenever the registry announces a
 * minimum chunk length with OCI-Chunk-Min-Length).
 *
 * A chunk that fails (5xx, 429, a broken connection, 416) is not sent again blindly, since the
 * registry may have kept part of it: GET <location> asks where the upload stands (204 with Range:
 * 0-<last byte>) and the upload goes on from there. A session the registry no longer knows
 * (BLOB_UPLOAD_UNKNOWN, or BLOB_UPLOAD_INVALID: distribution 2.x cancels an upload whose state in the
 * Location is behind what it received, as after a chunk cut midway) is started again from a new
 * POST, a bounded number of times.
 *
 * Knobs: SKIFF_REGISTRY_CHUNK_THRESHOLD (bytes, default 32 MiB; blobs of at least this many bytes go
 * in chunks), SKIFF_REGISTRY_CHUNK_SIZE (bytes, default 16 MiB).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { invalidArgument, SkiffError } from '../../common/index.ts';
import type { Descriptor } from '../store/index.ts';
import { type RegistryClient, RegistryError } from './client.ts';
import { backoffMs, isTransientNetworkError, retryableStatus, sleep } from './retry.ts';

export interface UploadOptions {
  /** A repository of the same registry to mount the blob from. */
  readonly from?: string;
  /** Bytes the registry holds so far, after each chunk. */
  readonly onProgress?: (sent: number, size: number) => void;
}

/** Sessions started for one blob at most (the first included). */
const MAX_SESSIONS = 3;

export function chunkSettings(env: NodeJS.ProcessEnv = process.env): { threshold: number; size: number } {
  return {
    threshold: envBytes(env, 'SKIFF_REGISTRY_CHUNK_THRESHOLD', 32 * 2 ** 20),
    size: envBytes(env, 'SKIFF_REGISTRY_CHUNK_SIZE', 16 * 2 ** 20),
  };
}

function envBytes(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw invalidArgument(`${name}=${raw}: must be a number of bytes of at least 1`);
  return value;
}

/** Uploads the file's bytes as blob: 'mounted' when the registry took it from options.from. */
export async function uploadBlob(
  client: RegistryClient,
  blob: Descriptor,
  file: string,
  options: UploadOptions = {},
): Promise<'mounted' | 'pushed'> {
  for (let session = 1; ; session++) {
    try {
      return await uploadSession(client, blob, file, options);
    } catch (err) {
      if (session >= MAX_SESSIONS || !sessionLost(err)) throw err;
    }
  }
}

/** Whether the registry dropped the upload session (so a new one may work). */
function sessionLost(err: unknown): boolean {
  if (!(err instanceof RegistryError)) return false;
  const codes = err.errors.map((e) => e.code);
  return (
    codes.includes('BLOB_UPLOAD_UNKNOWN') ||
    codes.includes('BLOB_UPLOAD_INVALID') ||
    (err.status === 404 && codes.length === 0) ||
    err.status === 416
  );
}

async function uploadSession(
  client: RegistryClient,
  blob: Descriptor,
  file: string,
  options: UploadOptions,
): Promise<'mounted' | 'pushed'> {
  const base = `${client.endpoint.base}/v2/${client.repository}`;
  const { from } = options;
  // With mount=&from=, 201 is a blob mounted; 202 an upload session as without them.
  const query = from ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}` : '';
  const started = await client.request('POST', `${base}/blobs/uploads/${query}`);
  await started.body?.cancel();
  if (from && started.status === 201) return 'mounted';
  let location = nextLocation(client, started, undefined);
  const settings = chunkSettings();
  const minChunk = Number(started.headers.get('oci-chunk-min-length') ?? 0) || 0;
  if (blob.size >= settings.threshold || minChunk > 0) {
    const chunk = Math.max(settings.size, minChunk);
    location = await sendChunks(client, blob, file, location, chunk, options);
    await finish(client, blob, location, {});
  } else {
    await finish(client, blob, location, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
      body: () => fileStream(file, 0, blob.size),
    });
  }
  options.onProgress?.(blob.size, blob.size);
  return 'pushed';
}

/** PUT <location>?digest= (with the bytes, or empty after chunks). */
async function finish(
  client: RegistryClient,
  blob: Descriptor,
  location: URL,
  init: { headers?: Record<string, string>; body?: () => ReadableStream<Uint8Array> },
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', blob.digest);
  const done = await client.request('PUT', url.toString(), {
    headers: init.headers ?? { 'content-length': '0' },
    ...(init.body ? { body: init.body } : {}),
  });
  await done.body?.cancel();
}

/** PATCHes the file in chunks from where the registry stands; returns the last Location. */
async function sendChunks(
  client: RegistryClient,
  blob: Descriptor,
  file: string,
  start: URL,
  chunk: number,
  options: UploadOptions,
): Promise<URL> {
  const policy = client.retrier.policy;
  let location = start;
  let offset = 0;
  let failures = 0;
  while (offset < blob.size) {
    const end = Math.min(offset + chunk, blob.size) - 1;
    try {
      const response = await client.request('PATCH', location.toString(), {
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${end}`,
          'content-length': String(end - offset + 1),
        },
        body: () => fileStream(file, offset, end + 1),
      });
      await response.body?.cancel();
      location = nextLocation(client, response, location);
      // After a chunk the registry holds at least one byte, so `0-0` is one here.
      const last = lastHeld(response);
      offset = last !== undefined ? last + 1 : end + 1;
      failures = 0;
      options.onProgress?.(offset, blob.size);
    } catch (err) {
      if (!chunkFailed(err) || ++failures >= policy.attempts) throw err;
      await sleep(backoffMs(policy, failures));
      // Where does the upload stand? (A lost session throws, and uploadBlob starts a new one.)
      const status = await client.request('GET', location.toString());
      await status.body?.cancel();
      location = nextLocation(client, status, location);
      const last = lastHeld(status);
      offset = last !== undefined && last > 0 ? last + 1 : 0;
    }
  }
  return location;
}

/** A chunk worth asking the upload's status about: a server error, 408/429, 416, or a broken connection. */
function chunkFailed(err: unknown): boolean {
  if (err instanceof RegistryError) return retryableStatus(err.status) || err.status === 416;
  return err instanceof SkiffError && err.kind === 'Unavailable' && isTransientNetworkError(err);
}

/**
 * The last byte the registry holds, from its `Range: 0-<last>`. Distribution writes `0-0` for an
 * empty upload too; a status query reads it as empty (a registry that held one byte refuses it again
 * with a 416, and the upload starts a new session).
 */
function lastHeld(response: Response): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The Location of the next request of the session (relative to the registry), or the current one. */
function nextLocation(client: RegistryClient, response: Response, current: URL | undefined): URL {
  const location = response.headers.get('location');
  if (location) return new URL(location, client.endpoint.base);
  if (current) return current;
  throw new SkiffError('RuntimeFailure', `${client.endpoint.domain}: blob upload started without a Location`);
}

/** Bytes [start, end) of file as a web stream (a new one per send: a retried request reads again). */
function fileStream(file: string, start: number, end: number): ReadableStream<Uint8Array> {
  if (end <= start) return new ReadableStream({ start: (c) => c.close() });
  return Readable.toWeb(createReadStream(file, { start, end: end - 1 })) as ReadableStream<Uint8Array>;
}
