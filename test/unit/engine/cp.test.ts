// docker cp's pieces without a container: the path rules (moby's PrepareArchiveCopy), the in-root walk
// over a real temporary tree, and the extraction's refusals of hostile archives (nothing written
// outside the destination), all as an unprivileged user could run them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import tar from 'tar-stream';
import {
  copyTarget,
  cpEntryComponents,
  extractInto,
  openHostDir,
  packTree,
  sourceBase,
  symlinkEscapes,
  type Tree,
  Walk,
} from '../../../src/engine/index.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-cp-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function treeOf(t: { after: (fn: () => void) => void }, dir: string): Tree {
  const rootFd = openHostDir(dir);
  t.after(() => closeSync(rootFd));
  return { rootFd, mounts: [], label: 'test tree' };
}

type E = { name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string; body?: string };

async function tarOf(entries: E[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries)
    pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

test("copyTarget: docker's rules for where the source lands and under which name", () => {
  const file = { isDir: false, base: 'a.txt' };
  const dir = { isDir: true, base: 'src' };
  const contents = { isDir: true, base: '.' };
  assert.deepEqual(copyTarget(file, { path: '/tmp', exists: true, isDir: true }), {
    dir: '/tmp',
    name: 'a.txt',
  });
  assert.deepEqual(copyTarget(file, { path: '/tmp/b', exists: true, isDir: false }), {
    dir: '/tmp',
    name: 'b',
  });
  assert.deepEqual(copyTarget(file, { path: '/tmp/new', exists: false, isDir: false }), {
    dir: '/tmp',
    name: 'new',
  });
  assert.deepEqual(copyTarget(dir, { path: '/tmp/new/', exists: false, isDir: false }), {
    dir: '/tmp',
    name: 'new',
  });
  assert.deepEqual(copyTarget(contents, { path: '/tmp/d', exists: true, isDir: true }), {
    dir: '/tmp/d',
    name: '.',
  });
  assert.deepEqual(copyTarget(contents, { path: '/tmp/n', exists: false, isDir: false }), {
    dir: '/tmp',
    name: 'n',
  });
  assert.throws(
    () => copyTarget(dir, { path: '/tmp/b', exists: true, isDir: false }),
    /cannot copy directory/,
  );
  assert.throws(
    () => copyTarget(file, { path: '/tmp/n/', exists: false, isDir: false }),
    /no such directory/,
  );
});

test('sourceBase and entry names: `dir/.` is `.`, `..` is refused', () => {
  assert.equal(sourceBase('/etc/hosts'), 'hosts');
  assert.equal(sourceBase('/etc/'), 'etc');
  assert.equal(sourceBase('/etc/.'), '.');
  assert.equal(sourceBase('/'), '.');
  assert.deepEqual(cpEntryComponents('./a//b/./c'), ['a', 'b', 'c']);
  assert.deepEqual(cpEntryComponents('/abs/x'), ['abs', 'x']);
  assert.throws(() => cpEntryComponents('a/../../b'), /climbs out/);
  assert.equal(symlinkEscapes(['a', 'link'], '../b'), false);
  assert.equal(symlinkEscapes(['link'], '../b'), true);
  assert.equal(symlinkEscapes(['a', 'link'], 'x/../../../b'), true);
  assert.equal(symlinkEscapes(['link'], '/etc/passwd'), false, 'absolute: resolved in the tree');
});

test("Walk resolves a tree's symlinks inside the tree: absolute and climbing links stay in it", (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'etc'));
  writeFileSync(path.join(dir, 'etc', 'passwd'), 'inside\n');
  symlinkSync('/etc/passwd', path.join(dir, 'abs'));
  symlinkSync('../../../../etc', path.join(dir, 'up'));
  symlinkSync('/', path.join(dir, 'root'));
  symlinkSync('loop2', path.join(dir, 'loop1'));
  symlinkSync('loop1', path.join(dir, 'loop2'));
  const tree = treeOf(t, dir);
  const read = (p: string) => {
    const walk = new Walk(tree);
    try {
      const leaf = walk.resolve(p, { followLast: true });
      return readFileSync(`/proc/self/fd/${leaf.dir.fd}/${leaf.name}`, 'utf8');
    } finally {
      walk.close();
    }
  };
  assert.equal(read('/abs'), 'inside\n');
  assert.equal(read('up/passwd'), 'inside\n');
  assert.equal(read('/root/root/../../etc/passwd'), 'inside\n');
  const walk = new Walk(tree);
  t.after(() => walk.close());
  assert.equal(walk.resolve('/abs').stat?.isSymbolicLink(), true, 'the last component is not followed');
  assert.throws(() => walk.resolve('/loop1', { followLast: true }), /too many levels of symbolic links/);
  assert.equal(walk.resolve('/missing').stat, undefined);
  assert.throws(() => walk.resolve('/missing/x'), /no such file or directory/);
});

test('extractInto refuses hostile archives and writes nothing outside the destination', async (t) => {
  const base = tempDir(t);
  const dest = path.join(base, 'dest');
  const victim = path.join(base, 'victim');
  mkdirSync(dest);
  mkdirSync(victim);
  const tree = treeOf(t, dest);
  const extract = async (entries: E[]) =>
    extractInto(tree, '/', Readable.from(await tarOf(entries)), { ownership: 'copier' });

  await assert.rejects(extract([{ name: '../escape', body: 'x' }]), /climbs out of the destination/);
  await assert.rejects(
    extract([{ name: 'out', type: 'symlink', linkname: '../victim' }]),
    /points out of the destination/,
  );
  await assert.rejects(
    extract([{ name: 'h', type: 'link', linkname: '../victim/x' }]),
    /climbs out of the destination/,
  );
  // An absolute link is kept (it means the tree's own path) and never followed to the host's.
  await extract([{ name: 'abs', type: 'symlink', linkname: victim }]);
  assert.equal(readlinkSync(path.join(dest, 'abs')), victim);
  await assert.rejects(extract([{ name: 'abs/pwned', body: 'x' }]), /no such file or directory/);
  // A link to the tree's root, then a file through it: lands in the destination itself.
  await extract([
    { name: 'r', type: 'symlink', linkname: '/' },
    { name: 'r/through', body: 'in dest' },
  ]);
  assert.equal(readFileSync(path.join(dest, 'through'), 'utf8'), 'in dest');
  // A directory is not replaced by a file, nor a file by a directory.
  await extract([{ name: 'd', type: 'directory' }]);
  await assert.rejects(extract([{ name: 'd', body: 'x' }]), /cannot overwrite directory/);
  await assert.rejects(extract([{ name: 'through', type: 'directory' }]), /cannot overwrite non-directory/);
  assert.deepEqual(
    [existsSync(path.join(base, 'escape')), existsSync(path.join(victim, 'pwned'))],
    [false, false],
  );
  assert.deepEqual(readdirSync(victim), [], 'nothing was written into the victim directory');
});

test('packTree then extractInto round-trips a tree with a hard link and symlinks', async (t) => {
  const base = tempDir(t);
  const src = path.join(base, 'src');
  mkdirSync(path.join(src, 'sub'), { recursive: true });
  writeFileSync(path.join(src, 'a'), 'alpha');
  linkSync(path.join(src, 'a'), path.join(src, 'sub', 'hard'));
  symlinkSync('../a', path.join(src, 'sub', 'rel'));
  const pack = tar.pack();
  const srcFd = openHostDir(base);
  t.after(() => closeSync(srcFd));
  const filling = packTree(pack, srcFd, 'src', 'copy');
  const out = path.join(base, 'out');
  mkdirSync(out);
  await extractInto(treeOf(t, out), '/', pack as unknown as Readable, { ownership: 'copier' });
  await filling;
  assert.equal(readFileSync(path.join(out, 'copy', 'a'), 'utf8'), 'alpha');
  assert.equal(
    statSync(path.join(out, 'copy', 'a')).ino,
    statSync(path.join(out, 'copy', 'sub', 'hard')).ino,
  );
  assert.equal(readlinkSync(path.join(out, 'copy', 'sub', 'rel')), '../a');
});

test('packTree archives a fifo as a fifo, without opening it (a fifo would block a read)', async (t) => {
  const base = tempDir(t);
  mkdirSync(path.join(base, 'd'));
  const made = spawnSync('mkfifo', [path.join(base, 'd', 'pipe')]);
  assert.equal(made.status, 0);
  const pack = tar.pack();
  const fd = openHostDir(base);
  t.after(() => closeSync(fd));
  const filling = packTree(pack, fd, 'd', 'd');
  const types: string[] = [];
  const extract = tar.extract();
  (pack as unknown as NodeJS.ReadableStream).pipe(extract as unknown as NodeJS.WritableStream);
  for await (const entry of extract) {
    types.push(`${entry.header.name} ${entry.header.type}`);
    entry.resume();
  }
  await filling;
  assert.deepEqual(types, ['d/ directory', 'd/pipe fifo']);
});
