// Docker's byte sizes (go-units RAMInBytes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHumanSize, ramInBytes } from '../../../src/common/index.ts';

test('binary units in any case, with or without b / ib, a space, a fraction', () => {
  const cases: [string, number][] = [
    ['512', 512],
    ['100b', 100],
    ['64k', 65536],
    ['64K', 65536],
    ['512m', 512 * 2 ** 20],
    ['512MB', 512 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1GiB', 2 ** 30],
    ['1.5k', 1536],
    ['2 m', 2 * 2 ** 20],
    ['1t', 2 ** 40],
  ];
  for (const [text, bytes] of cases) assert.equal(ramInBytes(text), bytes, text);
});

test("anything else is go-units' invalid size", () => {
  for (const text of ['', 'm', '-1', '1x', '1.2.3m', 'lots', '1 gb b'])
    assert.throws(() => ramInBytes(text), { message: `invalid size: '${text}'` }, text);
});

test('FromHumanSize counts in powers of 1000', () => {
  assert.equal(fromHumanSize('10m'), 10_000_000);
  assert.equal(fromHumanSize('1.5KB'), 1500);
  assert.equal(fromHumanSize('2g'), 2e9);
  assert.throws(() => fromHumanSize('-1'), { message: "invalid size: '-1'" });
});
