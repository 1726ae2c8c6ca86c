import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type MountSpec, readSnapshotFile } from '../../../../src/image/index.ts';

const base = mkdtempSync(path.join(tmpdir(), 'skiff-read-file-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** Layer dirs from `{ 'etc/passwd': 'text' | 'whiteout' | 'dir' | { link } }`, top layer first. */
function layers(...trees: Record<string, string | { link: string }>[]): string[] {
  return trees.map((tree) => {
    const dir = path.join(base, `layer${n++}`);
    mkdirSync(dir);
    for (const [file, what] of Object.entries(tree)) {
      const full = path.join(dir, file);
      mkdirSync(path.dirname(full), { recursive: true });
      if (typeof what === 'object') symlinkSync(what.link, full);
      else if (what === 'dir') mkdirSync(full);
      else if (what === 'whiteout') {
        const r = spawnSync('mknod', [full, 'c', '0', '0']);
        if (r.status !== 0) throw new Error(`mknod needs root: ${r.stderr}`);
      } else writeFileSync(full, what);
    }
    return dir;
  });
}

function overlay([upper, ...lowers]: string[]): MountSpec[] {
  return [
    {
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', `lowerdir=${lowers.join(':')}`, `upperdir=${upper}`],
    },
  ];
}

test('overlay: the topmost layer that has the file gives it; layers without the path are passed', () => {
  const dirs = layers({}, { 'bin/sh': 'x' }, { 'etc/passwd': 'lower' });
  assert.deepEqual(readSnapshotFile(overlay(dirs), '/etc/passwd'), { text: 'lower' });
  const upper = layers({ 'etc/passwd': 'upper' }, { 'etc/passwd': 'lower' });
  assert.deepEqual(readSnapshotFile(overlay(upper), '/etc/passwd'), { text: 'upper' });
});

// A whiteout is a 0:0 character device: mknod needs root.
test('overlay: whiteouts delete; a file in no layer is absent', { skip: process.getuid?.() !== 0 }, () => {
  assert.deepEqual(
    readSnapshotFile(overlay(layers({ 'etc/passwd': 'whiteout' }, { 'etc/passwd': 'x' })), '/etc/passwd'),
    {
      text: undefined,
    },
  );
  assert.deepEqual(
    readSnapshotFile(overlay(layers({ etc: 'whiteout' }, { 'etc/passwd': 'x' })), '/etc/passwd'),
    {
      text: undefined,
    },
  );
  assert.deepEqual(
    readSnapshotFile(overlay(layers({ 'etc/hosts': 'h' }, { 'bin/sh': 'x' })), '/etc/passwd'),
    {
      text: undefined,
    },
  );
});

test('overlay: what only a mount can tell is undefined (a maybe-opaque dir above, symlinks)', () => {
  // An upper /etc without passwd may be opaque (an xattr Node cannot read): the lower file may be hidden.
  assert.equal(
    readSnapshotFile(overlay(layers({ 'etc/hostname': '' }, { 'etc/passwd': 'x' })), '/etc/passwd'),
    undefined,
  );
  assert.equal(
    readSnapshotFile(overlay(layers({}, { 'etc/passwd': { link: '/x/passwd' } })), '/etc/passwd'),
    undefined,
  );
  assert.equal(
    readSnapshotFile(overlay(layers({}, { etc: { link: 'private/etc' } })), '/etc/passwd'),
    undefined,
  );
});

test('bind snapshots are read in the directory; relative lowerdirs resolve in cwd; other mounts need a mount', () => {
  const [dir] = layers({ 'etc/passwd': 'bound' });
  assert.deepEqual(
    readSnapshotFile([{ type: 'bind', source: dir!, options: ['rbind', 'rw'] }], '/etc/passwd'),
    { text: 'bound' },
  );
  const [upper, lower] = layers({}, { 'etc/group': 'g' });
  const relative: MountSpec = {
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${path.basename(lower!)}`, `upperdir=${upper}`],
    cwd: base,
  };
  assert.deepEqual(readSnapshotFile([relative], '/etc/group'), { text: 'g' });
  assert.equal(readSnapshotFile([relative, relative], '/etc/group'), undefined);
  assert.equal(readSnapshotFile([{ type: 'tmpfs', source: 'tmpfs', options: [] }], '/etc/group'), undefined);
});
