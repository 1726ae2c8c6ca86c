import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import {
  alreadyExists,
  failedPrecondition,
  hasErrno,
  invalidArgument,
  runtimeFailure,
  syscallError,
} from '../../common/index.ts';
import { type LayerCompression, layerCompression } from './media-types.ts';
import { type DevicePolicy, type LayerEntry, TreeWriter } from './tree-writer.ts';
import { parsePaxRecords } from './xattrs.ts';

export interface ApplyOptions {
  /** The layer's diffID from the image config; the layer is refused (and nothing kept) on a mismatch. */
  expectedDiffId?: string;
  /** Most entries one layer may have (default 1,000,000). */
  maxEntries?: number;
  /** Most bytes the uncompressed tar stream may have (default 64 GiB): bounds decompression bombs. */
  maxBytes?: number;
  /** Largest single file (default: maxBytes). */
  maxFileSize?: number;
  /** Char/block devices: made (default), skipped, or refused. */
  devices?: DevicePolicy;
  /** Keep the archive's uid/gid (default: when running as root). */
  preserveOwnership?: boolean;
  /**
   * Awaited after the whole archive is written and its diffID verified, just before the rename into
   * place; a rejection refuses the layer like a bad diffID (nothing kept). A pull gates the commit on
   * the compressed blob's digest, which its ingest verifies only at the end of the same stream.
   */
  beforeCommit?: (result: ApplyResult) => Promise<void>;
}

export interface ApplyResult {
  /** `sha256:<hex>` of the uncompressed tar stream, to compare with the config's rootfs.diff_ids. */
  diffId: string;
  entries: number;
  /** Size of the uncompressed tar stream. */
  size: number;
}

const DEFAULT_MAX_ENTRIES = 1_000_000;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
/** Linux's PATH_MAX, NUL included: every path made under the temporary root must fit, or not even
 * the clean-up could reach it. It also bounds the depth of the tree. */
const PATH_MAX = 4096;

/**
 * Unpacks one layer (`mediaType` says its compression) into `targetDir`, which must be absent or an
 * empty directory. Everything is written into a private temporary directory beside it and renamed into
 * place only when the whole archive was read, its diffID computed and (if given) verified, so a
 * hostile, truncated or corrupt layer leaves nothing visible.
 */
export async function apply(
  layer: Readable,
  mediaType: string,
  targetDir: string,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const compression = layerCompression(mediaType);
  await checkTarget(targetDir);
  const temp = await makeTempBeside(targetDir);
  try {
    const result = await unpackInto(layer, compression, temp, options);
    if (options.expectedDiffId !== undefined && options.expectedDiffId !== result.diffId) {
      throw invalidArgument(
        `layer diffID is ${result.diffId}, but the image config says ${options.expectedDiffId}`,
      );
    }
    await options.beforeCommit?.(result);
    await fs.rename(temp, targetDir).catch((err: unknown) => {
      // Another unpacker of the same layer finished first: its copy stands, ours goes.
      if (hasErrno(err, 'ENOTEMPTY', 'EEXIST'))
        throw alreadyExists(`layer directory \`${targetDir}\` was filled meanwhile`, err);
      throw syscallError('rename', targetDir, err);
    });
    return result;
  } catch (err) {
    layer.destroy();
    await fs.rm(temp, { recursive: true, force: true }).catch((cleanupErr: unknown) => {
      // The layer's own failure stays the reported one; the leftover is named so that it can be removed.
      throw runtimeFailure(
        `${err instanceof Error ? err.message : String(err)} (and removing \`${temp}\` failed)`,
        cleanupErr,
      );
    });
    throw err;
  }
}

async function checkTarget(targetDir: string): Promise<void> {
  try {
    const names = await fs.readdir(targetDir);
    if (names.length > 0) throw failedPrecondition(`layer directory \`${targetDir}\` is not empty`);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return;
    throw hasErrno(err) ? syscallError('readdir', targetDir, err) : err;
  }
}

async function makeTempBeside(targetDir: string): Promise<string> {
  // The pid names the unpacker, so that the next one can tell a dead unpacker's leftover from a live one.
  const prefix = path.join(path.dirname(targetDir), `.${path.basename(targetDir)}.unpacking-${process.pid}-`);
  return fs.mkdtemp(prefix).catch((err: unknown) => {
    throw syscallError('mkdtemp', prefix, err);
  });
}

async function unpackInto(
  layer: Readable,
  compression: LayerCompression,
  root: string,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const writer = new TreeWriter(root, {
    devices: options.devices ?? 'create',
    preserveOwnership: options.preserveOwnership ?? process.getuid?.() === 0,
    maxFileSize: options.maxFileSize ?? maxBytes,
  });
  const digest = new DigestCounter(maxBytes);
  const extract = tar.extract();
  const rawPax = capturePaxRecords(extract);
  // Without a listener a streamx error would crash the process; the first one is the one to report.
  let extractFailure: unknown;
  (extract as unknown as EventEmitter).on('error', (err: unknown) => {
    extractFailure ??= err;
  });
  const feeding = feed(extract, [layer, ...decompressor(compression), digest]);
  let entries = 0;
  try {
    for await (const stream of extract) {
      const header = stream.header;
      if (++entries > maxEntries) throw invalidArgument(`layer has more than ${maxEntries} entries`);
      if (Buffer.byteLength(root) + 1 + Buffer.byteLength(header.name) >= PATH_MAX) {
        throw invalidArgument(
          `layer entry name of ${Buffer.byteLength(header.name)} bytes is too long for ${PATH_MAX}-byte paths`,
        );
      }
      await writer.write(toLayerEntry(header, rawPax.take()), stream as unknown as AsyncIterable<Buffer>);
      stream.resume(); // whatever the writer did not read (directories, links, whiteouts)
    }
    const failure = await feeding;
    if (failure !== undefined) throw failure;
  } catch (err) {
    // The extractor's own error says what is wrong with the archive; the loop's may only echo it.
    throw describeStreamError(extractFailure ?? err);
  } finally {
    // Stops the source when the extractor failed first (a refused entry).
    for (const stream of [layer, digest]) stream.destroy();
  }
  await writer.finish();
  return { diffId: `sha256:${digest.hex()}`, entries, size: digest.size };
}

/**
 * Node's streams up to the digest, then tar-stream's extractor (a streamx Writable, whose errors Node's
 * pipeline does not reliably catch) fed by hand with back-pressure. Resolves to the first failure of
 * the feeding side (undefined when all went in), which also destroys the extractor so that the
 * consumer's loop ends with it.
 */
async function feed(extract: tar.Extract, upstream: NodeJS.ReadableStream[]): Promise<unknown> {
  const sink = extract as unknown as NodeJS.WritableStream;
  const closed = new Promise<void>((resolve) => sink.once('close', () => resolve()));
  try {
    await pipeline([
      ...(upstream as NodeJS.ReadWriteStream[]),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          if (!sink.write(chunk)) {
            await Promise.race([new Promise((resolve) => sink.once('drain', resolve)), closed]);
          }
        }
        sink.end();
      },
    ] as unknown as NodeJS.ReadWriteStream[]);
    return undefined;
  } catch (err) {
    extract.destroy(err as Error);
    return err;
  }
}

/** Output chunks of 256 KiB: fewer round trips through the thread pool than zlib's 16 KiB. */
const INFLATE_CHUNK = 256 * 1024;

function decompressor(compression: LayerCompression): Transform[] {
  if (compression === 'gzip') return [zlib.createGunzip({ chunkSize: INFLATE_CHUNK })];
  if (compression === 'zstd') return [zlib.createZstdDecompress({ chunkSize: INFLATE_CHUNK })];
  return [];
}

/**
 * tar-stream decodes PAX values as UTF-8, which breaks binary xattrs; this keeps each PAX header's
 * raw bytes for the entry that follows it. It wraps a private method of the pinned tar-stream 3.x; the
 * binary-xattr test fails if that ever changes.
 */
function capturePaxRecords(extract: tar.Extract): { take(): Map<string, Buffer> | undefined } {
  let pending: Map<string, Buffer> | undefined;
  const target = extract as unknown as { _header: { type: string }; _decodeLongHeader(buf: Buffer): void };
  const original = target._decodeLongHeader;
  if (typeof original !== 'function')
    throw failedPrecondition('tar-stream has changed: _decodeLongHeader is gone');
  target._decodeLongHeader = function (this: typeof target, buf: Buffer) {
    if (this._header.type === 'pax-header') pending = parsePaxRecords(buf);
    return original.call(this, buf);
  };
  return {
    take() {
      const records = pending;
      pending = undefined;
      return records;
    },
  };
}

interface TarHeader {
  name: string;
  type?: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: Date;
  linkname?: string | null;
  devmajor?: number;
  devminor?: number;
}

function toLayerEntry(header: TarHeader, pax: Map<string, Buffer> | undefined): LayerEntry {
  return {
    name: header.name,
    type: header.type,
    mode: header.mode ?? 0o644,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    size: header.size ?? 0,
    mtime: header.mtime && !Number.isNaN(header.mtime.getTime()) ? header.mtime : new Date(0),
    linkname: header.linkname,
    devmajor: header.devmajor ?? 0,
    devminor: header.devminor ?? 0,
    pax,
  };
}

/** Errors of the archive itself (tar-stream's, zlib's) say that the layer is broken, and where. */
function describeStreamError(err: unknown): unknown {
  if (!(err instanceof Error) || 'kind' in err) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_') && !code.includes('ZLIB')) return err;
  return invalidArgument(`layer archive is corrupt or truncated: ${err.message}`, err);
}

/** Hashes and counts the uncompressed tar stream on its way to the extractor; refuses past the bound. */
class DigestCounter extends Transform {
  private readonly hash = createHash('sha256');
  private readonly maxBytes: number;
  size = 0;
  constructor(maxBytes: number) {
    super();
    this.maxBytes = maxBytes;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(invalidArgument(`layer is larger than ${this.maxBytes} bytes uncompressed`));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}
