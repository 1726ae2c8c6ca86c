/**
 * Resumable ingests: a blob download that outlives its connection, and its process.
 *
 *   <root>/ingest/<alg>-<hex>.<pid>-<n>.partial   the bytes received so far, in order, from byte 0
 *
 * The file is named by the digest it will become (so the next pull finds it) and by the process
 * writing it (so two writers never share one). A writer that finds a partial of a process that is
 * gone (or one of its own that no ingest holds any more) claims it with rename(2), which only one
 * claimant wins, and goes on from its end: the hash state is rebuilt by reading the bytes on disk.
 * At the end the whole is checked against the size and digest as any ingest, fsynced, made read-only
 * and linked under blobs/. A partial that nobody resumes is removed by pruneIngests (the store's gc)
 * once it has not been written to for the grace period.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, invalidArgument, syscallError } from '../../common/index.ts';
import { type Digest, newHash, parseDigest } from '../digest.ts';
import { commitFile } from './commit.ts';
import type { BlobInfo, ByteSource } from './store.ts';

export interface ResumableOptions {
  readonly digest: Digest;
  /** The exact size: a resumable ingest must know where it ends. */
  readonly size: number;
}

export interface ResumableIngest {
  readonly digest: Digest;
  readonly size: number;
  /** Bytes on disk (and hashed): where the next request starts (`Range: bytes=<offset>-`). */
  readonly offset: number;
  /** How many bytes were found on disk from an earlier try when this ingest was opened. */
  readonly resumedFrom: number;
  /** Appends source at offset. Refuses bytes past size; a source that fails midway keeps what came. */
  append(source: ByteSource): Promise<void>;
  /** Forgets every byte (a source that restarts from zero). */
  reset(): Promise<void>;
  /**
   * Checks size and digest, then makes the blob visible under its digest (InvalidArgument if not);
   * beforeLink, when given, is awaited after the checks and before the blob is visible, and its
   * rejection refuses the blob (a pull that unpacks the same bytes waits for the unpack's diffID).
   */
  commit(beforeLink?: () => Promise<void>): Promise<BlobInfo>;
  /** The bytes on disk so far, from byte 0 (what a consumer of the stream missed before a resume). */
  written(): AsyncIterable<Buffer>;
  /** Closes; keep leaves the partial for a later resume, else it is removed. */
  close(keep: boolean): Promise<void>;
}

const PARTIAL = /^(sha256|sha512)-([0-9a-f]+)\.(\d+)-\d+-\d+\.partial$/;
/** Partials this process has open, which no other ingest of it may claim. */
const active = new Set<string>();
let counter = 0;

export async function openResumable(root: string, options: ResumableOptions): Promise<ResumableIngest> {
  const { algorithm, encoded } = parseDigest(options.digest);
  const dir = path.join(root, 'ingest');
  await mkdir(dir, { recursive: true });
  const name = `${algorithm}-${encoded}.${process.pid}-${++counter}-${Date.now()}.partial`;
  const file = path.join(dir, name);
  active.add(name);
  try {
    const claimed = await claimPartial(dir, `${algorithm}-${encoded}.`, file);
    const handle = await open(file, claimed ? 'r+' : 'wx', 0o644).catch((err: unknown) => {
      throw syscallError('open', file, err);
    });
    const ingest = new Partial(file, handle, options, () => active.delete(name));
    if (claimed) await ingest.rehash();
    return ingest;
  } catch (err) {
    active.delete(name);
    throw err;
  }
}

/**
 * Renames the largest claimable partial of this blob to file; true when one was claimed. Smaller
 * claimable ones are removed (only one copy of a blob's prefix is worth keeping).
 */
async function claimPartial(dir: string, prefix: string, file: string): Promise<boolean> {
  const candidates: { name: string; size: number }[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const m = PARTIAL.exec(name);
    if (!m || !claimable(name, Number(m[3]))) continue;
    const info = await stat(path.join(dir, name)).catch(() => undefined);
    if (info) candidates.push({ name, size: info.size });
  }
  candidates.sort((a, b) => b.size - a.size);
  let claimed = false;
  for (const { name } of candidates) {
    const from = path.join(dir, name);
    if (claimed) {
      await rm(from, { force: true });
      continue;
    }
    try {
      await rename(from, file);
      claimed = true;
      // rename keeps the mtime: touch it, or a gc beside us could take it for abandoned.
      const now = new Date();
      await utimes(file, now, now);
    } catch (err) {
      if (!hasErrno(err, 'ENOENT')) throw syscallError('rename', from, err);
      // Another writer claimed it first: try the next one.
    }
  }
  return claimed;
}

/** Whether a partial may be taken over: its process is gone, or it is ours and not in use. */
function claimable(name: string, pid: number): boolean {
  if (pid === process.pid) return !active.has(name);
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return hasErrno(err, 'ESRCH');
  }
}

class Partial implements ResumableIngest {
  readonly digest: Digest;
  readonly size: number;
  offset = 0;
  resumedFrom = 0;
  private hash;
  private readonly file: string;
  private handle: FileHandle | undefined;
  private readonly release: () => void;

  constructor(file: string, handle: FileHandle, options: ResumableOptions, release: () => void) {
    this.file = file;
    this.handle = handle;
    this.digest = options.digest;
    this.size = options.size;
    this.release = release;
    this.hash = newHash(parseDigest(options.digest).algorithm);
  }

  /** Rebuilds the hash from the bytes on disk (a partial longer than the blob is dropped). */
  async rehash(): Promise<void> {
    const { size } = await this.open().stat();
    if (size > this.size) {
      await this.reset();
      return;
    }
    if (size > 0)
      for await (const chunk of createReadStream(this.file, {
        start: 0,
        end: size - 1,
      }) as AsyncIterable<Buffer>)
        this.hash.update(chunk);
    this.offset = size;
    this.resumedFrom = size;
  }

  async append(source: ByteSource): Promise<void> {
    const handle = this.open();
    for await (const chunk of source as AsyncIterable<Uint8Array>) {
      if (this.offset + chunk.length > this.size)
        throw invalidArgument(`blob ${this.digest}: more than the expected ${this.size} bytes`);
      let done = 0;
      while (done < chunk.length) {
        const { bytesWritten } = await handle
          .write(chunk, done, chunk.length - done, this.offset + done)
          .catch((err: unknown) => {
            throw syscallError('write', this.file, err);
          });
        done += bytesWritten;
      }
      // Hashed once on disk, so offset and hash always describe the same bytes.
      this.hash.update(chunk);
      this.offset += chunk.length;
    }
  }

  async reset(): Promise<void> {
    await this.open()
      .truncate(0)
      .catch((err: unknown) => {
        throw syscallError('truncate', this.file, err);
      });
    this.hash = newHash(parseDigest(this.digest).algorithm);
    this.offset = 0;
  }

  async *written(): AsyncIterable<Buffer> {
    if (this.offset === 0) return;
    for await (const chunk of createReadStream(this.file, { start: 0, end: this.offset - 1 }))
      yield chunk as Buffer;
  }

  async commit(beforeLink?: () => Promise<void>): Promise<BlobInfo> {
    const handle = this.open();
    if (this.offset !== this.size)
      throw invalidArgument(
        `blob ${this.digest}: size ${this.offset} bytes, expected ${this.size} (truncated)`,
      );
    const actual = `${parseDigest(this.digest).algorithm}:${this.hash.digest('hex')}`;
    // A digest() ends the hash: a retry from zero needs a new one (reset makes it).
    this.hash = newHash(parseDigest(this.digest).algorithm);
    if (actual !== this.digest) throw invalidArgument(`blob ${this.digest}: content has digest ${actual}`);
    try {
      await handle.sync();
      await handle.chmod(0o444);
    } catch (err) {
      throw syscallError('sync', this.file, err);
    }
    await beforeLink?.();
    const { algorithm, encoded } = parseDigest(this.digest);
    const target = path.join(path.dirname(path.dirname(this.file)), 'blobs', algorithm, encoded);
    await mkdir(path.dirname(target), { recursive: true });
    await commitFile(this.file, target);
    return { digest: this.digest, size: this.size };
  }

  async close(keep: boolean): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    try {
      await handle?.close();
      if (!keep || this.offset === 0) await rm(this.file, { force: true });
    } finally {
      this.release();
    }
  }

  private open(): FileHandle {
    if (!this.handle) throw new Error(`ingest of ${this.digest} is closed`);
    return this.handle;
  }
}
