import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, runContainer, uniqueId } from '../../helpers/bundle.ts';
import { eventually } from '../../helpers/host.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

test('a new user namespace maps ids as configured', async (t) => {
  const bundle = makeBundle(
    ['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; /probe id'],
    (spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      // sysfs cannot be mounted from a user namespace that does not own the network namespace's.
      spec.mounts = spec.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    },
  );
  t.after(bundle.cleanup);
  // The rootfs must be reachable by the mapped root.
  execFileSync('chown', ['-R', '200000:300000', bundle.rootfs]);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  const numbers = result.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  assert.equal(numbers[0], '0 200000 65536');
  assert.equal(numbers[1], '0 300000 65536');
  assert.match(numbers[2]!, /^uid=0 gid=0/);
});

test('a network namespace is joined by path', async (t) => {
  const name = uniqueId('skiff-test-ns');
  execFileSync('ip', ['netns', 'add', name]);
  t.after(() => execFileSync('ip', ['netns', 'delete', name]));
  const nsPath = `/run/netns/${name}`;
  const bundle = makeBundle(['/probe', 'ns'], (spec) => {
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
    spec.linux!.namespaces.push({ type: 'network', path: nsPath });
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  const net = result.stdout.split('\n').find((l) => l.startsWith('net '));
  assert.equal(net, `net net:[${statSync(nsPath).ino}]`);
});

test('a new time namespace applies the configured offsets', async (t) => {
  const bundle = makeBundle(['/probe', 'cat', '/proc/self/timens_offsets'], (spec) => {
    spec.linux!.namespaces!.push({ type: 'time' });
    spec.linux!.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 3600 } };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  const offsets = result.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).join(' '));
  assert.ok(offsets.includes('monotonic 86400 0'), result.stdout);
  assert.ok(offsets.includes('boottime 3600 0'), result.stdout);
});

test('a user namespace joined by path, with setgroups denied as rootless tools make them', async (t) => {
  // unshare(1) maps root to root and writes "deny" to setgroups, as rootless podman's namespaces have.
  const holder = spawn('unshare', ['--user', '--map-root-user', 'sleep', '60'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  const pid = holder.pid!;
  assert.ok(await eventually(() => readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny'));
  const bundle = makeBundle(
    ['/bin/sh', '-c', 'cat /proc/self/setgroups; /probe id; /probe stat /dev/null'],
    (spec) => {
      spec.linux!.namespaces!.push({ type: 'user', path: `/proc/${pid}/ns/user` });
      // As `runc spec --rootless`: no cgroup mount, and no devpts gid that the namespace does not map.
      spec.mounts = spec.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
      for (const m of spec.mounts)
        if (m.type === 'devpts') m.options = m.options!.filter((o) => o !== 'gid=5');
    },
  );
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  const [setgroups, id, devnull] = result.stdout.trim().split('\n');
  assert.equal(setgroups, 'deny');
  assert.match(id!, /^uid=0 gid=0 euid=0 egid=0 groups=$/);
  // mknod is not allowed there: /dev/null is the host's node, bound.
  assert.match(devnull!, /^char \d+ \d+ \d+ 1 3$/);
});

test('the init is born in its cgroup in every hierarchy; a cgroup namespace is rooted there', async (t) => {
  for (const cgroupns of [false, true]) {
    const bundle = makeBundle(['/bin/sh', '-c', 'cat /proc/self/cgroup'], (spec) => {
      if (cgroupns) spec.linux!.namespaces!.push({ type: 'cgroup' });
    });
    t.after(bundle.cleanup);
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    // v1 controllers (joined through `tasks`) and the cgroup2 hierarchy (clone3 CLONE_INTO_CGROUP) alike.
    const mounted = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').length;
    assert.equal(lines.length, mounted, result.stdout);
    const expected = cgroupns ? '/' : bundle.spec.linux!.cgroupsPath;
    for (const line of lines)
      assert.equal(line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1), expected, line);
  }
});
