// The WorkingDir an image lacks is created inside the rootfs, never through a symlink out of it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createWorkingDir } from '../../../src/engine/index.ts';

const base = mkdtempSync(path.join(tmpdir(), 'skiff-workdir-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('creates missing directories, keeps existing ones, refuses a file', () => {
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'srv'), { recursive: true });
  writeFileSync(path.join(root, 'file'), '');
  createWorkingDir(root, '/srv/a/b');
  assert.ok(statSync(path.join(root, 'srv/a/b')).isDirectory());
  createWorkingDir(root, '/srv');
  createWorkingDir(root, undefined);
  assert.throws(() => createWorkingDir(root, '/file'), /Cannot mkdir: \/file is not a directory/);
  assert.throws(() => createWorkingDir(root, '/file/sub'), /Cannot mkdir: \/file\/sub is not a directory/);
});

test('a symlink in the image leads inside the rootfs, not to the host', () => {
  const root = path.join(base, 'hostile');
  const host = path.join(base, 'host');
  mkdirSync(root);
  mkdirSync(host);
  symlinkSync(host, path.join(root, 'escape'));
  createWorkingDir(root, '/escape/made');
  assert.equal(existsSync(path.join(host, 'made')), false);
  assert.ok(statSync(path.join(root, host, 'made')).isDirectory());
});
