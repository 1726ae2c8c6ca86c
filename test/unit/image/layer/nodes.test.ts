import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeNodeOperations } from '../../../../src/image/layer/index.ts';

test('node operations encode as NUL-terminated fields, record after record', () => {
  const encoded = encodeNodeOperations([
    {
      op: 'mknod',
      path: 'dev/null',
      type: 'c',
      perm: 0o4666,
      major: 1,
      minor: 3,
      uid: 0,
      gid: 5,
      mtime: new Date(1_600_000_000_250),
    },
    { op: 'setxattr', path: 'etc', name: 'trusted.overlay.opaque', value: Buffer.from('y') },
  ]);
  assert.equal(
    encoded.toString('utf8'),
    ['mknod', 'dev/null', 'c', '4666', '1', '3', '0', '5', '1600000000', '250000000']
      .concat(['setxattr', 'etc', 'trusted.overlay.opaque', '79'])
      .map((f) => `${f}\0`)
      .join(''),
  );
});
