import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { invalidArgument, syscallError } from '../../common/index.ts';

/** An archive given as a stream or a file path. */
export type ArchiveInput = Readable | string;

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

export type Compression = 'gzip' | 'zstd' | 'none';

/** The compression of a stream's first bytes (gzip and zstd by their magic numbers). */
export function detectCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head);
  if (b.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (b.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

export function decompressor(compression: Compression): Transform {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') return zlib.createZstdDecompress();
  return new PassThrough();
}

/** The archive's bytes, decompressed when they start with a gzip or zstd magic. */
export function openArchive(input: ArchiveInput): Readable {
  if (typeof input !== 'string') return Readable.from(decompressed(input), { objectMode: false });
  const source = createReadStream(input);
  const out = Readable.from(decompressed(source), { objectMode: false });
  // Name the operation and the file (the bare ENOENT of a read stream says neither well).
  source.on('error', (err) => out.destroy(syscallError('open', input, err)));
  return out;
}

async function* decompressed(source: Readable): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const compression = detectCompression(head);
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  }
  if (compression === 'none') {
    yield* all();
    return;
  }
  const inflate = decompressor(compression);
  const raw = Readable.from(all());
  raw.on('error', (err) => inflate.destroy(err));
  raw.pipe(inflate);
  try {
    for await (const chunk of inflate as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    throw invalidArgument(`archive: ${compression} decompression failed: ${(err as Error).message}`, err);
  }
}

export interface ExtractLimits {
  maxEntries?: number;
  maxBytes?: number;
}

/**
 * An archive extracted into a private directory. Symlinks and hard links of the archive's structure
 * (podman's docker-archive links `<id>/layer.tar` to `../<digest>.tar`; `docker save` links repeated
 * layers) are never made on disk: they are kept as aliases, resolved lexically inside the archive.
 */
export class ExtractedArchive {
  readonly dir: string;
  readonly aliases = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The path on disk of the archive member `name`, through at most 16 aliases. */
  resolve(name: string): string {
    let current = archiveEntryName(name);
    for (let hops = 0; ; hops++) {
      const target = this.aliases.get(current);
      if (target === undefined) return path.join(this.dir, current);
      if (hops >= 16) throw invalidArgument(`archive: \`${name}\`: too many levels of links`);
      current = target;
    }
  }
}

/**
 * Extracts an archive's structure (files and directories; links as aliases) into `dir`. The archive's
 * own structure is never trusted: names or link targets with `..` that climb out, absolute names,
 * devices and fifos are refused, so nothing can be written or read outside `dir`, and a truncated
 * archive is an error.
 */
export async function extractArchive(
  input: ArchiveInput,
  dir: string,
  limits: ExtractLimits = {},
): Promise<ExtractedArchive> {
  const maxEntries = limits.maxEntries ?? 100_000;
  const maxBytes = limits.maxBytes ?? 64 * 1024 ** 3;
  const out = new ExtractedArchive(dir);
  let entries = 0;
  let bytes = 0;
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const { header } = entry;
      if (++entries > maxEntries) throw invalidArgument(`archive: more than ${maxEntries} entries`);
      const name = archiveEntryName(header.name);
      if (header.type === 'directory' || header.type === 'symlink' || header.type === 'link') {
        if (header.type === 'directory') await mkdirIn(dir, name);
        else out.aliases.set(name, linkTarget(name, header.type, header.linkname ?? ''));
        (entry as unknown as Readable).resume();
        continue;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file')
        throw invalidArgument(
          `archive: entry \`${header.name}\` is a ${header.type}; an archive holds only files, directories and links`,
        );
      if (name === '') throw invalidArgument(`archive: entry \`${header.name}\` has no name`);
      bytes += header.size ?? 0;
      if (bytes > maxBytes) throw invalidArgument(`archive: more than ${maxBytes} bytes`);
      const target = path.join(dir, name);
      await mkdirIn(dir, path.dirname(name));
      await pipeline(
        entry as unknown as Readable,
        createWriteStream(target, { flags: 'wx', mode: 0o600 }),
      ).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw invalidArgument(`archive: entry \`${header.name}\` appears twice`);
        if ((err as NodeJS.ErrnoException).code === 'ENOTDIR')
          throw invalidArgument(`archive: entry \`${header.name}\` is below a file`);
        throw err;
      });
    }
  })();
  try {
    await Promise.all([pipeline(openArchive(input), extract as unknown as NodeJS.WritableStream), done]);
  } catch (err) {
    extract.destroy();
    if (err instanceof Error && /unexpected end|premature/i.test(err.message))
      throw invalidArgument(`archive: truncated (${err.message})`, err);
    throw err;
  }
  return out;
}

/** A link's target as an archive member name: a symlink is relative to its directory, a hard link to
 * the archive's root; neither may leave the archive. */
function linkTarget(name: string, type: 'symlink' | 'link', linkname: string): string {
  if (linkname.startsWith('/'))
    throw invalidArgument(`archive: link \`${name}\` points at the absolute path \`${linkname}\``);
  const joined = type === 'symlink' ? path.posix.join(path.posix.dirname(name), linkname) : linkname;
  const normal = path.posix.normalize(joined);
  if (normal === '..' || normal.startsWith('../'))
    throw invalidArgument(`archive: link \`${name}\` points out of the archive (\`${linkname}\`)`);
  return archiveEntryName(normal);
}

/** An archive entry's relative name, or an error when it is absolute or climbs with `..`. */
export function archiveEntryName(raw: string): string {
  if (raw.startsWith('/')) throw invalidArgument(`archive: entry \`${raw}\` is an absolute path`);
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..'))
    throw invalidArgument(`archive: entry \`${raw}\` climbs out with \`..\``);
  return parts.join('/');
}

async function mkdirIn(dir: string, rel: string): Promise<void> {
  if (rel === '' || rel === '.') return;
  const full = path.join(dir, rel);
  await fs.mkdir(full, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
    throw syscallError('mkdir', full, err);
  });
}

/** Reads a small JSON file of an extracted archive, naming it in errors. */
export async function readArchiveJson(
  archive: ExtractedArchive,
  name: string,
  required = true,
): Promise<unknown> {
  const file = archive.resolve(name);
  let text: string;
  try {
    const stat = await fs.lstat(file);
    if (!stat.isFile()) throw invalidArgument(`archive: \`${name}\` is not a file`);
    if (stat.size > 16 * 2 ** 20) throw invalidArgument(`archive: \`${name}\` is larger than 16 MiB`);
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw invalidArgument(`archive: \`${name}\` is missing`);
    }
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`archive: \`${name}\` is not valid JSON: ${(err as Error).message}`, err);
  }
}
