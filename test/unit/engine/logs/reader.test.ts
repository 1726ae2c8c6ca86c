import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { formatLogEntry, type LogEntry, readLogs } from '../../../../src/engine/index.ts';

function tempLog(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'ctr.log');
}

/** One json-file line as the monitor writes it; message i at second i of the day. */
function line(i: number, text = `line ${i}\n`, stream = 'stdout'): string {
  const time = `2026-11-23T10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '1')}Z`;
  return `${JSON.stringify({ log: text, stream, time })}\n`;
}

const lines = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => line(from + k)).join('');

async function collect(iter: AsyncIterable<LogEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of iter) out.push(e.log);
  return out;
}

const texts = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, k) => `line ${from + k}\n`);

test('reads the rotated files oldest first, then the live file', async (t) => {
  const file = tempLog(t);
  writeFileSync(`${file}.2`, lines(0, 2));
  writeFileSync(`${file}.1`, lines(3, 5));
  writeFileSync(file, lines(6, 7));
  assert.deepEqual(await collect(readLogs(file)), texts(0, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 'all' })), texts(0, 7));
});

test('tail counts back across rotated files, and 0 means nothing', async (t) => {
  const file = tempLog(t);
  writeFileSync(`${file}.2`, lines(0, 2));
  writeFileSync(`${file}.1`, lines(3, 5));
  writeFileSync(file, lines(6, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 1 })), texts(7, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 2 })), texts(6, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 3 })), texts(5, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 6 })), texts(2, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 100 })), texts(0, 7));
  assert.deepEqual(await collect(readLogs(file, { tail: 0 })), []);
});

test('tail reads backwards over a large file (many chunks)', async (t) => {
  const file = tempLog(t);
  writeFileSync(file, lines(0, 9999));
  assert.deepEqual(await collect(readLogs(file, { tail: 3 })), texts(9997, 9999));
  assert.equal((await collect(readLogs(file, { tail: 5000 }))).length, 5000);
});

test('an unfinished last line waits; malformed lines are skipped; partial messages are flagged', async (t) => {
  const file = tempLog(t);
  const unfinished = line(9).slice(0, 20);
  writeFileSync(
    file,
    `${line(0)}not json\n${JSON.stringify({ log: 'x' })}\n${line(1, 'a long ', 'stderr')}${line(2, 'line\n', 'stderr')}{"log":"bad time","stream":"stdout","time":"now"}\n${line(3)}${unfinished}`,
  );
  const entries: LogEntry[] = [];
  for await (const e of readLogs(file)) entries.push(e);
  assert.deepEqual(
    entries.map((e) => [e.stream, e.log, e.partial]),
    [
      ['stdout', 'line 0\n', false],
      ['stderr', 'a long ', true],
      ['stderr', 'line\n', false],
      ['stdout', 'line 3\n', false],
    ],
  );
  assert.deepEqual(await collect(readLogs(file, { tail: 1 })), ['line 3\n']);
  assert.equal(entries[0]!.timeText, '2026-11-23T10:00:00.111111110Z');
  assert.equal(formatLogEntry(entries[0]!), 'line 0\n');
  assert.equal(formatLogEntry(entries[0]!, { timestamps: true }), '2026-11-23T10:00:00.111111110Z line 0\n');
});

test('since and until filter on the message time; until ends the read', async (t) => {
  const file = tempLog(t);
  writeFileSync(`${file}.1`, lines(0, 4));
  writeFileSync(file, lines(5, 9));
  const at = (s: number) => new Date(`2026-11-23T10:00:0${s}.000Z`);
  assert.deepEqual(await collect(readLogs(file, { since: at(3) })), texts(3, 9));
  assert.deepEqual(await collect(readLogs(file, { until: at(6) })), texts(0, 5));
  assert.deepEqual(await collect(readLogs(file, { since: at(3), until: at(6), tail: 5 })), texts(5, 5));
});

test('a missing log reads as empty', async (t) => {
  const file = tempLog(t);
  assert.deepEqual(await collect(readLogs(file)), []);
});

test('follow keeps reading while a writer appends, rotates and truncates, and stops when told', async (t) => {
  const file = tempLog(t);
  writeFileSync(file, lines(0, 1));
  let done = false;
  const seen: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(file, { follow: true, tail: 1, pollMs: 20, stopWhen: async () => done }))
      seen.push(e.log);
  })();
  const waitFor = async (n: number) => {
    const deadline = Date.now() + 5000;
    while (seen.length < n) {
      if (Date.now() > deadline) assert.fail(`waited for ${n} lines, saw ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await waitFor(1);
  // Appends, a line written in two pieces, then rotations FILE -> FILE.1 -> FILE.2.
  let next = 2;
  for (let round = 0; round < 5; round++) {
    for (let k = 0; k < 20; k++) {
      const text = line(next++);
      appendFileSync(file, text.slice(0, 10));
      appendFileSync(file, text.slice(10));
    }
    await waitFor(next - 1);
    // The writer's last lines before a rotation land in the old file.
    appendFileSync(file, line(next++));
    if (existsSync(`${file}.1`)) renameSync(`${file}.1`, `${file}.2`);
    renameSync(file, `${file}.1`);
    writeFileSync(file, line(next++));
    await waitFor(next - 1);
  }
  // max-files 1: truncation in place (seen because the file is now shorter than what was read).
  for (let k = 0; k < 3; k++) appendFileSync(file, line(next++));
  await waitFor(next - 1);
  truncateSync(file, 0);
  writeFileSync(file, line(next++));
  await waitFor(next - 1);
  // The container is gone: the lines written just before are still read, then the follow ends.
  appendFileSync(file, line(next++));
  done = true;
  await reader;
  assert.deepEqual(seen, texts(1, next - 1));
});

/** A json-file writer in another process, rotating as the monitor does (FILE -> FILE.1 -> …). */
const WRITER = `
const fs = require('node:fs');
const [file, count, maxSize, maxFiles] = process.argv.slice(1);
let size = 0;
let fd = fs.openSync(file, 'a');
const rotate = () => {
  fs.closeSync(fd);
  for (let n = Number(maxFiles) - 1; n >= 1; n--) {
    const from = n === 1 ? file : file + '.' + (n - 1);
    if (fs.existsSync(from)) fs.renameSync(from, file + '.' + n);
  }
  fd = fs.openSync(file, 'a');
  size = 0;
};
let i = 0;
const burst = () => {
  for (let k = 0; k < 7 && i < Number(count); k++, i++) {
    const line = JSON.stringify({ log: 'line ' + i + '\\n', stream: i % 3 ? 'stdout' : 'stderr',
      time: new Date().toISOString().replace('Z', '123456Z') }) + '\\n';
    if (size + line.length > Number(maxSize)) rotate();
    fs.writeSync(fd, line);
    size += line.length;
  }
  if (i < Number(count)) setTimeout(burst, 1);
};
burst();
`;

test('follow reads every line once while another process writes and rotates fast', async (t) => {
  const { spawn } = await import('node:child_process');
  const { readdirSync } = await import('node:fs');
  const file = tempLog(t);
  const count = 5000;
  // ~80 bytes a line, 8 kB files: a rotation every ~100 lines. Lines are lost only when the reader
  // falls 4 rotations behind (the oldest file is deleted), as with docker's reader.
  const writer = spawn(process.execPath, ['-e', WRITER, file, String(count), '8000', '5'], {
    stdio: 'inherit',
  });
  // Counted after the spawn, which opens descriptors of its own (the SIGCHLD pipe).
  const fdsBefore = readdirSync('/proc/self/fd').length;
  let exited = false;
  const done = new Promise<void>((resolve) =>
    writer.on('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const seen: string[] = [];
  for await (const e of readLogs(file, { follow: true, pollMs: 10, stopWhen: async () => exited }))
    seen.push(e.log);
  await done;
  assert.equal(seen.length, count);
  assert.deepEqual(seen, texts(0, count - 1));
  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore);
});

test('follow catches up over several rotations made between two looks', async (t) => {
  const file = tempLog(t);
  writeFileSync(file, lines(0, 1));
  const rotate = () => {
    for (let n = 3; n >= 1; n--)
      if (existsSync(n === 1 ? file : `${file}.${n - 1}`))
        renameSync(n === 1 ? file : `${file}.${n - 1}`, `${file}.${n}`);
  };
  let done = false;
  const iter = readLogs(file, { follow: true, pollMs: 10, stopWhen: async () => done })[
    Symbol.asyncIterator
  ]();
  const seen: string[] = [];
  for (let k = 0; k < 2; k++) seen.push((await iter.next()).value!.log);
  // The reader is not pulled while the writer rotates three times (files of two lines each).
  appendFileSync(file, line(2));
  rotate();
  writeFileSync(file, lines(3, 4));
  rotate();
  writeFileSync(file, lines(5, 6));
  rotate();
  writeFileSync(file, lines(7, 8));
  done = true;
  for (let r = await iter.next(); !r.done; r = await iter.next()) seen.push(r.value.log);
  assert.deepEqual(seen, texts(0, 8));
});

test('follow waits for a log that does not exist yet; until ends a follow', async (t) => {
  const file = tempLog(t);
  const seen: string[] = [];
  const reader = (async () => {
    for await (const e of readLogs(file, {
      follow: true,
      pollMs: 10,
      until: new Date('2026-11-23T10:00:02Z'),
    }))
      seen.push(e.log);
  })();
  writeFileSync(file, lines(0, 1));
  appendFileSync(file, lines(2, 3));
  await reader;
  assert.deepEqual(seen, texts(0, 1));
});
