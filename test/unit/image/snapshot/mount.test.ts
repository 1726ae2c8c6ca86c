import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountArguments } from '../../../../src/image/snapshot/index.ts';

test('a spec splits into MS_* flags and the file system data, as mount(8) does', () => {
  assert.deepEqual(
    mountArguments({
      type: 'overlay',
      source: 'overlay',
      options: ['ro', 'nodev', 'index=off', 'lowerdir=/a:/b'],
    }),
    { flags: 0x1 | 0x4, data: 'index=off,lowerdir=/a:/b' },
  );
  assert.deepEqual(mountArguments({ type: 'bind', source: '/l', options: ['rbind', 'ro'] }), {
    flags: 0x1000 | 0x4000 | 0x1,
    data: '',
  });
  assert.deepEqual(mountArguments({ type: 'bind', source: '/l', options: [] }), { flags: 0x1000, data: '' });
  assert.throws(() => mountArguments({ type: 'bind', source: '/l', options: ['mode=755'] }), /`mode=755`/);
});
