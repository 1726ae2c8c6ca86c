// `skiff import`, `save`, `load` and `rmi` round trips through bin/skiff, in both archive formats.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeRootfs, REPO_ROOT, tempDir } from '../helpers/rootfs.ts';

const SKIFF = path.join(REPO_ROOT, 'bin', 'skiff');

function skiff(root: string, args: string[], options: { input?: Buffer | string } = {}) {
  const r = spawnSync(SKIFF, ['--root', root, ...args], {
    input: options.input ?? '',
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

test('import a rootfs, save it in both formats, remove it, and load it back', (t) => {
  const work = tempDir('skiff-archives-');
  t.after(work.cleanup);
  const root = path.join(work.dir, 'root');
  const rootfs = makeRootfs(path.join(work.dir, 'rootfs'));
  const tar = path.join(work.dir, 'rootfs.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);

  const imported = skiff(root, [
    'import',
    '--change',
    'CMD ["/bin/sh"]',
    '-m',
    'from a test',
    tar,
    'local/bb:1',
  ]);
  assert.equal(imported.status, 0, imported.stderr);
  const id = imported.stdout.toString().trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.match(skiff(root, ['history', 'local/bb:1']).stdout.toString(), /from a test/);
  // The size is the content's (the uncompressed layer), as docker reports it, whatever the archive.
  const sizeOf = () => skiff(root, ['images', '--format', '{{.Size}}']).stdout.toString().trim();
  const size = sizeOf();
  assert.match(size, /^[0-9.]+MB$/);

  for (const format of ['docker-archive', 'oci-archive']) {
    const file = path.join(work.dir, `${format}.tar`);
    const saved = skiff(root, ['save', '--format', format, '-o', file, 'local/bb:1']);
    assert.equal(saved.status, 0, saved.stderr);
    const removed = skiff(root, ['rmi', 'local/bb:1']);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stdout.toString(), /^Untagged: local\/bb:1$/m);
    assert.equal(skiff(root, ['images', '-q']).stdout.toString(), '', 'no image is left');
    const layers = path.join(root, 'layers');
    assert.ok(!existsSync(layers) || readdirSync(layers).length === 0, 'no unpacked layer is left');
    // From a file, then (the second format) from standard input.
    const loaded =
      format === 'docker-archive'
        ? skiff(root, ['load', '-i', file])
        : skiff(root, ['load'], { input: readFileSync(file) });
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.equal(loaded.stdout.toString(), 'Loaded image: local/bb:1\n');
    assert.equal(skiff(root, ['images', '-q', '--no-trunc']).stdout.toString().trim(), id);
    assert.equal(sizeOf(), size, `${format}: the same size after save and load`);
    if (format === 'docker-archive') {
      // A store that never saw the image measures its layers while loading them.
      const fresh = path.join(work.dir, 'fresh');
      assert.equal(skiff(fresh, ['load', '-i', file]).status, 0);
      assert.equal(skiff(fresh, ['images', '--format', '{{.Size}}']).stdout.toString().trim(), size);
    }
  }
});

test('archive verbs explain wrong input', (t) => {
  const work = tempDir('skiff-archives-');
  t.after(work.cleanup);
  const root = path.join(work.dir, 'root');
  const missing = skiff(root, ['import', path.join(work.dir, 'nope.tar')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no such file or directory/);
  const notAnImage = skiff(root, ['save', '-o', path.join(work.dir, 'x.tar'), 'nothere']);
  assert.equal(notAnImage.status, 1);
  assert.match(notAnImage.stderr, /No such image: nothere/);
  assert.ok(!existsSync(path.join(work.dir, 'x.tar')), 'no half-written archive');
  const badFormat = skiff(root, ['save', '--format', 'zip', 'x']);
  assert.equal(badFormat.status, 125);
  const garbage = skiff(root, ['load'], { input: 'not a tar archive at all' });
  assert.equal(garbage.status, 1);
  assert.notEqual(garbage.stderr, '');
});
