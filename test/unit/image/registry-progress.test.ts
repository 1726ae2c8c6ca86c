// docker's progress forms for pull: sizes and bars as moby's jsonmessage prints them, the JSONMessage
// line shape, the plain form (no progress lines) and the terminal form's cursor movements.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { humanSize, jsonMessageLine, PullProgressWriter, progressString } from '../../../src/image/index.ts';

test('humanSize: decimal units, 4 significant digits (units.HumanSize)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(1234), '1.234kB');
  assert.equal(humanSize(1_420_124), '1.42MB');
  assert.equal(humanSize(23_637_855), '23.64MB');
  assert.equal(humanSize(999_999), '1000kB');
  assert.equal(humanSize(5 * 10 ** 9), '5GB');
});

test('progressString: the bar only on a terminal wider than 110 columns', () => {
  assert.equal(progressString(0, 0), '');
  assert.equal(progressString(500_000, 1_000_000, 80), '   500kB/1MB');
  assert.equal(progressString(500_000, 1_000_000, 200), `[${'='.repeat(25)}>${' '.repeat(25)}]    500kB/1MB`);
  assert.equal(progressString(2_000_000, 1_000_000, 200), `[${'='.repeat(50)}>]      2MB/1MB`);
  assert.equal(progressString(1234, undefined), ' 1.234kB');
});

test('jsonMessageLine: docker’s JSONMessage shape and key order', () => {
  assert.equal(
    jsonMessageLine({ status: 'Pulling from library/busybox', id: 'latest' }),
    '{"status":"Pulling from library/busybox","id":"latest"}\n',
  );
  assert.equal(
    jsonMessageLine({ id: 'abc', status: 'Pull complete', progressDetail: {} }),
    '{"status":"Pull complete","progressDetail":{},"id":"abc"}\n',
  );
  const line = JSON.parse(
    jsonMessageLine({ id: 'abc', status: 'Downloading', progressDetail: { current: 10, total: 100 } }),
  );
  assert.deepEqual(Object.keys(line), ['status', 'progressDetail', 'progress', 'id']);
  assert.deepEqual(line.progressDetail, { current: 10, total: 100 });
  assert.match(line.progress, /^\[=====> {45}\] {6}10B\/100B$/);
});

test('plain form: one line per state change, progress left out', () => {
  let out = '';
  const w = new PullProgressWriter((t) => {
    out += t;
  }, 'plain');
  w.status({ id: '1', status: 'Pulling from x' });
  w.status({ id: 'abc', status: 'Pulling fs layer', progressDetail: {} });
  w.status({ id: 'abc', status: 'Downloading', progressDetail: { current: 1, total: 2 } });
  w.status({ id: 'abc', status: 'Pull complete', progressDetail: {} });
  w.close();
  assert.equal(out, '1: Pulling from x\nabc: Pulling fs layer\nabc: Pull complete\n');
});

test('terminal form: a line per layer, the cursor moved up to it and back, progress throttled', async () => {
  let out = '';
  const w = new PullProgressWriter(
    (t) => {
      out += t;
    },
    'terminal',
    { columns: 80, intervalMs: 50 },
  );
  w.status({ id: 'a', status: 'Pulling fs layer', progressDetail: {} });
  w.status({ id: 'b', status: 'Pulling fs layer', progressDetail: {} });
  assert.equal(
    out,
    '\n\x1b[1A\x1b[2K\ra: Pulling fs layer \r\x1b[1B' + '\n\x1b[1A\x1b[2K\rb: Pulling fs layer \r\x1b[1B',
  );
  out = '';
  for (let i = 1; i <= 100; i++)
    w.status({ id: 'a', status: 'Downloading', progressDetail: { current: i, total: 100 } });
  assert.equal(out, '', 'progress waits for the next redraw');
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(
    out,
    '\x1b[2A\x1b[2K\ra: Downloading     100B/100B\r\x1b[2B',
    'only the newest progress is drawn',
  );
  out = '';
  w.status({ id: 'b', status: 'Pull complete', progressDetail: {} });
  w.close();
  assert.equal(out, '\x1b[1A\x1b[2K\rb: Pull complete \r\x1b[1B');
});
