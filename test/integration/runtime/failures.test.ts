import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, type TestBundle, uniqueId } from '../../helpers/bundle.ts';
import { cgroupDirsNamed, hostMountsMentioning } from '../../helpers/host.ts';
import { tempDir } from '../../helpers/rootfs.ts';

const { runtime, root, cleanup } = makeRuntime();
after(cleanup);

/** Creates a container that must fail with `pattern`, then checks that nothing of it is left. */
async function assertCreateFails(bundle: TestBundle, pattern: RegExp): Promise<void> {
  const id = uniqueId();
  await assert.rejects(
    runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] }),
    pattern,
  );
  assert.deepEqual(
    readdirSync(root).filter((e) => e === id),
    [],
    'no state directory left',
  );
  assert.deepEqual(cgroupDirsNamed(bundle.spec.linux!.cgroupsPath!.slice(1)), [], 'no cgroup left');
  assert.deepEqual(hostMountsMentioning(bundle.dir), [], 'no mount left');
}

test('an invalid config.json names the field', async (t) => {
  const bundle = makeBundle();
  t.after(bundle.cleanup);
  (bundle.spec.linux!.resources as Record<string, unknown>).memory = { limit: 'lots' };
  bundle.save();
  await assertCreateFails(bundle, /linux\.resources\.memory\.limit/);
});

test('config.json that is not JSON is reported with its line', async (t) => {
  const bundle = makeBundle();
  t.after(bundle.cleanup);
  writeFileSync(path.join(bundle.dir, 'config.json'), '{\n  "ociVersion": "1.2.0",\n  oops\n}');
  await assertCreateFails(bundle, /config\.json:3/);
});

test('a missing bundle or rootfs says what is missing', async (t) => {
  const bundle = makeBundle();
  t.after(bundle.cleanup);
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: '/nonexistent/bundle' }),
    /no config\.json in bundle/,
  );
  rmSync(bundle.rootfs, { recursive: true });
  await assertCreateFails(bundle, /rootfs `.*rootfs` does not exist/);
});

test('unknown ids and invalid ids are refused', async () => {
  await assert.rejects(runtime.state('no-such-container'), /does not exist/);
  await assert.rejects(runtime.start('no-such-container'), /does not exist/);
  await assert.rejects(runtime.kill('no-such-container', 'SIGTERM'), /does not exist/);
  await assert.rejects(runtime.delete('no-such-container'), /does not exist/);
  await assert.rejects(runtime.state('../etc'), /invalid container id/);
});

test('a failing mount reports the step, the path and the errno, and leaves nothing', async (t) => {
  const bundle = makeBundle(['/probe', 'pid'], (spec) => {
    spec.mounts!.push({ destination: '/broken', type: 'no-such-fstype', source: 'none' });
  });
  t.after(bundle.cleanup);
  await assertCreateFails(bundle, /mount `\/broken`: ENODEV \(No such device\)/);
});

test('a missing executable fails the create, not the start', async (t) => {
  const bundle = makeBundle(['/no/such/program']);
  t.after(bundle.cleanup);
  await assertCreateFails(bundle, /\/no\/such\/program.*ENOENT|ENOENT.*\/no\/such\/program/);
});

test('a bind source that does not exist is named', async (t) => {
  const bundle = makeBundle(['/probe', 'pid'], (spec) => {
    spec.mounts!.push({ destination: '/x', type: 'bind', source: '/nonexistent/source', options: ['bind'] });
  });
  t.after(bundle.cleanup);
  await assertCreateFails(bundle, /\/nonexistent\/source/);
});

test('a mount destination behind a symlink to the host lands inside the rootfs', async (t) => {
  const absoluteTarget = tempDir('skiff-host-');
  const climbingTarget = tempDir('skiff-host-');
  t.after(absoluteTarget.cleanup);
  t.after(climbingTarget.cleanup);
  const bundle = makeBundle(['/bin/true']);
  t.after(bundle.cleanup);
  // A hostile image: links that point at host directories, absolutely and by climbing.
  symlinkSync(absoluteTarget.dir, path.join(bundle.rootfs, 'absolute'));
  symlinkSync(`../../../../../../../..${climbingTarget.dir}`, path.join(bundle.rootfs, 'escape'));
  for (const host of [absoluteTarget.dir, climbingTarget.dir]) {
    writeFileSync(path.join(host, 'marker'), 'host');
  }
  bundle.spec.mounts!.push(
    { destination: '/escape/sub', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/absolute/sub', type: 'tmpfs', source: 'tmpfs' },
  );
  bundle.save();
  const id = uniqueId();
  const status = await runtime.run({
    id,
    bundle: bundle.dir,
    foreground: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  assert.equal(status, 0);
  for (const host of [absoluteTarget.dir, climbingTarget.dir]) {
    assert.deepEqual(readdirSync(host), ['marker'], `nothing was created or mounted in ${host}`);
    assert.deepEqual(hostMountsMentioning(host), []);
    // The links were followed as if the rootfs were `/`: the targets were made inside it instead.
    assert.ok(existsSync(path.join(bundle.rootfs, host, 'sub')), `${host}/sub was created under the rootfs`);
  }
});

test('a /proc replaced by a symlink cannot redirect the proc mount', async (t) => {
  const host = tempDir('skiff-host-');
  t.after(host.cleanup);
  const bundle = makeBundle(['/probe', 'pid']);
  t.after(bundle.cleanup);
  rmSync(path.join(bundle.rootfs, 'proc'), { recursive: true });
  symlinkSync(host.dir, path.join(bundle.rootfs, 'proc'));
  mkdirSync(path.join(bundle.rootfs, host.dir.slice(1)), { recursive: true });
  await runtime.run({
    id: uniqueId(),
    bundle: bundle.dir,
    foreground: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  assert.deepEqual(readdirSync(host.dir), []);
  assert.deepEqual(hostMountsMentioning(host.dir), []);
});
