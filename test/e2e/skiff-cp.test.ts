// `skiff cp` through the CLI against real containers: both directions, docker's path rules, -a, -L,
// tar streams on `-`, running and stopped containers, and the refusals: a container's symlink never
// leads to the host, a hostile archive never writes outside its destination.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, removeAllContainers, SKIFF, terminalSession } from '../helpers/engine.ts';

function ok(e: EngineEnv, args: string[], input?: string): string {
  const r = e.skiff(args, input === undefined ? {} : { input });
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `skiff ARGS` with binary stdin/stdout (tar streams). */
function skiffRaw(
  e: EngineEnv,
  args: string[],
  input?: Buffer,
): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(SKIFF, args, { env: e.env, input: input ?? Buffer.alloc(0), timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `tar -tv` of a tar stream, numeric owners: "mode uid/gid name[ -> target]" per entry. */
function tarListing(tarBytes: Buffer): string[] {
  const r = spawnSync('tar', ['--numeric-owner', '-tvf', '-'], { input: tarBytes, encoding: 'buffer' });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(/\s+/);
      return [f[0], f[1], ...f.slice(5)].join(' ');
    });
}

/** A tar built by the host's tar from a directory (`-C dir names…`). */
function hostTar(dir: string, names: string[]): Buffer {
  const r = spawnSync('tar', ['--numeric-owner', '-C', dir, '-cf', '-', ...names], { encoding: 'buffer' });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** Mounts of this engine root (a temporary rootfs mount left by a cp would show here). */
function rootfsMounts(e: EngineEnv): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(path.join(e.root, 'containers')));
}

/**
 * The tree the round trips copy: modes (setgid dir, 0750 file, 0600 file), owners, a relative and an
 * absolute symlink, a hard link pair, an empty directory.
 */
function makeTree(dir: string): void {
  mkdirSync(path.join(dir, 'tree', 'sub', 'empty'), { recursive: true });
  writeFileSync(path.join(dir, 'tree', 'a.txt'), 'alpha\n');
  chmodSync(path.join(dir, 'tree', 'a.txt'), 0o750);
  chownSync(path.join(dir, 'tree', 'a.txt'), 1234, 5678);
  writeFileSync(path.join(dir, 'tree', 'sub', 'secret'), 'beta\n');
  chmodSync(path.join(dir, 'tree', 'sub', 'secret'), 0o600);
  chownSync(path.join(dir, 'tree', 'sub', 'secret'), 4321, 4321);
  chmodSync(path.join(dir, 'tree', 'sub'), 0o2775);
  chownSync(path.join(dir, 'tree', 'sub'), 1000, 1000);
  chmodSync(path.join(dir, 'tree', 'sub', 'empty'), 0o700);
  symlinkSync('a.txt', path.join(dir, 'tree', 'rel-link'));
  symlinkSync('/etc/passwd', path.join(dir, 'tree', 'abs-link'));
  linkSync(path.join(dir, 'tree', 'a.txt'), path.join(dir, 'tree', 'hard'));
  utimesSync(path.join(dir, 'tree', 'a.txt'), 1_000_000_000, 1_000_000_000);
}

/** What a tree looks like from inside the container: `stat` of every entry (mode, owner, links). */
function statInside(e: EngineEnv, c: string, dir: string): string[] {
  const out = ok(e, [
    'exec',
    c,
    'sh',
    '-c',
    `cd ${dir} && find . | sort | xargs stat -c '%n %A %u:%g %h %Y'`,
  ]);
  return out.split('\n').filter(Boolean);
}

function statHost(dir: string, names: string[]): string[] {
  return names.map((n) => {
    const st = lstatSync(path.join(dir, n));
    return `${n} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.nlink}`;
  });
}

test('skiff cp', async (t) => {
  const e = await engineEnv(t);
  const host = mkdtempSync(path.join(tmpdir(), 'skiff-cp-host-'));
  t.after(() => rmSync(host, { recursive: true, force: true }));
  makeTree(host);
  ok(e, ['run', '-d', '--name', 'box', 'busybox', 'sleep', '1000']);

  await t.test('host -> container with -a keeps modes, owners, links and times', () => {
    ok(e, ['cp', '-a', path.join(host, 'tree'), 'box:/tmp/']);
    assert.deepEqual(statInside(e, 'box', '/tmp/tree'), [
      `. drwxr-xr-x 0:0 3 ${String(Math.floor(lstatSync(path.join(host, 'tree')).mtimeMs / 1000))}`,
      './a.txt -rwxr-x--- 1234:5678 2 1000000000',
      `./abs-link lrwxrwxrwx 0:0 1 ${Math.floor(lstatSync(path.join(host, 'tree', 'abs-link')).mtimeMs / 1000)}`,
      './hard -rwxr-x--- 1234:5678 2 1000000000',
      `./rel-link lrwxrwxrwx 0:0 1 ${Math.floor(lstatSync(path.join(host, 'tree', 'rel-link')).mtimeMs / 1000)}`,
      `./sub drwxrwsr-x 1000:1000 3 ${Math.floor(lstatSync(path.join(host, 'tree', 'sub')).mtimeMs / 1000)}`,
      `./sub/empty drwx------ 0:0 2 ${Math.floor(lstatSync(path.join(host, 'tree', 'sub', 'empty')).mtimeMs / 1000)}`,
      `./sub/secret -rw------- 4321:4321 1 ${Math.floor(lstatSync(path.join(host, 'tree', 'sub', 'secret')).mtimeMs / 1000)}`,
    ]);
    // One inode for the hard link pair, the symlinks' targets as they were.
    const inodes = ok(e, ['exec', 'box', 'stat', '-c', '%i', '/tmp/tree/a.txt', '/tmp/tree/hard']).split(
      '\n',
    );
    assert.equal(inodes[0], inodes[1]);
    assert.equal(
      ok(e, ['exec', 'box', 'sh', '-c', 'readlink /tmp/tree/rel-link; readlink /tmp/tree/abs-link']),
      'a.txt\n/etc/passwd\n',
    );
    assert.equal(ok(e, ['exec', 'box', 'cat', '/tmp/tree/rel-link']), 'alpha\n');
  });

  await t.test('host -> container without -a: everything owned by the container root', () => {
    ok(e, ['cp', path.join(host, 'tree'), 'box:/tmp/plain']);
    const owners = ok(e, ['exec', 'box', 'sh', '-c', 'find /tmp/plain | xargs stat -c %u:%g | sort -u']);
    assert.equal(owners, '0:0\n');
    assert.equal(
      ok(e, ['exec', 'box', 'stat', '-c', '%a', '/tmp/plain/sub/secret', '/tmp/plain/sub']),
      '600\n2775\n',
    );
  });

  await t.test('container -> host: -a keeps owners, without it the copier owns the files', () => {
    const out = path.join(host, 'back-a');
    ok(e, ['cp', '-a', 'box:/tmp/tree', out]);
    const names = ['a.txt', 'hard', 'sub', 'sub/secret', 'sub/empty'];
    assert.deepEqual(statHost(out, names), statHost(path.join(host, 'tree'), names));
    assert.equal(lstatSync(path.join(out, 'a.txt')).ino, lstatSync(path.join(out, 'hard')).ino);
    assert.equal(lstatSync(path.join(out, 'a.txt')).mtimeMs, 1_000_000_000_000);
    assert.equal(readlinkSync(path.join(out, 'rel-link')), 'a.txt');
    assert.equal(readlinkSync(path.join(out, 'abs-link')), '/etc/passwd');
    assert.equal(readFileSync(path.join(out, 'sub', 'secret'), 'utf8'), 'beta\n');
    const plain = path.join(host, 'back-plain');
    ok(e, ['cp', 'box:/tmp/tree', plain]);
    assert.equal(lstatSync(path.join(plain, 'a.txt')).uid, process.getuid!());
    assert.equal(lstatSync(path.join(plain, 'sub', 'secret')).gid, process.getgid!());
    assert.equal(lstatSync(path.join(plain, 'sub', 'secret')).mode & 0o7777, 0o600);
  });

  await t.test("docker's path rules: into a directory, onto a new name, `dir/.`, and their errors", () => {
    const into = path.join(host, 'into');
    mkdirSync(into);
    ok(e, ['cp', 'box:/tmp/tree/sub', into]);
    assert.ok(existsSync(path.join(into, 'sub', 'secret')));
    ok(e, ['cp', 'box:/tmp/tree/sub/.', into]);
    assert.ok(existsSync(path.join(into, 'secret')), 'dir/. copies the contents');
    ok(e, ['cp', 'box:/tmp/tree/a.txt', path.join(into, 'renamed')]);
    assert.equal(readFileSync(path.join(into, 'renamed'), 'utf8'), 'alpha\n');
    // An existing file is replaced.
    writeFileSync(path.join(into, 'old'), 'old\n');
    ok(e, ['cp', 'box:/tmp/tree/a.txt', path.join(into, 'old')]);
    assert.equal(readFileSync(path.join(into, 'old'), 'utf8'), 'alpha\n');
    ok(e, ['cp', `${path.join(host, 'tree', 'sub')}/.`, 'box:/tmp/contents']);
    assert.equal(ok(e, ['exec', 'box', 'ls', '/tmp/contents']), 'empty\nsecret\n');

    const fail = (args: string[], stderr: string) => {
      const r = e.skiff(args);
      assert.deepEqual({ status: r.status, stderr: r.stderr }, { status: 1, stderr }, args.join(' '));
    };
    fail(
      ['cp', 'box:/nope', into],
      'Error response from daemon: Could not find the file /nope in container box\n',
    );
    fail(
      ['cp', 'box:/tmp/tree', path.join(into, 'old')],
      'Error response from daemon: cannot copy directory\n',
    );
    fail(
      ['cp', 'box:/tmp/tree/a.txt', `${path.join(into, 'missing')}/`],
      'Error response from daemon: no such directory\n',
    );
    fail(
      ['cp', path.join(host, 'tree', 'a.txt'), 'box:/tmp/missing/'],
      'Error response from daemon: no such directory\n',
    );
    fail(['cp', 'box:/a', 'box:/b'], 'copying between containers is not supported\n');
    fail(['cp', '/a', './b:c'], 'must specify at least one container source\n');
    fail(['cp', 'nosuch:/a', into], 'Error response from daemon: No such container: nosuch\n');
  });

  await t.test('cp CONTAINER:SRC - writes a tar, `dir/.` as ./ entries; cp - CONTAINER:DIR reads one', () => {
    const r = skiffRaw(e, ['cp', 'box:/tmp/tree/sub', '-']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(tarListing(r.stdout), [
      'drwxrwsr-x 1000/1000 sub/',
      'drwx------ 0/0 sub/empty/',
      '-rw------- 4321/4321 sub/secret',
    ]);
    const dot = skiffRaw(e, ['cp', 'box:/tmp/tree/.', '-']);
    assert.equal(dot.status, 0, dot.stderr);
    const names = tarListing(dot.stdout).map((l) => l.split(' ').slice(2).join(' '));
    assert.deepEqual(names, [
      './',
      './a.txt',
      './abs-link -> /etc/passwd',
      './hard link to ./a.txt',
      './rel-link -> a.txt',
      './sub/',
      './sub/empty/',
      './sub/secret',
    ]);
    ok(e, ['exec', 'box', 'mkdir', '/tmp/fromtar']);
    const piped = skiffRaw(e, ['cp', '-', 'box:/tmp/fromtar'], dot.stdout);
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(ok(e, ['exec', 'box', 'cat', '/tmp/fromtar/sub/secret']), 'beta\n');
    const notDir = skiffRaw(e, ['cp', '-', 'box:/tmp/tree/a.txt'], dot.stdout);
    assert.equal(
      notDir.stderr,
      'Error response from daemon: destination "box:/tmp/tree/a.txt" must be a directory\n',
    );
  });

  await t.test("-L follows a host symlink given as the source (the copy keeps the link's name)", () => {
    symlinkSync(path.join(host, 'tree', 'a.txt'), path.join(host, 'to-file'));
    symlinkSync(path.join(host, 'tree', 'sub'), path.join(host, 'to-dir'));
    ok(e, ['cp', '-L', path.join(host, 'to-file'), 'box:/tmp/']);
    ok(e, ['cp', '-L', path.join(host, 'to-dir'), 'box:/tmp/']);
    ok(e, ['cp', path.join(host, 'to-file'), 'box:/tmp/as-link']);
    assert.equal(
      ok(e, [
        'exec',
        'box',
        'stat',
        '-c',
        '%n %F',
        '/tmp/to-file',
        '/tmp/to-dir',
        '/tmp/to-dir/secret',
        '/tmp/as-link',
      ]),
      '/tmp/to-file regular file\n/tmp/to-dir directory\n/tmp/to-dir/secret regular file\n/tmp/as-link symbolic link\n',
    );
  });

  await t.test('on a terminal a copy ends with docker\'s "Successfully copied" line, unless -q', async () => {
    const out = path.join(host, 'tty-copy');
    const session = terminalSession(e, ['cp', 'box:/tmp/tree/a.txt', out]);
    assert.equal(await session.exited, 0);
    assert.match(await session.waitFor('Successfully'), /Successfully copied 2\.048kB to \S+tty-copy/);
    const quiet = terminalSession(e, ['cp', '-q', path.join(host, 'tree', 'a.txt'), 'box:/tmp/tty-quiet']);
    assert.equal(await quiet.exited, 0);
    assert.doesNotMatch(await quiet.waitFor(''), /Successfully/);
    assert.equal(ok(e, ['exec', 'box', 'cat', '/tmp/tty-quiet']), 'alpha\n');
  });

  await t.test('fifos and device nodes are copied as nodes, both ways', () => {
    const nodes = path.join(host, 'nodes');
    mkdirSync(path.join(nodes, 'n'), { recursive: true });
    assert.equal(spawnSync('mkfifo', [path.join(nodes, 'n', 'pipe')]).status, 0);
    assert.equal(spawnSync('mknod', [path.join(nodes, 'n', 'null'), 'c', '1', '3']).status, 0);
    const r = skiffRaw(e, ['cp', '-', 'box:/tmp'], hostTar(nodes, ['n']));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      ok(e, ['exec', 'box', 'stat', '-c', '%n %F %t:%T', '/tmp/n/null', '/tmp/n/pipe']),
      '/tmp/n/null character special file 1:3\n/tmp/n/pipe fifo 0:0\n',
    );
    const back = path.join(host, 'nodes-back');
    ok(e, ['cp', 'box:/tmp/n', back]);
    assert.ok(lstatSync(path.join(back, 'pipe')).isFIFO());
    assert.equal(lstatSync(path.join(back, 'null')).rdev, lstatSync('/dev/null').rdev);
  });

  await t.test("a container's symlink to /etc/passwd is the container's file, never the host's", () => {
    const containerPasswd = ok(e, ['exec', 'box', 'cat', '/etc/passwd']);
    assert.notEqual(
      readFileSync('/etc/passwd', 'utf8'),
      containerPasswd,
      'the test needs the files to differ',
    );
    ok(e, [
      'exec',
      'box',
      'sh',
      '-c',
      'ln -s /etc/passwd /tmp/pw && ln -s / /tmp/root && ln -s ../../../../../../etc /tmp/up',
    ]);
    const out = path.join(host, 'links');
    mkdirSync(out);
    ok(e, ['cp', '-L', 'box:/tmp/pw', path.join(out, 'followed')]);
    assert.equal(readFileSync(path.join(out, 'followed'), 'utf8'), containerPasswd);
    ok(e, ['cp', 'box:/tmp/root/etc/passwd', path.join(out, 'through-root')]);
    assert.equal(readFileSync(path.join(out, 'through-root'), 'utf8'), containerPasswd);
    ok(e, ['cp', 'box:/tmp/up/passwd', path.join(out, 'through-up')]);
    assert.equal(readFileSync(path.join(out, 'through-up'), 'utf8'), containerPasswd);
    // Without -L the link itself is copied (pointing where it points, as docker's).
    ok(e, ['cp', 'box:/tmp/pw', path.join(out, 'link')]);
    assert.equal(readlinkSync(path.join(out, 'link')), '/etc/passwd');
    // Writing through the container's links lands in the container.
    const probeName = `skiff-cp-${process.pid}`;
    ok(e, ['cp', path.join(host, 'tree', 'a.txt'), `box:/tmp/root/etc/${probeName}`]);
    ok(e, ['cp', path.join(host, 'tree', 'a.txt'), 'box:/tmp/pw']);
    assert.equal(existsSync(`/etc/${probeName}`), false);
    assert.equal(ok(e, ['exec', 'box', 'cat', `/etc/${probeName}`]), 'alpha\n');
    assert.equal(
      ok(e, ['exec', 'box', 'cat', '/etc/passwd']),
      'alpha\n',
      'the link was followed in the container',
    );
    assert.notEqual(readFileSync('/etc/passwd', 'utf8'), 'alpha\n');
  });

  await t.test('a hostile tar on stdin is refused and writes nothing outside its destination', () => {
    const evil = mkdtempSync(path.join(tmpdir(), 'skiff-cp-evil-'));
    t.after(() => rmSync(evil, { recursive: true, force: true }));
    const victim = path.join(evil, 'victim');
    mkdirSync(victim);
    const make = (name: string, build: (dir: string) => string[]) => {
      const dir = path.join(evil, name);
      mkdirSync(dir);
      return hostTar(dir, build(dir));
    };
    // `../escape` (GNU tar keeps it with -P).
    const dotdot = (() => {
      const dir = path.join(evil, 'dd', 'inner');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(evil, 'dd', 'escape'), 'x');
      const r = spawnSync('tar', ['-P', '-C', dir, '-cf', '-', '../escape'], { encoding: 'buffer' });
      assert.equal(r.status, 0, r.stderr.toString());
      return r.stdout;
    })();
    // A relative link climbing out, then a file through it.
    const climbing = make('climb', (dir) => {
      symlinkSync(`../../../../../../../../..${victim}`, path.join(dir, 'out'));
      return ['out'];
    });
    ok(e, ['exec', 'box', 'mkdir', '-p', '/tmp/drop']);
    for (const [what, bytes, message] of [
      ['..', dotdot, /climbs out of the destination/],
      ['climbing symlink', climbing, /points out of the destination/],
    ] as const) {
      const r = skiffRaw(e, ['cp', '-', 'box:/tmp/drop'], bytes);
      assert.equal(r.status, 1, what);
      assert.match(r.stderr, message, what);
    }
    assert.equal(ok(e, ['exec', 'box', 'ls', '-A', '/tmp/drop', '/tmp']).includes('escape'), false);
    // An absolute link, then a file through it: resolved in the container (where it does not exist).
    const absolute = Buffer.concat([
      make('abs', (dir) => {
        symlinkSync(victim, path.join(dir, 'abs'));
        return ['abs'];
      }),
    ]);
    assert.equal(skiffRaw(e, ['cp', '-', 'box:/tmp/drop'], absolute).status, 0);
    const through = make('through', (dir) => {
      mkdirSync(path.join(dir, 'abs'));
      writeFileSync(path.join(dir, 'abs', 'pwned'), 'pwned');
      return ['abs/pwned'];
    });
    const r = skiffRaw(e, ['cp', '-', 'box:/tmp/drop'], through);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such file or directory/);
    assert.deepEqual(spawnSync('ls', ['-A', victim], { encoding: 'utf8' }).stdout, '');
    assert.equal(existsSync(path.join(evil, 'escape')), false);
  });

  await t.test('a stopped container: its rootfs and volumes, mounted for the copy only', () => {
    ok(e, [
      'run',
      '--name',
      'done',
      '-v',
      'cpvol:/data',
      'busybox',
      'sh',
      '-c',
      'echo root > /made; echo vol > /data/v',
    ]);
    assert.deepEqual(
      rootfsMounts(e).filter((l) => !l.includes(inspectId(e, 'box'))),
      [],
    );
    const out = path.join(host, 'stopped');
    mkdirSync(out);
    ok(e, ['cp', 'done:/made', out]);
    ok(e, ['cp', 'done:/data/v', out]);
    assert.equal(readFileSync(path.join(out, 'made'), 'utf8'), 'root\n');
    assert.equal(readFileSync(path.join(out, 'v'), 'utf8'), 'vol\n');
    ok(e, ['cp', path.join(host, 'tree', 'a.txt'), 'done:/data/in-volume']);
    ok(e, ['cp', path.join(host, 'tree', 'a.txt'), 'done:/in-root']);
    assert.deepEqual(
      rootfsMounts(e).filter((l) => !l.includes(inspectId(e, 'box'))),
      [],
      'the rootfs was unmounted',
    );
    assert.equal(ok(e, ['run', '--rm', '-v', 'cpvol:/data', 'busybox', 'cat', '/data/in-volume']), 'alpha\n');
    ok(e, ['start', '-a', 'done']);
    assert.equal(ok(e, ['cp', 'done:/in-root', '-']).includes('alpha'), true);
  });

  await t.test('a read-only rootfs is not written, a volume of it is', () => {
    ok(e, ['create', '--name', 'ro', '--read-only', '-v', 'rovol:/data', 'busybox', 'true']);
    const r = e.skiff(['cp', path.join(host, 'tree', 'a.txt'), 'ro:/tmp/x']);
    assert.deepEqual(
      [r.status, r.stderr],
      [1, 'Error response from daemon: container rootfs is marked read-only\n'],
    );
    ok(e, ['cp', path.join(host, 'tree', 'a.txt'), 'ro:/data/x']);
  });
  await t.test('rm -f leaves no mounts, cgroups or processes', () => removeAllContainers(e));
});

function inspectId(e: EngineEnv, ref: string): string {
  return ok(e, ['inspect', '-f', '{{.Id}}', ref]).trim();
}
