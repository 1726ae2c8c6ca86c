import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import {
  formatRfc3339NanoFixed,
  parseGoDuration,
  parseRfc3339Nano,
  parseTimeArg,
} from '../../../../src/engine/index.ts';

const NOW = new Date('2026-11-23T12:00:00.000Z');

test('Go durations count back from now', () => {
  assert.equal(parseGoDuration('10m'), 600_000);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('-2s'), -2000);
  assert.equal(parseGoDuration('10'), undefined);
  assert.equal(parseGoDuration('m'), undefined);
  assert.deepEqual(parseTimeArg('10m', NOW), new Date('2026-11-23T11:50:00Z'));
  assert.deepEqual(parseTimeArg('1h30m', NOW), new Date('2026-11-23T10:30:00Z'));
});

test('RFC 3339 with a zone, with nanoseconds, and dates', () => {
  assert.deepEqual(parseTimeArg('2026-11-23T10:00:00Z', NOW), new Date('2026-11-23T10:00:00Z'));
  assert.deepEqual(parseTimeArg('2026-11-23T10:00:00+02:00', NOW), new Date('2026-11-23T08:00:00Z'));
  assert.deepEqual(parseTimeArg('2026-11-23T10:00:00.123456789Z', NOW), new Date('2026-11-23T10:00:00.123Z'));
  assert.deepEqual(parseTimeArg('2026-11-23T10:00Z', NOW), new Date('2026-11-23T10:00:00Z'));
});

test('RFC 3339 without a zone is local time, as moby parses it', () => {
  const local = new Date(2026, 10, 23, 10, 0, 0);
  assert.deepEqual(parseTimeArg('2026-11-23T10:00:00', NOW), local);
  assert.deepEqual(parseTimeArg('2026-11-23T10', NOW), local);
  assert.deepEqual(parseTimeArg('2026-11-23', NOW), new Date(2026, 10, 23));
});

test('Unix seconds with an optional fraction', () => {
  assert.deepEqual(parseTimeArg('1700000000', NOW), new Date(1_700_000_000_000));
  assert.deepEqual(parseTimeArg('1700000000.5', NOW), new Date(1_700_000_000_500));
  assert.deepEqual(parseTimeArg('1700000000.000000001', NOW), new Date(1_700_000_000_000));
  assert.deepEqual(parseTimeArg('0', NOW), new Date(0));
});

test('anything else is refused with docker words', () => {
  for (const bad of ['yesterday', '2026-13-01', '2026-11-23T25:00:00Z', '12abc', ''])
    assert.throws(
      () => parseTimeArg(bad, NOW),
      (err: unknown) =>
        err instanceof SkiffError &&
        err.kind === 'InvalidArgument' &&
        err.message === `failed to parse value as time or duration: "${bad}"`,
      bad,
    );
});

test('the log time keeps its nanoseconds for logs -t (RFC3339NanoFixed, nine digits)', () => {
  const t = parseRfc3339Nano('2026-11-23T14:28:21.123456789Z')!;
  assert.deepEqual(t.date, new Date('2026-11-23T14:28:21.123Z'));
  assert.equal(t.subMillisNanos, 456789);
  assert.equal(formatRfc3339NanoFixed(t), '2026-11-23T14:28:21.123456789Z');
  assert.equal(
    formatRfc3339NanoFixed(parseRfc3339Nano('2026-11-23T14:28:21.5Z')!),
    '2026-11-23T14:28:21.500000000Z',
  );
  assert.equal(
    formatRfc3339NanoFixed(parseRfc3339Nano('2026-11-23T14:28:21Z')!),
    '2026-11-23T14:28:21.000000000Z',
  );
  assert.equal(parseRfc3339Nano('2026-11-23T14:28:21'), undefined);
  assert.equal(parseRfc3339Nano('garbage'), undefined);
});
