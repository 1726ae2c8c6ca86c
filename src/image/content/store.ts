/**
 * A content-addressed blob store laid out as an OCI image layout (image-layout.md):
 *
 *   <root>/oci-layout            {"imageLayoutVersion": "1.0.0"}
 *   <root>/blobs/<alg>/<hex>     one file per blob, read-only, named by its digest
 *   <root>/ingest/               temporary files of writes in progress (same file system as blobs/),
 *                                and partial downloads kept for a resume (resumable.ts)
 *
 * Writes go through an ingest, as containerd's: the bytes are written to a private temporary file,
 * hashed and counted on the way, fsynced, checked against the expected size and digest, and only then
 * linked into place. `link(2)` never replaces an existing name, so when several writers (threads of one
 * process or several processes) race on one blob, the first complete, verified copy wins and the
 * others drop theirs: a reader never sees a partial or unverified blob under a digest.
 */
import { mkdir, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  failedPrecondition,
  hasErrno,
  invalidArgument,
  notFound,
  SkiffError,
  syscallError,
} from '../../common/index.ts';
import { type Digest, type DigestAlgorithm, isDigest, newHash, parseDigest } from '../digest.ts';
import { commitFile } from './commit.ts';
import { openResumable, type ResumableIngest, type ResumableOptions } from './resumable.ts';

export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

export interface IngestOptions {
  /** The digest the content must have; the blob is refused otherwise. */
  readonly digest: Digest;
  /** The exact size in bytes, when known: more is refused as soon as it arrives, less at the end. */
  readonly size?: number;
  /** Without a size, the most bytes accepted (default 64 GiB) so a hostile source cannot fill the disk. */
  readonly maxSize?: number;
}

/** Anything that yields bytes: a Node stream, an async generator, an array of chunks. */
export type ByteSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const DEFAULT_MAX_SIZE = 64 * 2 ** 30;
const LAYOUT_FILE = 'oci-layout';
const LAYOUT_VERSION = '1.0.0';
const BLOB_MODE = 0o444;
let ingestCounter = 0;

export class ContentStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Creates blobs/, ingest/ and the oci-layout file (idempotent). */
  async init(): Promise<void> {
    await mkdir(path.join(this.root, 'blobs'), { recursive: true });
    await mkdir(this.ingestDir(), { recursive: true });
    const layout = path.join(this.root, LAYOUT_FILE);
    try {
      await writeFile(layout, `${JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })}\n`, { flag: 'wx' });
    } catch (err) {
      if (!hasErrno(err, 'EEXIST')) throw syscallError('create', layout, err);
    }
  }

  /** The file of a blob (whether it exists or not). Validates the digest, so no path escapes root. */
  blobPath(digest: Digest): string {
    const { algorithm, encoded } = parseDigest(digest);
    return path.join(this.root, 'blobs', algorithm, encoded);
  }

  private ingestDir(): string {
    return path.join(this.root, 'ingest');
  }

  /**
   * Writes a blob from source and verifies it. Returns when the blob is visible under its digest;
   * when it already was, the new bytes are still verified and then dropped.
   */
  async ingest(source: ByteSource, options: IngestOptions): Promise<BlobInfo> {
    const { algorithm } = parseDigest(options.digest);
    const target = this.blobPath(options.digest);
    await mkdir(path.dirname(target), { recursive: true });
    await mkdir(this.ingestDir(), { recursive: true });
    const tmp = path.join(this.ingestDir(), `${process.pid}-${++ingestCounter}-${Date.now()}`);
    try {
      const size = await writeVerified(tmp, source, algorithm, options);
      await commitFile(tmp, target);
      return { digest: options.digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * An ingest that keeps its bytes when its source fails, so a download can go on from where it was
   * cut (by this process, or the next after this one died): see resumable.ts.
   */
  async openResumable(options: ResumableOptions): Promise<ResumableIngest> {
    return openResumable(this.root, options);
  }

  /** Writes bytes held in memory (manifests, configs). */
  async put(data: Uint8Array | string, digest: Digest): Promise<BlobInfo> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return this.ingest([bytes], { digest, size: bytes.length });
  }

  async exists(digest: Digest): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return false;
      throw syscallError('stat', this.blobPath(digest), err);
    }
  }

  /** Size of a blob; NotFound when absent. */
  async stat(digest: Digest): Promise<BlobInfo> {
    const file = this.blobPath(digest);
    try {
      return { digest, size: (await stat(file)).size };
    } catch (err) {
      throw blobError('stat', digest, file, err);
    }
  }

  /** A stream of the blob's bytes; NotFound when absent (checked before the stream is returned). */
  async read(digest: Digest): Promise<Readable> {
    const file = this.blobPath(digest);
    const handle = await open(file, 'r').catch((err: unknown) => {
      throw blobError('open', digest, file, err);
    });
    return handle.createReadStream();
  }

  /** The whole blob in memory, refusing one larger than maxSize (manifests and configs are small). */
  async readBytes(digest: Digest, maxSize = 4 * 2 ** 20): Promise<Buffer> {
    const { size } = await this.stat(digest);
    if (size > maxSize)
      throw failedPrecondition(`blob ${digest}: ${size} bytes, more than the ${maxSize} allowed here`);
    const file = this.blobPath(digest);
    try {
      return await readFile(file);
    } catch (err) {
      throw blobError('read', digest, file, err);
    }
  }

  /** Removes a blob; false when it was not there. */
  async delete(digest: Digest): Promise<boolean> {
    const file = this.blobPath(digest);
    try {
      await unlink(file);
      return true;
    } catch (err) {
      if (hasErrno(err, 'ENOENT')) return false;
      throw syscallError('unlink', file, err);
    }
  }

  /**
   * Removes temporary files of ingests not written to for olderThanMs (writers that died), and
   * partial downloads nobody resumed within that time.
   */
  async pruneIngests(olderThanMs: number): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdirOrEmpty(this.ingestDir())) {
      const file = path.join(this.ingestDir(), name);
      const info = await stat(file).catch(() => undefined); // finished meanwhile: nothing to prune
      if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
      await rm(file, { force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Every blob in the store, by algorithm then digest; files not named as a digest are skipped. */
  async *walk(): AsyncGenerator<BlobInfo> {
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const dir = path.join(this.root, 'blobs', algorithm);
      for (const name of (await readdirOrEmpty(dir)).sort()) {
        const digest = `${algorithm}:${name}`;
        if (!isDigest(digest)) continue;
        const info = await this.stat(digest).catch((err: unknown) => {
          if (err instanceof SkiffError && err.kind === 'NotFound') return undefined; // deleted meanwhile
          throw err;
        });
        if (info) yield info;
      }
    }
  }

  async list(): Promise<BlobInfo[]> {
    const all: BlobInfo[] = [];
    for await (const info of this.walk()) all.push(info);
    return all;
  }
}

/** Streams source into a new file, hashing and counting; fsyncs; checks size and digest. */
async function writeVerified(
  tmp: string,
  source: ByteSource,
  algorithm: DigestAlgorithm,
  options: IngestOptions,
): Promise<number> {
  const limit = options.size ?? options.maxSize ?? DEFAULT_MAX_SIZE;
  const hash = newHash(algorithm);
  const handle = await open(tmp, 'wx', BLOB_MODE).catch((err: unknown) => {
    throw syscallError('create', tmp, err);
  });
  let total = 0;
  try {
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > limit)
        throw invalidArgument(
          `blob ${options.digest}: more than the ${options.size !== undefined ? 'expected' : 'allowed'} ${limit} bytes`,
        );
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (options.size !== undefined && total !== options.size)
    throw invalidArgument(
      `blob ${options.digest}: size ${total} bytes, expected ${options.size} (truncated)`,
    );
  const actual = `${algorithm}:${hash.digest('hex')}`;
  if (actual !== options.digest)
    throw invalidArgument(`blob ${options.digest}: content has digest ${actual}`);
  return total;
}

function blobError(operation: string, digest: Digest, file: string, err: unknown) {
  if (hasErrno(err, 'ENOENT')) return notFound(`blob ${digest} not found in the content store`, err);
  return syscallError(operation, file, err);
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return [];
    throw syscallError('readdir', dir, err);
  }
}
