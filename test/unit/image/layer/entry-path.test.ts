import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import { entryComponents, entryRole } from '../../../../src/image/layer/index.ts';

test('entry names: ./, leading / and empty or . components all mean the same root-relative path', () => {
  assert.deepEqual(entryComponents('./etc/passwd'), ['etc', 'passwd']);
  assert.deepEqual(entryComponents('/etc/passwd'), ['etc', 'passwd']);
  assert.deepEqual(entryComponents('etc//./passwd'), ['etc', 'passwd']);
  assert.deepEqual(entryComponents('usr/bin/'), ['usr', 'bin']);
  assert.deepEqual(entryComponents('./'), []);
  assert.deepEqual(entryComponents('/'), []);
});

test('entry names with a `..` component are refused wherever it appears, naming the entry', () => {
  for (const name of ['../x', 'a/../../x', '/../etc/passwd', 'a/..', 'a/b/../c', '..']) {
    assert.throws(
      () => entryComponents(name),
      (err: unknown) =>
        err instanceof SkiffError && err.kind === 'InvalidArgument' && err.message.includes('`..`'),
      name,
    );
  }
  // `..` inside a longer component is an ordinary name.
  assert.deepEqual(entryComponents('a/..b/c..'), ['a', '..b', 'c..']);
});

test('a NUL byte in a name is refused and shown escaped', () => {
  assert.throws(() => entryComponents('a\0b'), /contains a NUL byte/);
  assert.throws(() => entryComponents('a\0b'), /a\\x00b/);
});

test('whiteout mapping: .wh.<name> hides <name>, .wh..wh..opq is opaque, other .wh..wh. names are AUFS metadata', () => {
  assert.deepEqual(entryRole('.wh.passwd'), { kind: 'whiteout', hidden: 'passwd' });
  assert.deepEqual(entryRole('.wh..bashrc'), { kind: 'whiteout', hidden: '.bashrc' });
  assert.deepEqual(entryRole('.wh..wh..opq'), { kind: 'opaque' });
  assert.deepEqual(entryRole('.wh..wh.plnk'), { kind: 'aufs-metadata' });
  assert.deepEqual(entryRole('passwd'), { kind: 'plain' });
  assert.deepEqual(entryRole('x.wh.y'), { kind: 'plain' });
  for (const bad of ['.wh.', '.wh..', '.wh...']) {
    assert.throws(() => entryRole(bad), /names no file/, bad);
  }
});
