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

/** The rotated files that exist, oldest first, then FILE itself (when it exists). */
async function logFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return [];
    throw syscallError('readdir', dir, err);
  }
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) ? Number(n.slice(base.length + 1)) : Number.NaN))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${file}.${n}`);
  return names.includes(base) ? [...rotated, file] : rotated;
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
  readonly ino: number;
  position: number;
  #rest: Buffer = Buffer.alloc(0);

  constructor(handle: FileHandle, ino: number, position: number) {
    this.handle = handle;
    this.ino = ino;
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
  const opened: Opened[] = [];
  let live: Opened | undefined;
  let waker: Waker | undefined;
  try {
    for (const name of await logFiles(file)) {
      const handle = await openIfExists(name);
      if (!handle) continue; // rotated away between the listing and now
      opened.push({ path: name, reader: new LineReader(handle, (await handle.stat()).ino, 0) });
    }
    let index = 0;
    if (typeof options.tail === 'number') {
      const start = await tailStart(opened, options.tail);
      index = start.index;
      if (opened[index]) opened[index]!.reader.position = start.offset;
    }
    const last = opened[opened.length - 1];
    if (last?.path === file) live = last;
    for (const { reader } of opened.slice(index)) {
      for await (const line of reader.lines()) {
        const verdict = yield* emit(line, options);
        if (verdict === 'stop') return;
      }
    }
    if (!options.follow) return;
    waker = new Waker(file);
    const pollMs = options.pollMs ?? 250;
    for (;;) {
      const changed = await followStep(file, live, (next) => {
        live = next;
        opened.push(next);
      });
      if (changed === 'rotated' || changed === 'truncated') {
        // Drain what remains of the old file, then read the new one.
        for (const reader of changed === 'rotated'
          ? [opened[opened.length - 2]?.reader, live?.reader]
          : [live?.reader])
          if (reader)
            for await (const line of reader.lines()) if ((yield* emit(line, options)) === 'stop') return;
        continue;
      }
      if (live)
        for await (const line of live.reader.lines()) if ((yield* emit(line, options)) === 'stop') return;
      if (changed === 'data') continue;
      if (options.stopWhen && (await options.stopWhen())) {
        // The writer is gone: one last look for a rotation it made and the lines it wrote.
        const last = await followStep(file, live, (next) => {
          live = next;
          opened.push(next);
        });
        if (last === 'rotated') {
          const old = opened[opened.length - 2]?.reader;
          if (old) for await (const line of old.lines()) if ((yield* emit(line, options)) === 'stop') return;
        }
        if (live)
          for await (const line of live.reader.lines()) if ((yield* emit(line, options)) === 'stop') return;
        return;
      }
      await waker.wait(pollMs);
    }
  } finally {
    waker?.close();
    for (const { reader } of opened) await reader.handle.close().catch(() => undefined);
  }
}

/** Yields the line's entry when it passes the filters; tells the caller to stop after --until. */
async function* emit(line: string, options: ReadLogsOptions): AsyncGenerator<LogEntry, Verdict> {
  const entry = parseLogLine(line);
  if (!entry) return 'skip';
  const verdict = judge(entry, options);
  if (verdict === 'emit') yield entry;
  return verdict;
}

/**
 * What happened to FILE since the last look: replaced by a new file (rotated: the new one is opened
 * and handed to adopt), truncated in place, grown ('data'), or nothing.
 */
async function followStep(
  file: string,
  live: Opened | undefined,
  adopt: (next: Opened) => void,
): Promise<'rotated' | 'truncated' | 'data' | 'none'> {
  let current: Awaited<ReturnType<typeof stat>>;
  try {
    current = await stat(file);
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return 'none'; // between the rename and the next write
    throw syscallError('stat', file, err);
  }
  if (!live || current.ino !== live.reader.ino) {
    const handle = await openIfExists(file);
    if (!handle) return 'none';
    adopt({ path: file, reader: new LineReader(handle, (await handle.stat()).ino, 0) });
    return live ? 'rotated' : 'data';
  }
  if (current.size < live.reader.position) {
    live.reader.restart();
    return 'truncated';
  }
  return current.size > live.reader.position ? 'data' : 'none';
}
