import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainIds, digestOf } from '../../../../src/image/index.ts';

// Expected values computed with sha256sum(1): printf "$A $B" | sha256sum.
test('chain IDs follow the OCI spec: the first is the diff ID, then sha256(parent + " " + diffID)', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((s) => digestOf(s));
  assert.deepEqual(chainIds([a!, b!, c!]), [
    'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb',
    'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676',
    'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106',
  ]);
  assert.deepEqual(chainIds([]), []);
});
