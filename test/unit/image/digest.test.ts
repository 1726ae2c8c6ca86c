import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf, isDigest, parseDigest } from '../../../src/image/index.ts';

test('sha256 and sha512 digests parse; the empty blob has the well-known digest', () => {
  assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const d512 = digestOf('', 'sha512');
  assert.deepEqual(parseDigest(d512), { algorithm: 'sha512', encoded: d512.slice(7) });
  assert.ok(isDigest(digestOf('x')));
});

test('bad digests are refused with the reason', () => {
  assert.throws(() => parseDigest('sha256'), /invalid checksum digest format/);
  assert.throws(() => parseDigest(`md5:${'a'.repeat(32)}`), /unsupported digest algorithm `md5`/);
  assert.throws(() => parseDigest(`sha256:${'a'.repeat(63)}`), /64 hex digits, not 63/);
  assert.throws(() => parseDigest(`sha512:${'a'.repeat(64)}`), /128 hex digits, not 64/);
  assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`), /lowercase hex/);
  assert.throws(() => parseDigest(`sha256:../../${'a'.repeat(58)}`), /format/);
  assert.equal(isDigest('nope'), false);
});
