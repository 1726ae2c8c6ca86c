import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { SkiffError } from '../../../../src/common/index.ts';
import { type ApplyOptions, apply } from '../../../../src/image/layer/index.ts';
import { makeTar, streamOf, type TarEntry } from '../../../helpers/tar.ts';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const base = mkdtempSync(path.join(tmpdir(), 'skiff-layer-unit-'));
after(() => rmSync(base, { recursive: true, force: true }));

/** A fresh layers/ dir and a sibling outside/ dir with a secret that no layer may touch. */
function scene() {
  const dir = mkdtempSync(path.join(base, 'case-'));
  const outside = path.join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret'), 'untouched');
  mkdirSync(path.join(dir, 'layers'));
  const target = path.join(dir, 'layers', 'L');
  const assertOutsideUntouched = () => {
    assert.deepEqual(readdirSync(outside), ['secret']);
    assert.equal(readFileSync(path.join(outside, 'secret'), 'utf8'), 'untouched');
    assert.equal(statSync(path.join(outside, 'secret')).nlink, 1);
  };
  const assertNothingVisible = () => {
    assert.deepEqual(readdirSync(path.join(dir, 'layers')), [], 'no layer and no temporary directory');
    assertOutsideUntouched();
  };
  return { outside, target, assertOutsideUntouched, assertNothingVisible };
}

async function refused(entries: TarEntry[], pattern: RegExp, options: ApplyOptions = {}) {
  const s = scene();
  await assert.rejects(apply(streamOf(await makeTar(entries)), TAR, s.target, options), (err: unknown) => {
    assert.ok(err instanceof SkiffError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
  s.assertNothingVisible();
}

test('an entry with `..` is refused and nothing is written inside or outside', async () => {
  await refused(
    [
      { name: 'ok', content: 'x' },
      { name: '../../outside/pwned', content: 'x' },
    ],
    /contains `\.\.`/,
  );
});

test('absolute entry names land inside the layer, not at the host path', async () => {
  const s = scene();
  await apply(streamOf(await makeTar([{ name: `${s.outside}/secret`, content: 'inside' }])), TAR, s.target);
  assert.equal(readFileSync(path.join(s.target, s.outside, 'secret'), 'utf8'), 'inside');
  s.assertOutsideUntouched();
});

test('a path through a symlink planted by an earlier entry is refused (relative and absolute links)', async () => {
  for (const linkname of ['../../outside', '/tmp', 'sub']) {
    await refused(
      [
        { name: 'sub/', type: 'directory' },
        { name: 'evil', type: 'symlink', linkname },
        { name: 'evil/pwned', content: 'x' },
      ],
      /goes through `evil`, which is a symlink/,
    );
  }
});

test('whiteouts and opaque markers under a planted symlink are refused too', async () => {
  for (const name of ['evil/.wh.secret', 'evil/.wh..wh..opq', 'evil/sub/.wh.x']) {
    await refused(
      [
        { name: 'evil', type: 'symlink', linkname: '../../outside' },
        { name, content: '' },
      ],
      /goes through `evil`, which is a symlink/,
    );
  }
});

test('the root itself can only be a directory', async () => {
  await refused([{ name: './', type: 'symlink', linkname: '/' }], /names the root but is not a directory/);
});

test('a directory replaced by a symlink cannot be written through afterwards', async () => {
  const s = scene();
  await refused(
    [
      { name: 'a/', type: 'directory' },
      { name: 'a', type: 'symlink', linkname: s.outside },
      { name: 'a/secret', content: 'pwned' },
    ],
    /goes through `a`, which is a symlink/,
  );
});

test('a file whose name is a planted symlink replaces the link instead of writing through it', async () => {
  const s = scene();
  const entries: TarEntry[] = [
    { name: 'evil', type: 'symlink', linkname: path.join(s.outside, 'secret') },
    { name: 'evil', content: 'replaced', mode: 0o600 },
  ];
  await apply(streamOf(await makeTar(entries)), TAR, s.target);
  const st = await lstat(path.join(s.target, 'evil'));
  assert.ok(st.isFile());
  assert.equal(readFileSync(path.join(s.target, 'evil'), 'utf8'), 'replaced');
  s.assertOutsideUntouched();
});

test('a non-directory in the middle of a path is refused', async () => {
  await refused(
    [
      { name: 'f', content: 'x' },
      { name: 'f/g', content: 'x' },
    ],
    /goes through `f`, which is not a directory/,
  );
});

test('hard links may point only at earlier files of this layer', async () => {
  const s = scene();
  await refused(
    [{ name: 'h', type: 'link', linkname: path.join(s.outside, 'secret') }],
    /not an earlier file/,
  );
  await refused([{ name: 'h', type: 'link', linkname: '../outside/secret' }], /contains `\.\.`/);
  await refused(
    [
      { name: 'd', type: 'symlink', linkname: s.outside },
      { name: 'h', type: 'link', linkname: 'd/secret' },
    ],
    /not an earlier file/,
  );
  await refused(
    [
      { name: 'dir/', type: 'directory' },
      { name: 'h', type: 'link', linkname: 'dir' },
    ],
    /not an earlier file/,
  );
});

test('a hard link to a planted symlink links the symlink itself, never its target', async () => {
  const s = scene();
  const entries: TarEntry[] = [
    { name: 's', type: 'symlink', linkname: path.join(s.outside, 'secret') },
    { name: 'h', type: 'link', linkname: 's' },
    { name: 'f', content: 'data' },
    { name: 'g', type: 'link', linkname: './f' },
  ];
  await apply(streamOf(await makeTar(entries)), TAR, s.target);
  assert.equal(readlinkSync(path.join(s.target, 'h')), path.join(s.outside, 'secret'));
  assert.equal((await lstat(path.join(s.target, 'h'))).ino, (await lstat(path.join(s.target, 's'))).ino);
  assert.equal((await lstat(path.join(s.target, 'g'))).ino, (await lstat(path.join(s.target, 'f'))).ino);
  s.assertOutsideUntouched();
});

test('a truncated archive fails and leaves nothing visible (plain and gzip)', async () => {
  const tarBuf = await makeTar([
    { name: 'a/', type: 'directory' },
    { name: 'a/big', content: Buffer.alloc(64 * 1024, 7) },
  ]);
  const cut = tarBuf.subarray(0, 512 * 2 + 10_000);
  const s1 = scene();
  await assert.rejects(apply(streamOf(cut), TAR, s1.target), /corrupt or truncated/);
  s1.assertNothingVisible();
  const gz = zlib.gzipSync(tarBuf);
  const s2 = scene();
  await assert.rejects(
    apply(streamOf(gz.subarray(0, gz.length - 20)), `${TAR}+gzip`, s2.target),
    /corrupt or truncated/,
  );
  s2.assertNothingVisible();
});

test('a corrupt tar header fails and leaves nothing visible', async () => {
  const tarBuf = Buffer.from(
    await makeTar([
      { name: 'a', content: 'x' },
      { name: 'b', content: 'y' },
    ]),
  );
  tarBuf[1024 + 10] = 0x41; // inside b's header: its checksum no longer matches
  const s = scene();
  await assert.rejects(apply(streamOf(tarBuf), TAR, s.target), /corrupt or truncated/);
  s.assertNothingVisible();
});

test('a diffID mismatch leaves nothing visible; a match returns the sha256 of the uncompressed tar', async () => {
  const tarBuf = await makeTar([{ name: 'etc/hostname', content: 'skiff\n' }]);
  const diffId = `sha256:${createHash('sha256').update(tarBuf).digest('hex')}`;
  const s = scene();
  await assert.rejects(
    apply(streamOf(zlib.gzipSync(tarBuf)), `${TAR}+gzip`, s.target, {
      expectedDiffId: `sha256:${'0'.repeat(64)}`,
    }),
    /layer diffID is sha256:[0-9a-f]{64}, but the image config says sha256:0000/,
  );
  s.assertNothingVisible();
  for (const [mediaType, blob] of [
    [TAR, tarBuf],
    [`${TAR}+gzip`, zlib.gzipSync(tarBuf)],
    [`${TAR}+zstd`, zlib.zstdCompressSync(tarBuf)],
    ['application/vnd.docker.image.rootfs.diff.tar.gzip', zlib.gzipSync(tarBuf)],
  ] as const) {
    const t = scene();
    const result = await apply(streamOf(blob), mediaType, t.target, { expectedDiffId: diffId });
    assert.equal(result.diffId, diffId, mediaType);
    assert.equal(result.size, tarBuf.length);
    assert.equal(readFileSync(path.join(t.target, 'etc/hostname'), 'utf8'), 'skiff\n');
  }
});

test('entry count and uncompressed size are bounded', async () => {
  const many: TarEntry[] = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x' }));
  await refused(many, /more than 10 entries/, { maxEntries: 10 });
  await refused([{ name: 'big', content: Buffer.alloc(100_000) }], /larger than 50000 bytes uncompressed/, {
    maxBytes: 50_000,
  });
  await refused([{ name: 'big', content: Buffer.alloc(10_000) }], /over the limit of 5000/, {
    maxFileSize: 5000,
  });
  // A gzip bomb is stopped by the uncompressed bound, not by the blob's size.
  const s = scene();
  const bomb = zlib.gzipSync(await makeTar([{ name: 'zeros', content: Buffer.alloc(8 * 1024 * 1024) }]));
  assert.ok(bomb.length < 64 * 1024);
  await assert.rejects(
    apply(streamOf(bomb), `${TAR}+gzip`, s.target, { maxBytes: 1024 * 1024, maxFileSize: 2 ** 40 }),
    /larger than/,
  );
  s.assertNothingVisible();
});

test('an unknown media type or a non-empty target is refused before anything is written', async () => {
  const s = scene();
  await assert.rejects(apply(streamOf(Buffer.alloc(0)), `${TAR}+lz4`, s.target), /tar\+lz4/);
  s.assertNothingVisible();
  mkdirSync(s.target);
  writeFileSync(path.join(s.target, 'x'), '');
  await assert.rejects(apply(streamOf(await makeTar([])), TAR, s.target), /is not empty/);
  assert.deepEqual(readdirSync(path.dirname(s.target)), ['L']);
});

test('long names (PAX and GNU) and modes with setuid, setgid and sticky bits', async () => {
  const s = scene();
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  await apply(
    streamOf(
      await makeTar([
        { name: long, content: 'deep' },
        { name: 'tmp/', type: 'directory', mode: 0o1777 },
        { name: 'suid', content: '', mode: 0o4755 },
        { name: 'sgid', content: '', mode: 0o2711 },
      ]),
    ),
    TAR,
    s.target,
  );
  assert.equal(readFileSync(path.join(s.target, long), 'utf8'), 'deep');
  assert.equal(statSync(path.join(s.target, 'tmp')).mode & 0o7777, 0o1777);
  assert.equal(statSync(path.join(s.target, 'suid')).mode & 0o7777, 0o4755);
  assert.equal(statSync(path.join(s.target, 'sgid')).mode & 0o7777, 0o2711);
});

test("directories' mtimes are set after their contents", async () => {
  const s = scene();
  const dirTime = new Date('2001-02-03T04:05:06Z');
  await apply(
    streamOf(
      await makeTar([
        { name: 'd/', type: 'directory', mtime: dirTime },
        { name: 'd/e/', type: 'directory', mtime: dirTime },
        { name: 'd/e/f', content: 'x' },
        { name: 'd/g', type: 'symlink', linkname: 'e/f' },
      ]),
    ),
    TAR,
    s.target,
  );
  assert.equal(statSync(path.join(s.target, 'd')).mtime.getTime(), dirTime.getTime());
  assert.equal(statSync(path.join(s.target, 'd/e')).mtime.getTime(), dirTime.getTime());
  assert.equal(
    (await lstat(path.join(s.target, 'd/g'))).mtime.getTime(),
    new Date('2020-01-02T03:04:05Z').getTime(),
  );
});

test('two unpackers of one layer: one wins, the other fails with AlreadyExists and leaves no temporary dir', async () => {
  const s = scene();
  const entries: TarEntry[] = Array.from({ length: 50 }, (_, i) => ({ name: `d/f${i}`, content: String(i) }));
  const blob = await makeTar(entries);
  const results = await Promise.allSettled([
    apply(streamOf(blob), TAR, s.target),
    apply(streamOf(blob), TAR, s.target),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  const failure = results.find((r) => r.status === 'rejected');
  assert.ok(
    failure?.reason instanceof SkiffError && failure.reason.kind === 'AlreadyExists',
    String(failure?.reason),
  );
  assert.deepEqual(readdirSync(path.dirname(s.target)), ['L']);
  assert.equal(readdirSync(path.join(s.target, 'd')).length, 50);
});
