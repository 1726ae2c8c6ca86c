// --log-driver / --log-opt as dockerd's json-file driver reads and checks them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logOptions } from '../../../src/engine/index.ts';

test('json-file by default; max-size in bytes, max-file a count', () => {
  assert.deepEqual(logOptions(undefined), { driver: 'json-file', maxFiles: 1 });
  assert.deepEqual(logOptions({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }), {
    driver: 'json-file',
    maxSize: 10_000_000,
    maxFiles: 3,
  });
  assert.deepEqual(logOptions({ Type: 'none' }), { driver: 'none', maxFiles: 1 });
  assert.deepEqual(logOptions({ Config: { 'max-size': '512k', tag: 'x' } }), {
    driver: 'json-file',
    maxSize: 512_000,
    maxFiles: 1,
  });
});

test("refusals worded as dockerd's", () => {
  const refuse = (config: Parameters<typeof logOptions>[0], message: string) =>
    assert.throws(() => logOptions(config), { message });
  refuse({ Type: 'syslog' }, "logger: no log driver named 'syslog' is registered");
  refuse({ Type: 'none', Config: { 'max-size': '1m' } }, 'invalid logging opts for driver none');
  refuse({ Config: { colour: 'red' } }, "unknown log opt 'colour' for json-file log driver");
  refuse({ Config: { 'max-size': 'big' } }, "invalid size: 'big'");
  refuse({ Config: { 'max-size': '0' } }, 'max-size must be a positive number');
  refuse({ Config: { 'max-file': '0' } }, 'max-file cannot be less than 1');
  refuse({ Config: { 'max-file': 'x' } }, 'strconv.Atoi: parsing "x": invalid syntax');
});
