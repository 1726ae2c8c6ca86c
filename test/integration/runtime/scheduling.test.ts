import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { cgroupDirsNamed } from '../../helpers/host.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

test('process.ioPriority, process.scheduler and linux.personality are what the program sees', async (t) => {
  const bundle = makeBundle(['/probe', 'sched'], (spec) => {
    spec.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    spec.process!.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
    spec.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(
    result.stdout.trim(),
    'ioprio_class=2 ioprio_level=6 policy=3 priority=0 nice=7 personality=0x40008',
  );
});

test('the idle scheduler and I/O class also apply', async (t) => {
  const bundle = makeBundle(['/probe', 'sched'], (spec) => {
    spec.process!.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
    spec.process!.scheduler = { policy: 'SCHED_IDLE' };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /ioprio_class=3 ioprio_level=0 policy=5 /);
});

test('a scheduler the kernel refuses fails the create naming the step, the policy and the errno', async (t) => {
  // SCHED_DEADLINE with a runtime above its deadline is invalid for every caller.
  const bundle = makeBundle(['/probe', 'sched'], (spec) => {
    spec.process!.scheduler = {
      policy: 'SCHED_DEADLINE',
      runtime: 2_000_000,
      deadline: 1_000_000,
      period: 1_000_000,
    };
  });
  t.after(bundle.cleanup);
  await assert.rejects(runContainer(runtime, bundle), /sched: policy 6 .*EINVAL/);
  assert.equal(cgroupDirsNamed(bundle.spec.linux!.cgroupsPath!.slice(1)).length, 0, 'nothing left');
});

test('linux.intelRdt without resctrl is a clear error', {
  skip: existsSync('/sys/fs/resctrl/schemata'),
}, async (t) => {
  const bundle = makeBundle(['/probe', 'pid'], (spec) => {
    spec.linux!.intelRdt = { closID: 'skiff', l3CacheSchema: 'L3:0=ff' };
  });
  t.after(bundle.cleanup);
  await assert.rejects(
    runContainer(runtime, bundle),
    /linux\.intelRdt needs the resctrl filesystem at \/sys\/fs\/resctrl/,
  );
});
