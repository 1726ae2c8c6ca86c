import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeFrame,
  encodeResize,
  FrameDecoder,
  FrameType,
  parseExitRecord,
} from '../../../src/engine/index.ts';

test('a frame is an 8-byte header [type, 0, 0, 0, length BE] and its payload', () => {
  assert.deepEqual([...encodeFrame(FrameType.stderr, 'hi')], [2, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]);
  assert.deepEqual([...encodeFrame(FrameType.claimCleanup)], [0x12, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...encodeResize(300, 80)], [0x11, 0, 0, 0, 0, 0, 0, 4, 1, 44, 0, 80]);
});

test('the decoder reassembles frames whatever the chunking', () => {
  const stream = Buffer.concat([
    encodeFrame(FrameType.hello),
    encodeFrame(FrameType.stdout, 'out'),
    encodeFrame(FrameType.stderr, Buffer.alloc(70_000, 1)),
    encodeFrame(FrameType.exit, '{}'),
  ]);
  for (const size of [1, 3, 8, 9, 1000, stream.length]) {
    const decoder = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < stream.length; i += size) frames.push(...decoder.push(stream.subarray(i, i + size)));
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.length]),
      [
        [0x14, 0],
        [1, 3],
        [2, 70_000],
        [0x10, 2],
      ],
    );
    assert.equal(decoder.buffered, 0);
  }
});

test('an exit record must have its four fields', () => {
  const record = parseExitRecord(
    '{"exitCode":137,"signal":9,"oomKilled":true,"finishedAt":"2026-11-23T14:28:21.1Z"}',
    'exit',
  );
  assert.deepEqual(record, {
    exitCode: 137,
    signal: 9,
    oomKilled: true,
    finishedAt: '2026-11-23T14:28:21.1Z',
  });
  assert.throws(() => parseExitRecord('{"exitCode":1}', 'DIR/exit'), /DIR\/exit: not an exit record/);
  assert.throws(() => parseExitRecord('nope', 'DIR/exit'), /DIR\/exit: not JSON/);
});
