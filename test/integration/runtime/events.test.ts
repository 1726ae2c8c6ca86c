import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { containerStats, type RuntimeEvent, watchEvents } from '../../../src/runtime/events.ts';
import { features } from '../../../src/runtime/features.ts';
import { makeBundle, makeRuntime, runKept, uniqueId } from '../../helpers/bundle.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

const MiB = 1024 * 1024;

test('events --stats reports the cgroup statistics of a running container in runc shape', async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', '/probe sleep 30 & /probe sleep 30 & wait'], (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * MiB }, pids: { limit: 40 } };
  });
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  await runtime.start(id);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const event = await containerStats(runtime.store, id);
  assert.equal(event.type, 'stats');
  assert.equal(event.id, id);
  if (event.type !== 'stats') return;
  const { data } = event;
  assert.equal(data.pids.current, 3, 'sh and two probes');
  assert.equal(data.pids.limit, 40);
  assert.equal(data.memory.usage.limit, 64 * MiB);
  assert.ok((data.memory.usage.usage ?? 0) > 0, 'memory in use');
  assert.ok(data.cpu.usage.total > 0, 'cpu time used');
  assert.equal(typeof data.memory.raw, 'object');
  assert.ok(Array.isArray(data.blkio.ioServiceBytesRecursive));
  assert.equal(typeof data.hugetlb, 'object');
  // The JSON line is what runc prints: {"type":"stats","id":…,"data":{…}}.
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(event))), ['type', 'id', 'data']);
});

test('events reports an OOM kill and ends when the container stops', async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', 'sleep 0.3; /probe memhog 256; sleep 0.3'], (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 32 * MiB, swap: 32 * MiB } };
  });
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  const events: RuntimeEvent[] = [];
  const watching = watchEvents(runtime.store, id, { intervalMs: 100, onEvent: (e) => events.push(e) });
  await runtime.start(id);
  const begin = Date.now();
  await watching;
  assert.ok(Date.now() - begin < 10_000, 'the watch ended with the container');
  assert.equal((await runtime.state(id)).status, 'stopped');
  assert.deepEqual(
    events.filter((e) => e.type === 'oom'),
    [{ type: 'oom', id }],
    'one OOM kill reported',
  );
  assert.ok(
    events.some((e) => e.type === 'stats'),
    'stats every interval while it ran',
  );
});

test('events of a stopped container is a clear error', async (t) => {
  const { id } = await runKept(runtime, t, ['/probe', 'exit', '0']);
  await assert.rejects(
    containerStats(runtime.store, id),
    /cannot read the stats of container ".*": it is stopped/,
  );
});

test('features describes this host: capabilities from cap_last_cap, cgroup layout, hooks', async () => {
  const doc = await features();
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  assert.equal(doc.linux.capabilities.length, lastCap + 1);
  assert.equal(doc.linux.capabilities[0], 'CAP_CHOWN');
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.equal(doc.linux.cgroup.v1, / - cgroup /.test(mountinfo));
  assert.equal(doc.linux.cgroup.v2, / - cgroup2 /.test(mountinfo));
  assert.equal(doc.linux.cgroup.systemd, false);
  assert.deepEqual(doc.hooks, [
    'prestart',
    'createRuntime',
    'createContainer',
    'startContainer',
    'poststart',
    'poststop',
  ]);
  assert.ok(doc.mountOptions.includes('rbind') && doc.mountOptions.includes('rprivate'));
  assert.ok(doc.linux.namespaces.includes('time'));
  assert.equal(doc.ociVersionMin, '1.0.0');
});
