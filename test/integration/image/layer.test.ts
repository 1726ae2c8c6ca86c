import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { type ApplyOptions, apply, layerNodesPath } from '../../../src/image/layer/index.ts';
import { hostMountsMentioning } from '../../helpers/host.ts';
import { makeTar, paxRecord, streamOf, type TarEntry } from '../../helpers/tar.ts';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const base = mkdtempSync(path.join(tmpdir(), 'skiff-layer-it-'));
after(() => {
  for (const line of hostMountsMentioning(base)) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint) spawnSync('umount', ['-l', mountPoint]);
  }
  rmSync(base, { recursive: true, force: true });
});

let counter = 0;
async function unpack(entries: TarEntry[], options: ApplyOptions = {}, mediaType = TAR) {
  const dir = path.join(base, `layer-${++counter}`);
  let blob = await makeTar(entries);
  if (mediaType.endsWith('gzip')) blob = zlib.gzipSync(blob);
  if (mediaType.endsWith('zstd')) blob = zlib.zstdCompressSync(blob);
  const result = await apply(streamOf(blob), mediaType, dir, options);
  return { dir, result };
}

/** An xattr of the file itself (not a symlink's target), hex, or undefined when it is absent. */
function getXattr(file: string, name: string): string | undefined {
  const script =
    'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print("-")';
  const out = execFileSync('/usr/bin/python3', ['-c', script, file, name], { encoding: 'utf8' }).trim();
  return out === '-' ? undefined : out;
}

// A v2 file capability: cap_setuid (bit 7) and cap_net_raw (bit 13) permitted and effective; 0x80 is
// not valid UTF-8 on its own, so a decoder that is not byte-exact changes it.
const CAP_NET_RAW = Buffer.from([
  0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);

test('devices, fifos, ownership, setuid and xattrs (binary security.capability) are unpacked as archived', async () => {
  const mtime = new Date('2019-05-06T07:08:09Z');
  const { dir } = await unpack(
    [
      { name: 'dev/', type: 'directory', mode: 0o755, mtime },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660, gid: 6, mtime },
      { name: 'run/fifo', type: 'fifo', mode: 0o640, uid: 1000, gid: 1001, mtime },
      {
        name: 'bin/ping',
        content: 'ELF?',
        mode: 0o4755,
        uid: 1234,
        gid: 5678,
        rawPax: Buffer.concat([
          paxRecord('SCHILY.xattr.security.capability', CAP_NET_RAW),
          paxRecord('SCHILY.xattr.user.note', Buffer.from('hi')),
        ]),
      },
      { name: 'bin/sh', type: 'symlink', linkname: 'ping', uid: 42, gid: 43 },
      {
        name: 'home/u/',
        type: 'directory',
        mode: 0o2750,
        uid: 1000,
        gid: 1000,
        pax: { 'SCHILY.xattr.user.dir': 'd' },
      },
    ],
    {},
    `${TAR}+zstd`,
  );
  const nul = await lstat(path.join(dir, 'dev/null'));
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, 0x103);
  assert.equal(nul.mode & 0o7777, 0o666);
  assert.equal(nul.mtime.getTime(), mtime.getTime());
  const loop = await lstat(path.join(dir, 'dev/loop9'));
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, (7 << 8) | 9);
  assert.equal(loop.gid, 6);
  const fifo = await lstat(path.join(dir, 'run/fifo'));
  assert.ok(fifo.isFIFO());
  assert.deepEqual([fifo.uid, fifo.gid, fifo.mode & 0o7777], [1000, 1001, 0o640]);
  const ping = await lstat(path.join(dir, 'bin/ping'));
  assert.deepEqual(
    [ping.uid, ping.gid, ping.mode & 0o7777],
    [1234, 5678, 0o4755],
    'chown did not drop setuid',
  );
  assert.equal(getXattr(path.join(dir, 'bin/ping'), 'security.capability'), CAP_NET_RAW.toString('hex'));
  assert.match(
    execFileSync('/sbin/getcap', [path.join(dir, 'bin/ping')], { encoding: 'utf8' }),
    /cap_setuid,cap_net_raw[=+]ep/,
  );
  assert.equal(getXattr(path.join(dir, 'bin/ping'), 'user.note'), Buffer.from('hi').toString('hex'));
  const sh = await lstat(path.join(dir, 'bin/sh'));
  assert.deepEqual([sh.uid, sh.gid], [42, 43]);
  const home = await lstat(path.join(dir, 'home/u'));
  assert.deepEqual([home.uid, home.gid, home.mode & 0o7777], [1000, 1000, 0o2750]);
  assert.equal(getXattr(path.join(dir, 'home/u'), 'user.dir'), Buffer.from('d').toString('hex'));
  // /dev's mtime survives the nodes made in it at the end.
  assert.equal((await lstat(path.join(dir, 'dev'))).mtime.getTime(), mtime.getTime());
});

test('a hard link to a device made in the same layer is a device too', async () => {
  const { dir } = await unpack([
    { name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'null2', type: 'link', linkname: 'null' },
  ]);
  const st = await lstat(path.join(dir, 'null2'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 0x103);
});

test('device policy: skip leaves devices out, refuse fails the layer', async () => {
  const entries: TarEntry[] = [
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'fifo', type: 'fifo' },
  ];
  const { dir } = await unpack(entries, { devices: 'skip' });
  assert.equal(existsSync(path.join(dir, 'dev')), false);
  assert.ok((await lstat(path.join(dir, 'fifo'))).isFIFO(), 'fifos need no privilege and are kept');
  await assert.rejects(
    unpack(entries, { devices: 'refuse' }),
    /`dev\/null` is a device node, and devices are refused/,
  );
});

test('whiteouts become 0:0 character devices, .wh..wh..opq an opaque dir; neither is extracted as a file', async () => {
  const { dir } = await unpack([
    { name: 'etc/.wh.passwd', content: '' },
    { name: 'opt/.wh..wh..opq', content: '' },
    { name: 'opt/c', content: 'c' },
  ]);
  const wh = await lstat(path.join(dir, 'etc/passwd'));
  assert.ok(wh.isCharacterDevice());
  assert.deepEqual([wh.rdev, wh.uid, wh.gid], [0, 0, 0]);
  assert.deepEqual(readdirSync(path.join(dir, 'etc')), ['passwd']);
  assert.deepEqual(readdirSync(path.join(dir, 'opt')), ['c']);
  assert.equal(getXattr(path.join(dir, 'opt'), 'trusted.overlay.opaque'), Buffer.from('y').toString('hex'));
});

test('an overlay of unpacked layers hides whited-out files and the lower contents of opaque dirs', async () => {
  const lower = await unpack([
    { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\n' },
    { name: 'opt/a', content: 'a' },
    { name: 'opt/sub/b', content: 'b' },
    { name: 'keep/x', content: 'x' },
    { name: 'fake/a', content: 'a' },
  ]);
  const upper = await unpack([
    { name: 'etc/.wh.passwd', content: '' },
    { name: 'opt/.wh..wh..opq', content: '' },
    { name: 'opt/c', content: 'c' },
    { name: 'keep/y', content: 'y' },
    // An archive's own overlay xattrs are ignored: this directory must not become opaque.
    { name: 'fake/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
  ]);
  const mnt = path.join(base, `mnt-${++counter}`);
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${upper.dir}:${lower.dir}`, mnt]);
  try {
    assert.deepEqual(readdirSync(path.join(mnt, 'etc')), ['group']);
    assert.deepEqual(readdirSync(path.join(mnt, 'opt')), ['c']);
    assert.deepEqual(readdirSync(path.join(mnt, 'keep')).sort(), ['x', 'y']);
    assert.deepEqual(readdirSync(path.join(mnt, 'fake')), ['a']);
    assert.equal(readFileSync(path.join(mnt, 'etc/group'), 'utf8'), 'root:x:0:\n');
  } finally {
    execFileSync('umount', [mnt]);
  }
  assert.deepEqual(hostMountsMentioning(mnt), []);
});

test('gzip and zstd layers give the same tree and the same diffID as the plain tar', async () => {
  const entries: TarEntry[] = [{ name: 'a/b', content: 'same' }];
  const plain = await unpack(entries);
  for (const mediaType of [
    `${TAR}+gzip`,
    `${TAR}+zstd`,
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ]) {
    const other = await unpack(entries, {}, mediaType);
    assert.equal(other.result.diffId, plain.result.diffId, mediaType);
    assert.equal(readFileSync(path.join(other.dir, 'a/b'), 'utf8'), 'same');
  }
});

test('skiff-layer-nodes resolves beneath the layer dir: symlinks and `..` are refused with the errno', () => {
  const dir = mkdtempSync(path.join(base, 'nodes-'));
  const outside = mkdtempSync(path.join(base, 'outside-'));
  mkdirSync(path.join(dir, 'real'));
  symlinkSync(outside, path.join(dir, 'evil'));
  symlinkSync(outside, path.join(dir, 'evil-leaf'));
  const run = (fields: string[]) =>
    spawnSync(layerNodesPath(), [dir], { input: fields.map((f) => `${f}\0`).join(''), encoding: 'utf8' });
  const mknod = (p: string) => ['mknod', p, 'p', '644', '0', '0', '0', '0', '0', '0'];
  let r = run(mknod('evil/x'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /record 0: openat2 `evil\/x`: ELOOP/);
  r = run(mknod('../x'));
  assert.match(r.stderr, /record 0: openat2 `\.\.\/x`: EXDEV/);
  // The last component is never followed: the xattr goes to the symlink itself, where user.* is refused.
  r = run(['setxattr', 'evil-leaf', 'user.x', '79']);
  assert.match(r.stderr, /record 0: setxattr `evil-leaf`: EPERM/);
  assert.equal(getXattr(outside, 'user.x'), undefined);
  r = run([...mknod('real/ok'), 'bogus']);
  assert.match(r.stderr, /record 1: unknown operation/);
  assert.ok(
    (readdirSync(path.join(dir, 'real')) as string[]).includes('ok'),
    'records before the bad one were done',
  );
  assert.deepEqual(readdirSync(outside), []);
  writeFileSync(path.join(dir, 'real', 'f'), '');
  r = run(['setxattr', 'real/f', 'user.x', '7G']);
  assert.match(r.stderr, /lower-case hex/);
});

/** Every entry under `dir`: type, mode, owner, size, device, mtime, link target, xattrs, content hash. */
async function describeTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const xattrScript =
    'import os,sys,json\nr={}\nfor p in sys.argv[1:]:\n  r[p]={n: os.getxattr(p,n,follow_symlinks=False).hex() for n in os.listxattr(p,follow_symlinks=False)}\nprint(json.dumps(r))';
  const names = (await readdir(dir, { recursive: true })).sort();
  const xattrs = JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', xattrScript, dir, ...names.map((n) => path.join(dir, n))], {
      encoding: 'utf8',
    }),
  ) as Record<string, Record<string, string>>;
  for (const name of ['', ...names]) {
    const file = path.join(dir, name);
    const st = await lstat(file);
    const fields = [
      st.mode.toString(8),
      `${st.uid}:${st.gid}`,
      st.isDirectory() ? '-' : String(st.size),
      String(st.rdev),
      String(Math.floor(st.mtimeMs / 1000)),
      st.isSymbolicLink() ? await readlink(file) : '',
      st.isFile() ? createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16) : '',
      JSON.stringify(xattrs[file] ?? {}),
    ];
    out.set(name, fields.join(' '));
  }
  return out;
}

test('a layer written by GNU tar (posix format, xattrs, devices, hard links) unpacks to the same tree', async () => {
  const src = mkdtempSync(path.join(base, 'gnu-src-'));
  const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { cwd: src });
  mkdirSync(path.join(src, 'usr/bin'), { recursive: true });
  writeFileSync(path.join(src, 'usr/bin/tool'), 'binary');
  run('chown', '0:50', 'usr/bin/tool');
  run('chmod', '4750', 'usr/bin/tool');
  run('/usr/sbin/setcap', 'cap_net_bind_service,cap_setuid+ep', 'usr/bin/tool');
  linkSync(path.join(src, 'usr/bin/tool'), path.join(src, 'usr/bin/tool-link'));
  symlinkSync('tool', path.join(src, 'usr/bin/alias'));
  mkdirSync(path.join(src, 'dev'));
  run('mknod', '-m', '620', 'dev/tty9', 'c', '4', '9');
  run('mkfifo', '-m', '600', 'dev/queue');
  mkdirSync(path.join(src, 'srv/data'), { recursive: true });
  run('chown', '-R', '1500:1600', 'srv');
  run('chmod', '3770', 'srv/data');
  const deep = path.join('srv/data', 'n'.repeat(200), 'm'.repeat(200));
  mkdirSync(path.join(src, deep), { recursive: true });
  writeFileSync(path.join(src, deep, 'leaf'), 'deep');
  execFileSync('/usr/bin/python3', [
    '-c',
    'import os,sys; os.setxattr(sys.argv[1], "user.k", b"\\x00\\xffv")',
    path.join(src, 'srv'),
  ]);
  run('touch', '-h', '-d', '2015-03-04 05:06:07', 'usr/bin/alias');
  for (const d of ['usr/bin', 'usr', 'dev', 'srv/data', 'srv', '.'])
    run('touch', '-d', '2016-01-01 00:00:00', d);
  const tarFile = path.join(base, 'gnu-layer.tar');
  execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', tarFile, '-C', src, '.']);
  const diffId = `sha256:${createHash('sha256').update(readFileSync(tarFile)).digest('hex')}`;

  const dir = path.join(base, `layer-${++counter}`);
  const result = await apply(createReadStream(tarFile), TAR, dir, { expectedDiffId: diffId });
  assert.equal(result.diffId, diffId);
  const want = await describeTree(src);
  const got = await describeTree(dir);
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [name, description] of want) assert.equal(got.get(name), description, name);
  assert.equal(
    (await lstat(path.join(dir, 'usr/bin/tool-link'))).ino,
    (await lstat(path.join(dir, 'usr/bin/tool'))).ino,
  );
});
