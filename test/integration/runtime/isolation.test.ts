import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { defaultSpec, type Spec } from '../../../src/oci/index.ts';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { REPO_ROOT } from '../../helpers/rootfs.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

/** Runs one container with the probe (or any argv) and returns its stdout; fails on a non-zero exit. */
async function inside(args: string[], edit?: (spec: Spec) => void): Promise<string> {
  const bundle = makeBundle(args, edit);
  try {
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, `container failed: ${result.stderr}`);
    return result.stdout;
  } finally {
    bundle.cleanup();
  }
}

test('the process is PID 1 of its own pid namespace', async () => {
  assert.equal((await inside(['/probe', 'pid'])).trim(), '1 0', 'pid 1, parent outside the namespace');
});

test('every new namespace differs from the host, the shared ones do not', async () => {
  const out = await inside(['/probe', 'ns'], (spec) => {
    spec.linux!.namespaces = [
      { type: 'pid' },
      { type: 'mount' },
      { type: 'uts' },
      { type: 'ipc' },
      { type: 'cgroup' },
    ];
  });
  const ns = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  for (const type of ['pid', 'mnt', 'uts', 'ipc', 'cgroup']) {
    assert.notEqual(ns[type], readlinkSync(`/proc/self/ns/${type}`), `${type} namespace is new`);
  }
  assert.equal(ns.net, readlinkSync('/proc/self/ns/net'), 'no network namespace asked: the host one');
});

test('hostname and domainname are set in the new UTS namespace', async () => {
  const out = await inside(['/probe', 'hostname'], (spec) => {
    spec.hostname = 'box-one';
    spec.domainname = 'example.test';
  });
  assert.match(out, /box-one/);
  assert.match(out, /example\.test/);
});

test('the mount table holds the config mounts over the rootfs', async () => {
  const out = await inside(['/probe', 'mountinfo']);
  const targets = out
    .split('\n')
    .map((line) => `${line.split(' ')[4]} ${line.split(' - ')[1]?.split(' ')[0]}`);
  for (const expected of [
    '/ ',
    '/proc proc',
    '/dev tmpfs',
    '/dev/pts devpts',
    '/dev/shm tmpfs',
    '/dev/mqueue mqueue',
    '/sys sysfs',
  ]) {
    assert.ok(
      targets.some((t) => t.startsWith(expected)),
      `${expected} in:\n${targets.join('\n')}`,
    );
  }
  // The old root is gone: no mount point of the host (the repository, the temporary bundle) is listed.
  const mountPoints = out.split('\n').map((line) => line.split(' ')[4] ?? '');
  for (const host of [REPO_ROOT, tmpdir()]) {
    assert.ok(!mountPoints.some((m) => m.startsWith(host)), `no mount point under ${host}`);
  }
});

test('default devices are real device nodes with the right numbers', async () => {
  const out = await inside([
    '/bin/sh',
    '-c',
    'for d in null zero full random urandom tty; do /probe stat /dev/$d; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done',
  ]);
  for (const [name, minor] of [
    ['null', 3],
    ['zero', 5],
    ['full', 7],
    ['random', 8],
    ['urandom', 9],
  ] as const) {
    assert.match(out, new RegExp(`^char 0?666 0 0 1 ${minor}$`, 'm'), `/dev/${name}`);
  }
  assert.match(out, /^pts\/ptmx$/m);
  assert.match(out, /^\/proc\/self\/fd$/m);
  assert.match(out, /^\/proc\/self\/fd\/0\n\/proc\/self\/fd\/1\n\/proc\/self\/fd\/2$/m);
});

test('configured devices are created with their mode and owner', async () => {
  const out = await inside(['/probe', 'stat', '/dev/fuse'], (spec) => {
    spec.linux!.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o640, uid: 7, gid: 8 },
    ];
    // As podman does for --device: the node is created and the device cgroup lets it be used.
    spec.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  });
  assert.equal(out.trim(), 'char 0640 7 8 10 229');
});

test('masked paths are empty and read-only paths refuse writes', async () => {
  // Kernels differ in which of runc's masked paths exist (this one has no /proc/kcore): check every one
  // the host has, from inside (the container's /proc and /sys are the host kernel's).
  const masked = defaultSpec({ rootless: false }).linux!.maskedPaths!.filter((p) => existsSync(p));
  const files = masked.filter((p) => !statSync(p).isDirectory());
  const dirs = masked.filter((p) => statSync(p).isDirectory());
  assert.ok(files.length > 0 && dirs.length > 0, `the host has masked files and directories: ${masked}`);
  const script = [
    ...files.map((f) => `echo "${f} $(wc -c < ${f})"`),
    ...dirs.map((d) => `echo "${d} $(ls -A ${d} | wc -l)"`),
    'echo "hostname $(/probe write /proc/sys/kernel/hostname x)"',
    'echo "bus $(/probe write /proc/bus/x x)"',
  ].join('; ');
  const out = await inside(['/bin/sh', '-c', script]);
  for (const f of files) assert.match(out, new RegExp(`^${f} 0$`, 'm'), `${f} reads as /dev/null`);
  for (const d of dirs) assert.match(out, new RegExp(`^${d} 0$`, 'm'), `${d} is an empty tmpfs`);
  assert.match(out, /^hostname EROFS$/m, '/proc/sys is read-only');
  assert.match(out, /^bus E(ROFS|NOENT|ACCES)$/m, '/proc/bus takes no new file');
});

test('a read-only root refuses writes; tmpfs mounts on it still take them', async () => {
  const out = await inside(
    [
      '/bin/sh',
      '-c',
      'echo "/etc/x $(/probe write /etc/x y)"; echo "/dev/shm/x $(/probe write /dev/shm/x y)"',
    ],
    (spec) => {
      spec.root!.readonly = true;
    },
  );
  assert.match(out, /^\/etc\/x EROFS$/m);
  assert.match(out, /^\/dev\/shm\/x ok$/m);
});

test('sysctl values are written in the container namespaces', async () => {
  const out = await inside(
    ['/probe', 'cat', '/proc/sys/kernel/msgmax', '/proc/sys/net/ipv4/ip_forward'],
    (spec) => {
      spec.linux!.sysctl = { 'kernel.msgmax': '12345', 'net.ipv4.ip_forward': '1' };
    },
  );
  assert.deepEqual(out.trim().split('\n'), ['12345', '1']);
});

test('user, groups, umask, cwd, env and rlimits of the process', async () => {
  const out = await inside(
    ['/bin/sh', '-c', '/probe id; /probe umask; /probe cwd; echo "FOO=$FOO"; /probe rlimit NOFILE'],
    (spec) => {
      spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 6], umask: 0o027 };
      spec.process!.cwd = '/home/user';
      spec.process!.env!.push('FOO=bar baz');
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
    },
  );
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^uid=1000 gid=1000 euid=1000 egid=1000 groups=5,6$/);
  assert.equal(lines[1], '0027');
  assert.equal(lines[2], '/home/user');
  assert.equal(lines[3], 'FOO=bar baz');
  assert.equal(lines[4], '321 654');
});

test('oomScoreAdj is applied', async () => {
  const out = await inside(['/probe', 'cat', '/proc/self/oom_score_adj'], (spec) => {
    spec.process!.oomScoreAdj = 500;
  });
  assert.equal(out.trim(), '500');
});

test('bind mounts: read-only directories, single files, sources relative to the bundle', async (t) => {
  const bundle = makeBundle([
    '/bin/sh',
    '-c',
    'cat /data/hello.txt /one-file; echo "/data/new $(/probe write /data/new x)"',
  ]);
  t.after(bundle.cleanup);
  mkdirSync(path.join(bundle.dir, 'data'));
  writeFileSync(path.join(bundle.dir, 'data', 'hello.txt'), 'hello\n');
  bundle.spec.mounts!.push(
    { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] },
    { destination: '/one-file', type: 'bind', source: 'data/hello.txt', options: ['bind'] },
  );
  bundle.save();
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^hello\nhello\n/);
  assert.match(result.stdout, /^\/data\/new EROFS$/m);
  assert.ok(!existsSync(path.join(bundle.dir, 'data', 'new')));
});

test('rootfsPropagation: shared and private roots both pivot, and the flag is applied to the root', async () => {
  const rootLine =
    'while read id parent dev root mp opts rest; do if [ "$mp" = / ]; then echo "$opts $rest"; fi; done < /proc/self/mountinfo';
  for (const [propagation, expected] of [
    ['shared', /shared:\d+/],
    ['rshared', /shared:\d+/],
    ['private', /^rw\S* - /],
    ['rslave', /^rw\S* (master:\d+ )?- /],
  ] as const) {
    const out = await inside(['/bin/sh', '-c', rootLine], (spec) => {
      spec.linux!.rootfsPropagation = propagation;
    });
    assert.match(out.trim(), expected, `${propagation}: ${out}`);
  }
});
