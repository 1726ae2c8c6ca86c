import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { processLiveness } from '../../../src/common/index.ts';
import { makeBundle, makeRuntime, runContainer, uniqueId } from '../../helpers/bundle.ts';
import { cgroupDirsNamed, eventually, hostMountsMentioning } from '../../helpers/host.ts';

const QUIET = ['ignore', 'ignore', 'ignore'] as const;

test('the OCI lifecycle: created → running → stopped → deleted, nothing left behind', async (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '30']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const id = uniqueId();
  const cgroupName = bundle.spec.linux!.cgroupsPath!.slice(1);
  await runtime.create({ id, bundle: bundle.dir, stdio: QUIET });
  const created = await runtime.state(id);
  assert.equal(created.status, 'created');
  assert.ok(created.pid && created.pid > 0);
  assert.ok(existsSync(`/proc/${created.pid}`), 'the init exists while created');
  assert.equal(created.bundle, bundle.dir);
  assert.ok(cgroupDirsNamed(cgroupName).length > 0, 'the cgroup exists');

  await assert.rejects(runtime.create({ id, bundle: bundle.dir, stdio: QUIET }), /already exists/);

  await runtime.start(id);
  assert.equal((await runtime.state(id)).status, 'running');
  await assert.rejects(runtime.start(id), /running, not created/);
  await assert.rejects(runtime.delete(id), /running; stop it first or use --force/);

  await runtime.kill(id, 'SIGKILL');
  assert.ok(await eventually(async () => (await runtime.state(id)).status === 'stopped'));
  assert.equal((await runtime.state(id)).pid, 0);
  await assert.rejects(runtime.kill(id, 'SIGTERM'), /stopped/);

  await runtime.delete(id);
  await assert.rejects(runtime.state(id), /does not exist/);
  assert.deepEqual(cgroupDirsNamed(cgroupName), []);
  assert.deepEqual(hostMountsMentioning(bundle.dir), []);
});

test('a created container is deleted without --force (as runc), a running one only with it', async (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '30']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const a = uniqueId();
  await runtime.create({ id: a, bundle: bundle.dir, stdio: QUIET });
  const pid = (await runtime.state(a)).pid!;
  await runtime.delete(a);
  assert.ok(await eventually(async () => (await processLiveness(pid)) !== 'alive'));

  const b = uniqueId();
  bundle.spec.linux!.cgroupsPath = `/${b}`;
  bundle.save();
  await runtime.run({ id: b, bundle: bundle.dir, stdio: QUIET });
  assert.equal((await runtime.state(b)).status, 'running');
  await runtime.delete(b, { force: true });
  await assert.rejects(runtime.state(b), /does not exist/);
  assert.deepEqual(cgroupDirsNamed(b), []);
});

test('run in the foreground returns the exit status and removes the container', async (t) => {
  const bundle = makeBundle(['/probe', 'exit', '7']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const id = uniqueId();
  const result = await runContainer(runtime, bundle, id);
  assert.equal(result.status, 7);
  await assert.rejects(runtime.state(id), /does not exist/);
  assert.deepEqual(await runtime.list(), []);
});

test('a container killed by a signal reports 128 + the signal', async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', 'kill -TERM $$; sleep 5']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  // PID 1 of a pid namespace ignores signals it has no handler for, so run outside one.
  bundle.spec.linux!.namespaces = bundle.spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
  bundle.save();
  assert.equal((await runContainer(runtime, bundle)).status, 128 + 15);
});

test('kill takes signal names and numbers; --all reaches every process of the cgroup', async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', '/probe sleep 30 & /probe sleep 30 & wait']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const id = uniqueId();
  await runtime.run({ id, bundle: bundle.dir, stdio: QUIET });
  t.after(() => runtime.delete(id, { force: true }).catch(() => {}));
  await runtime.kill(id, 9, { all: true });
  assert.ok(await eventually(async () => (await runtime.state(id)).status === 'stopped'));
  await runtime.delete(id);
});

test('list shows every container with its status', async (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '30']);
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const a = uniqueId();
  const b = uniqueId();
  await runtime.create({ id: a, bundle: bundle.dir, stdio: QUIET });
  bundle.spec.linux!.cgroupsPath = `/${b}`;
  bundle.save();
  await runtime.run({ id: b, bundle: bundle.dir, stdio: QUIET });
  const states = Object.fromEntries((await runtime.list()).map((s) => [s.id, s.status]));
  assert.deepEqual(states, { [a]: 'created', [b]: 'running' });
  await runtime.delete(a, { force: true });
  await runtime.delete(b, { force: true });
  assert.deepEqual(await runtime.list(), []);
});
