// Safe in-root path resolution: symlinks are followed as the container would see them, never out.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readFileInRoot, resolveInRoot } from '../../../src/common/index.ts';

const base = mkdtempSync(path.join(tmpdir(), 'skiff-inroot-'));
after(() => rmSync(base, { recursive: true, force: true }));
const root = path.join(base, 'root');
const outside = path.join(base, 'outside');
mkdirSync(path.join(root, 'etc', 'real'), { recursive: true });
mkdirSync(outside);
writeFileSync(path.join(outside, 'secret'), 'host secret\n');
writeFileSync(path.join(root, 'etc', 'real', 'file'), 'inside\n');
writeFileSync(path.join(root, 'secret'), 'root secret\n');

test('plain paths, dot and dot-dot stay under the root', () => {
  assert.equal(resolveInRoot(root, '/etc/real/file'), path.join(root, 'etc/real/file'));
  assert.equal(resolveInRoot(root, 'etc/./real/../real/file'), path.join(root, 'etc/real/file'));
  assert.equal(resolveInRoot(root, '/../../../secret'), path.join(root, 'secret'));
  assert.equal(resolveInRoot(root, '/'), root);
});

test('absolute and relative symlinks resolve inside the root, never to the host', () => {
  symlinkSync(outside, path.join(root, 'abs-out'));
  symlinkSync('../../../../outside', path.join(root, 'etc', 'rel-out'));
  symlinkSync('/etc/real', path.join(root, 'etc', 'link'));
  symlinkSync('/secret', path.join(root, 'etc', 'secret-link'));
  assert.equal(resolveInRoot(root, '/abs-out/secret'), path.join(root, outside, 'secret'));
  assert.equal(resolveInRoot(root, '/etc/rel-out/secret'), path.join(root, 'outside', 'secret'));
  assert.equal(resolveInRoot(root, '/etc/link/file'), path.join(root, 'etc/real/file'));
  assert.equal(readFileInRoot(root, '/etc/link/file'), 'inside\n');
  // The link names /secret: the root's, not the host's.
  assert.equal(readFileInRoot(root, '/etc/secret-link'), 'root secret\n');
  assert.equal(readFileInRoot(root, '/abs-out/secret'), undefined);
  assert.equal(readFileInRoot(root, '/etc/rel-out/secret'), undefined);
});

test('a missing component is joined as is; a symlink loop is an error', () => {
  assert.equal(resolveInRoot(root, '/nope/../x/y'), path.join(root, 'x/y'));
  assert.equal(readFileInRoot(root, '/nope/file'), undefined);
  symlinkSync('/loop-b', path.join(root, 'loop-a'));
  symlinkSync('/loop-a', path.join(root, 'loop-b'));
  assert.throws(() => resolveInRoot(root, '/loop-a/x'), /ELOOP/);
});
