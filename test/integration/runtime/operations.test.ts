import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import type { Spec } from '../../../src/oci/index.ts';
import {
  containerPids,
  pauseContainer,
  psTable,
  resumeContainer,
  updateContainer,
} from '../../../src/runtime/operations.ts';
import {
  makeBundle,
  makeRuntime,
  runContainer,
  runKept,
  type TestBundle,
  uniqueId,
} from '../../helpers/bundle.ts';
import { cgroupDirsNamed, eventually } from '../../helpers/host.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

const MiB = 1024 * 1024;
/** Whether the memory controller is a v1 hierarchy (v1 or hybrid host), as the container then sees it. */
const v1 = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .some((line) => / - cgroup /.test(line) && /[ ,]memory(,|$)/.test(line));

/** A created + started container; removed (forced) after the test. */
async function started(
  t: { after: (fn: () => Promise<void>) => void },
  args: string[],
  edit?: (spec: Spec) => void,
): Promise<{ id: string; bundle: TestBundle; pid: number }> {
  const bundle = makeBundle(args, edit);
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  await runtime.start(id);
  return { id, bundle, pid: (await runtime.state(id)).pid! };
}

/** A shell loop in the container that writes an ever-growing counter into the rootfs. */
const COUNTER = ['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /count; usleep 5000; done'];

function readCount(bundle: TestBundle): number {
  try {
    return Number(readFileSync(path.join(bundle.rootfs, 'count'), 'utf8').trim() || 0);
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('ps lists the host pids of every process in the container', async (t) => {
  const { id, pid } = await started(t, ['/bin/sh', '-c', '/probe sleep 30 & /probe sleep 30 & wait']);
  assert.ok(await eventually(async () => (await containerPids(runtime.store, id)).length === 3));
  const pids = await containerPids(runtime.store, id);
  assert.ok(pids.includes(pid), `the init ${pid} is listed in ${pids}`);
  const pidns = (p: number) => readFileSync(`/proc/${p}/status`, 'utf8').match(/^NSpid:\s+(\d+)\s+(\d+)/m);
  for (const p of pids) {
    // Each is a host pid of a process in the container's pid namespace (it has a second, inner pid).
    assert.equal(pidns(p)?.[1], String(p));
  }
  assert.equal(pidns(pid)?.[2], '1', 'the init is pid 1 inside');
  const table = await psTable(runtime.store, id, ['-o', 'pid,comm']);
  const lines = table.trim().split('\n');
  assert.match(lines[0]!, /PID/);
  assert.equal(lines.length, 4, table);
  assert.ok(lines.slice(1).every((l) => pids.includes(Number(l.trim().split(/\s+/)[0]))));
  assert.ok(lines.some((l) => /probe/.test(l)));
});

test('pause freezes the container, state says paused, resume lets it run again', async (t) => {
  const { id, bundle } = await started(t, COUNTER);
  assert.ok(await eventually(() => readCount(bundle) > 2), 'the counter runs');
  await pauseContainer(runtime.store, id);
  assert.equal((await runtime.state(id)).status, 'paused');
  assert.equal((await runtime.list()).find((s) => s.id === id)?.status, 'paused');
  const frozenAt = readCount(bundle);
  await sleep(300);
  assert.equal(readCount(bundle), frozenAt, 'no progress while paused');
  await assert.rejects(pauseContainer(runtime.store, id), /cannot pause container .*: it is paused/);
  await resumeContainer(runtime.store, id);
  assert.equal((await runtime.state(id)).status, 'running');
  assert.ok(await eventually(() => readCount(bundle) > frozenAt), 'the counter runs again');
  await assert.rejects(
    resumeContainer(runtime.store, id),
    /cannot resume container .*: it is running, not paused/,
  );
});

test('pausing a stopped container is a clear error', async (t) => {
  const { id } = await runKept(runtime, t, ['/probe', 'exit', '0']);
  assert.equal((await runtime.state(id)).status, 'stopped');
  await assert.rejects(pauseContainer(runtime.store, id), (err: unknown) => {
    assert.ok(err instanceof SkiffError);
    assert.equal(err.kind, 'FailedPrecondition');
    assert.match(err.message, /cannot pause container ".*": it is stopped, not running/);
    return true;
  });
});

test('kill SIGKILL and delete --force work on a paused container', async (t) => {
  const first = await started(t, COUNTER);
  await pauseContainer(runtime.store, first.id);
  await runtime.kill(first.id, 'SIGKILL');
  assert.ok(await eventually(async () => (await runtime.state(first.id)).status === 'stopped'), 'killed');
  await runtime.delete(first.id);

  const second = await started(t, COUNTER);
  await pauseContainer(runtime.store, second.id);
  await assert.rejects(runtime.delete(second.id), /it is paused; stop it first or use --force/);
  const begin = Date.now();
  await runtime.delete(second.id, { force: true });
  assert.ok(Date.now() - begin < 5000, 'delete --force does not wait for the kill timeout');
  assert.equal(cgroupDirsNamed(second.bundle.spec.linux!.cgroupsPath!.slice(1)).length, 0);
});

test('update changes the cgroup limits the container sees, and the state records them', async (t) => {
  // The container reports what it sees of its own cgroup files, from the inside.
  const script = v1
    ? 'while :; do cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.shares > /seen.tmp; mv /seen.tmp /seen; usleep 20000; done'
    : 'while :; do cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.weight > /seen.tmp; mv /seen.tmp /seen; usleep 20000; done';
  const { id, bundle } = await started(t, ['/bin/sh', '-c', script], (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 } };
  });
  const seen = () => {
    try {
      return readFileSync(path.join(bundle.rootfs, 'seen'), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };
  assert.ok(await eventually(() => seen()[0] === String(64 * MiB)), `initial limits: ${seen()}`);
  await updateContainer(runtime.store, id, { memory: { limit: 96 * MiB }, pids: { limit: 20 } });
  assert.ok(
    await eventually(() => seen()[0] === String(96 * MiB) && seen()[1] === '20'),
    `updated limits seen inside: ${seen()}`,
  );
  await updateContainer(runtime.store, id, { cpu: { shares: 512 } });
  if (v1) assert.ok(await eventually(() => seen()[2] === '512'), `cpu shares inside: ${seen()}`);
  const record = await runtime.store.read(id);
  assert.equal(record.resources?.memory?.limit, 96 * MiB, 'the second update kept the first');
  assert.equal(record.resources?.pids?.limit, 20);
  assert.equal(record.resources?.cpu?.shares, 512);
  await assert.rejects(
    updateContainer(runtime.store, id, { memory: { limit: 1 } }),
    /rejecting|memory|EBUSY|EINVAL/,
    'a limit below usage is refused',
  );
});

test('run --keep leaves the stopped container for state and delete', async (t) => {
  const { id, bundle, status } = await runKept(runtime, t, ['/probe', 'exit', '3']);
  assert.equal(status, 3);
  assert.equal((await runtime.state(id)).status, 'stopped');
  await runtime.delete(id);
  await assert.rejects(runtime.state(id), /does not exist/);
  // Without --keep the container is gone after the run.
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 3);
});

test('kill --all signals every process of the container, not only the init', async (t) => {
  // The init ignores TERM (sh traps it); its children do not.
  const { id } = await started(t, [
    '/bin/sh',
    '-c',
    "trap '' TERM; /probe sleep 30 & /probe sleep 30 & wait; sleep 30",
  ]);
  assert.ok(await eventually(async () => (await containerPids(runtime.store, id)).length === 3));
  const before = await containerPids(runtime.store, id);
  await runtime.kill(id, 'SIGKILL', { all: true });
  assert.ok(await eventually(async () => (await runtime.state(id)).status === 'stopped'), 'all killed');
  assert.ok(
    await eventually(async () => before.every((p) => !procAlive(p))),
    'every process of the container is gone',
  );
});

function procAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}
