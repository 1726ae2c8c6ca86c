/**
 * Reads a container's json-file log as `docker logs` does: the rotated files oldest first
 * (FILE.N … FILE.1) then FILE, `--tail` found by reading backwards from the end, `--since`/`--until`
 * on each message's time, and `--follow` that keeps reading FILE across rotation (the open handle is
 * drained before the new FILE is opened) and truncation, woken by fs.watch with a poll as fallback.
 */
import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, syscallError } from '../../common/index.ts';
import { formatRfc3339NanoFixed, type LogTime, parseRfc3339Nano } from './time.ts';

export interface LogEntry {
  readonly stream: 'stdout' | 'stderr';
  readonly time: Date;
  /** The time as written (RFC 3339 with nanoseconds). */
  readonly timeText: string;
  /** Nanoseconds within time's millisecond. */
  readonly subMillisNanos: number;
  readonly log: string;
  /** A piece of a line longer than the monitor's buffer: no trailing newline. */
  readonly partial: boolean;
}

export interface ReadLogsOptions {
  /** The last N messages only ('all' or undefined: everything). */
  readonly tail?: number | 'all';
  readonly since?: Date;
  readonly until?: Date;
  readonly follow?: boolean;
  /** Following ends when this says so (the container is gone) once the file is drained. */
  readonly stopWhen?: () => Promise<boolean>;
  /** How often to look for new data when no watch event arrives (ms, default 250). */
  readonly pollMs?: number;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** One json-file line; undefined for a malformed one (skipped, as docker's decoder would stop). */
export function parseLogLine(line: string): LogEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined; // a torn or foreign line: skipped, the rest of the log still reads
  }
  if (!value || typeof value !== 'object') return undefined;
  const { log, stream, time } = value as Record<string, unknown>;
  if (typeof log !== 'string' || typeof time !== 'string') return undefined;
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const parsed = parseRfc3339Nano(time);
  if (!parsed) return undefined;
  return {
    stream,
    time: parsed.date,
    timeText: time,
    subMillisNanos: parsed.subMillisNanos,
    log,
    partial: !log.endsWith('\n'),
  };
}

/** `docker logs` output of one entry: `-t` puts the time (RFC3339NanoFixed) and a space first. */
export function formatLogEntry(entry: LogEntry, options: { timestamps?: boolean } = {}): string {
  if (!options.timestamps) return entry.log;
  const time: LogTime = { date: entry.time, subMillisNanos: entry.subMillisNanos };
  return `${formatRfc3339NanoFixed(time)} ${entry.log}`;
}

/** The highest N of the FILE.N that exist (0 when none). */
async function highestRotation(file: string): Promise<number> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return 0;
    throw syscallError('readdir', dir, err);
  }
  return Math.max(
    0,
    ...names
      .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : Number.NaN))
      .filter((n) => Number.isInteger(n) && n > 0),
  );
}

/**
 * Opens FILE.1, FILE.2, … newest first, each file once (a rotation while this runs shifts the names
 * towards older ones, so nothing is skipped; a file seen twice is kept once). Stops at the file
 * `stopId` (already read); the file `newerId` and everything newer are left out (they are read
 * later as FILE). Returns them oldest first.
 */
async function openRotated(file: string, stopId?: string, newerId?: string): Promise<LineReader[]> {
  const found: LineReader[] = [];
  const seen = new Set<string>();
  const highest = await highestRotation(file);
  // A slot can be empty for a moment while the writer shifts the names: look one past the highest.
  for (let n = 1; n <= highest + 1; n++) {
    const reader = await openReader(`${file}.${n}`);
    if (!reader) continue;
    const { id } = reader;
    if (seen.has(id) || id === stopId || id === newerId) await reader.handle.close().catch(() => undefined);
    if (id === stopId) break;
    if (id === newerId) {
      for (const r of found.splice(0)) await r.handle.close().catch(() => undefined);
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    found.push(reader);
  }
  return found.reverse();
}

/**
 * A file's identity across renames: the inode number alone is not enough, as ext4 hands a deleted
 * rotated file's inode to the next new log file at once; the birth time tells them apart.
 */
function fileId(st: { ino: bigint; birthtimeNs: bigint }): string {
  return `${st.ino}:${st.birthtimeNs}`;
}

/** Opens file as a LineReader from its start, or undefined when it does not exist. */
async function openReader(file: string): Promise<LineReader | undefined> {
  const handle = await openIfExists(file);
  if (!handle) return undefined;
  return new LineReader(handle, fileId(await handle.stat({ bigint: true })), 0);
}

async function openIfExists(file: string): Promise<FileHandle | undefined> {
  try {
    return await open(file, 'r');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw syscallError('open', file, err);
  }
}

/** Reads complete lines from a position on; an unfinished last line waits for its newline. */
class LineReader {
  readonly handle: FileHandle;
  /** Which file this is, across renames (see fileId). */
  readonly id: string;
  position: number;
  #rest: Buffer = Buffer.alloc(0);

  constructor(handle: FileHandle, id: string, position: number) {
    this.handle = handle;
    this.id = id;
    this.position = position;
  }

  /** Every complete line now in the file after the position. */
  async *lines(): AsyncGenerator<string> {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, CHUNK, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      let data = Buffer.concat([this.#rest, buffer.subarray(0, bytesRead)]);
      let nl = data.indexOf(NEWLINE);
      while (nl !== -1) {
        const line = data.subarray(0, nl).toString('utf8');
        data = data.subarray(nl + 1);
        if (line !== '') yield line;
        nl = data.indexOf(NEWLINE);
      }
      this.#rest = Buffer.from(data);
    }
  }

  /** The file was truncated in place (max-files 1): start again from its beginning. */
  restart(): void {
    this.position = 0;
    this.#rest = Buffer.alloc(0);
  }
}

/**
 * Where the last `count` complete lines of a file end-range start: scans backwards from `end`
 * (just after a newline). Returns the offset and how many lines [offset, end) holds.
 */
async function linesBackward(
  handle: FileHandle,
  end: number,
  count: number,
): Promise<{ offset: number; lines: number }> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let lines = 0;
  let pos = end;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, pos - from, from);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buffer[i] !== NEWLINE) continue;
      const at = from + i;
      if (at === end - 1) continue; // the newline ending the last line
      if (lines + 1 === count) return { offset: at + 1, lines: count };
      lines++;
    }
    pos = from;
  }
  // The first line of the file has no newline before it.
  return { offset: 0, lines: end > 0 ? lines + 1 : 0 };
}

/** The offset just after the last newline of the file (its complete lines end there). */
async function completeEnd(handle: FileHandle, size: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  let pos = size;
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, pos - from, from);
    const nl = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl !== -1) return from + nl + 1;
    pos = from;
  }
  return 0;
}

interface Opened {
  readonly path: string;
  readonly reader: LineReader;
}

/** Where reading starts for --tail N: the index of the file and the offset in it. */
async function tailStart(
  files: readonly Opened[],
  count: number,
): Promise<{ index: number; offset: number }> {
  if (count <= 0) {
    const last = files[files.length - 1];
    if (!last) return { index: 0, offset: 0 };
    const size = (await last.reader.handle.stat()).size;
    return { index: files.length - 1, offset: await completeEnd(last.reader.handle, size) };
  }
  let needed = count;
  for (let i = files.length - 1; i >= 0; i--) {
    const handle = files[i]!.reader.handle;
    const size = (await handle.stat()).size;
    const end = await completeEnd(handle, size);
    const { offset, lines } = await linesBackward(handle, end, needed);
    if (lines >= needed) return { index: i, offset };
    needed -= lines;
  }
  return { index: 0, offset: 0 };
}

type Verdict = 'emit' | 'skip' | 'stop';

function judge(entry: LogEntry, options: ReadLogsOptions): Verdict {
  if (options.until && entry.time.getTime() > options.until.getTime()) return 'stop';
  if (options.since && entry.time.getTime() < options.since.getTime()) return 'skip';
  return 'emit';
}

/** Wakes a waiting follower on a change in the log's directory, or after pollMs. */
class Waker {
  #watcher: FSWatcher | undefined;
  #wake: (() => void) | undefined;

  constructor(file: string) {
    const base = path.basename(file);
    try {
      this.#watcher = watch(path.dirname(file), (_event, name) => {
        if (name === null || String(name).startsWith(base)) this.#wake?.();
      });
      this.#watcher.on('error', () => {
        // The directory went away (container removed): polling and stopWhen still end the follow.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // No directory yet or no inotify: the poll alone keeps following.
      this.#watcher = undefined;
    }
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#wake = undefined;
        resolve();
      }
      this.#wake = done;
    });
  }

  close(): void {
    this.#watcher?.close();
  }
}

export async function* readLogs(file: string, options: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const open = new Set<LineReader>();
  let waker: Waker | undefined;
  try {
    const initial: Opened[] = [];
    // FILE first: a rotation after this only adds older files, which are found below by identity.
    const liveReader = await openReader(file);
    for (const reader of await openRotated(file, undefined, liveReader?.id))
      initial.push({ path: '', reader });
    if (liveReader) initial.push({ path: file, reader: liveReader });
    for (const { reader } of initial) open.add(reader);
    let index = 0;
    if (typeof options.tail === 'number' && options.tail >= 0) {
      const start = await tailStart(initial, options.tail);
      index = start.index;
      if (initial[index]) initial[index]!.reader.position = start.offset;
    }
    for (const { reader } of initial.slice(index)) if (yield* drain(reader, options)) return;
    const last = initial[initial.length - 1];
    let live = last?.path === file ? last.reader : undefined;
    /** The newest file read so far: a rotation is caught up from the file after it. */
    let lastId = last?.reader.id;
    for (const reader of open) if (reader !== live) await retire(open, reader);
    if (!options.follow) return;
    waker = new Waker(file);
    const pollMs = options.pollMs ?? 250;
    for (let final = false; ; ) {
      const step = await followStep(file, live);
      if (step.next) {
        // Rotated: what the writer put in the old file before the rename comes first, then the files
        // of further rotations since the last look (found by identity among FILE.1 … FILE.N; all of
        // them when nothing was read yet, or when the last file read has been rotated out).
        if (live && (yield* drain(live, options))) return;
        const missed = await openRotated(file, lastId, step.next.id);
        if (live) await retire(open, live);
        for (const reader of missed) open.add(reader);
        for (const reader of missed) {
          if (yield* drain(reader, options)) return;
          await retire(open, reader);
        }
        lastId = step.next.id;
        live = step.next;
        open.add(live);
      }
      if (live && (yield* drain(live, options))) return;
      if (step.kind !== 'none') continue;
      if (final) return;
      if (options.until && Date.now() > options.until.getTime()) return;
      // The writer is gone: one more look for a last rotation and the lines it wrote, then the end.
      if (options.stopWhen && (await options.stopWhen())) {
        final = true;
        continue;
      }
      await waker.wait(pollMs);
    }
  } finally {
    waker?.close();
    for (const reader of open) await retire(open, reader);
  }
}

/** Yields the entries of the lines now in the reader's file; true when --until ended the read. */
async function* drain(reader: LineReader, options: ReadLogsOptions): AsyncGenerator<LogEntry, boolean> {
  for await (const line of reader.lines()) if ((yield* emit(line, options)) === 'stop') return true;
  return false;
}

async function retire(open: Set<LineReader>, reader: LineReader): Promise<void> {
  open.delete(reader);
  await reader.handle.close().catch(() => undefined); // a read-only handle: nothing to lose
}

/** Yields the line's entry when it passes the filters; tells the caller to stop after --until. */
async function* emit(line: string, options: ReadLogsOptions): AsyncGenerator<LogEntry, Verdict> {
  const entry = parseLogLine(line);
  if (!entry) return 'skip';
  const verdict = judge(entry, options);
  if (verdict === 'emit') yield entry;
  return verdict;
}

const statBig = (file: string) => stat(file, { bigint: true });

/**
 * What happened to FILE since the last look: replaced by a new file (`next` is opened on it),
 * truncated in place (the reader starts again at 0), grown ('data'), or nothing.
 */
async function followStep(
  file: string,
  live: LineReader | undefined,
): Promise<{ kind: 'rotated' | 'truncated' | 'data' | 'none'; next?: LineReader }> {
  let current: Awaited<ReturnType<typeof statBig>>;
  try {
    current = await statBig(file);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return { kind: 'none' }; // between the rename and the next write
    throw syscallError('stat', file, err);
  }
  if (!live || fileId(current) !== live.id) {
    const next = await openReader(file);
    return next ? { kind: 'rotated', next } : { kind: 'none' };
  }
  const size = Number(current.size);
  if (size < live.position) {
    live.restart();
    return { kind: 'truncated' };
  }
  return { kind: size > live.position ? 'data' : 'none' };
}
