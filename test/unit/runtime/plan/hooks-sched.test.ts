import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import {
  checkIntelRdt,
  compilePlan,
  encodePlan,
  hookStatePayload,
  type PlanStep,
} from '../../../../src/runtime/plan/index.ts';

function spec(edit: (s: Spec) => void = () => {}): Spec {
  const s: Spec = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 1000, gid: 1000 }, args: ['/bin/true'], env: ['PATH=/bin'] },
    linux: { namespaces: [{ type: 'mount' }] },
  };
  edit(s);
  return s;
}

function steps(s: Spec): PlanStep[] {
  return compilePlan({
    spec: s,
    bundle: '/bundle',
    fifo: '/run/c/exec.fifo',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
  }).steps;
}

const ops = (list: PlanStep[]) => list.map((s) => s.op);

test('no hooks: no sync and no hook records', () => {
  const list = steps(spec());
  assert.ok(!ops(list).includes('sync'));
  assert.ok(!ops(list).some((op) => op.startsWith('hook')));
});

test('createRuntime alone: a sync before the pivot and nothing for the init to run', () => {
  const list = steps(spec((s) => (s.hooks = { createRuntime: [{ path: '/h' }] })));
  const sync = ops(list).indexOf('sync');
  assert.ok(sync >= 0 && sync < ops(list).indexOf('pivot'));
  assert.deepEqual(list[sync], { op: 'sync', name: 'createRuntime' });
  assert.ok(!ops(list).includes('hook'));
  assert.deepEqual(list.slice(sync + 1, sync + 3), [
    { op: 'hook-state', when: 'create' },
    { op: 'hook-state', when: 'start' },
  ]);
});

test('the state frames are a decimal byte length, a newline and the JSON', () => {
  assert.equal(hookStatePayload({ a: 'é' }, { b: 1 }), '10\n{"a":"é"}7\n{"b":1}');
});

test('createContainer and startContainer hooks go to the init after the sync and before the pivot', () => {
  const list = steps(
    spec((s) => {
      s.hooks = {
        createContainer: [{ path: '/c', args: ['c', 'x'], env: ['A=1'], timeout: 3 }],
        startContainer: [{ path: '/s' }],
      };
    }),
  );
  const sync = ops(list).indexOf('sync');
  const pivot = ops(list).indexOf('pivot');
  assert.deepEqual(list.slice(sync, pivot), [
    { op: 'sync', name: 'createRuntime' },
    { op: 'hook-state', when: 'create' },
    { op: 'hook-state', when: 'start' },
    { op: 'hook', when: 'now', path: '/c', timeout: 3, args: ['c', 'x'], env: ['A=1'] },
    { op: 'hook', when: 'start', path: '/s', timeout: 0, args: [], env: [] },
  ]);
  const plan = compilePlan({
    spec: spec(
      (x) => (x.hooks = { createContainer: [{ path: '/c', args: ['c', 'x'], env: ['A=1'], timeout: 3 }] }),
    ),
    bundle: '/bundle',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
  });
  const encoded = Buffer.from(encodePlan(plan)).toString();
  // op, argc 7: when, path, timeout, nargs 2, the two args, then the env.
  assert.ok(
    encoded.includes('hook\u00007\u0000now\u0000/c\u00003\u00002\u0000c\u0000x\u0000A=1\u0000'),
    JSON.stringify(encoded),
  );
});

test('a relative hook path or a zero timeout is refused naming the hook', () => {
  assert.throws(
    () => steps(spec((s) => (s.hooks = { createContainer: [{ path: 'rel' }] }))),
    /hooks\.createContainer\[0\]\.path "rel" must be absolute/,
  );
  assert.throws(
    () => steps(spec((s) => (s.hooks = { startContainer: [{ path: '/x', timeout: 0 }] }))),
    /hooks\.startContainer\[0\]\.timeout must be a positive number/,
  );
});

test('ioPriority, scheduler and personality compile before the user switch', () => {
  const list = steps(
    spec((s) => {
      s.process!.ioPriority = { class: 'IOPRIO_CLASS_RT', priority: 2 };
      s.process!.scheduler = {
        policy: 'SCHED_RR',
        priority: 10,
        nice: -3,
        flags: ['SCHED_FLAG_RESET_ON_FORK'],
      };
      s.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] };
    }),
  );
  const user = ops(list).indexOf('user');
  assert.deepEqual(
    list.filter((s) => ['ioprio', 'sched', 'personality'].includes(s.op)),
    [
      { op: 'ioprio', ioClass: 1, level: 2 },
      { op: 'sched', policy: 2, nice: -3, priority: 10, flags: 1n, runtime: 0n, deadline: 0n, period: 0n },
      { op: 'personality', persona: 0x40008 },
    ],
  );
  assert.ok(ops(list).indexOf('personality') < user);
});

test('bad scheduling values are refused naming the field', () => {
  const bad = (edit: (s: Spec) => void, message: RegExp) => assert.throws(() => steps(spec(edit)), message);
  bad(
    (s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_X', priority: 1 }),
    /process\.ioPriority\.class: unknown value "IOPRIO_CLASS_X"/,
  );
  bad(
    (s) => (s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 9 }),
    /process\.ioPriority\.priority: 9 is not 0 to 7/,
  );
  bad(
    (s) => (s.process!.scheduler = { policy: 'SCHED_FIFO' }),
    /process\.scheduler\.priority: 0 is not valid for SCHED_FIFO \(1 to 99\)/,
  );
  bad((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 3 }), /must be 0/);
  bad((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 30 }), /process\.scheduler\.nice: 30/);
  bad(
    (s) => (s.linux!.personality = { domain: 'LINUX64' }),
    /linux\.personality\.domain: unknown value "LINUX64"/,
  );
});

test('intelRdt without resctrl names the missing filesystem', () => {
  const s = spec((x) => (x.linux!.intelRdt = { closID: 'a' }));
  assert.throws(
    () => checkIntelRdt(s, false),
    /linux\.intelRdt needs the resctrl filesystem at \/sys\/fs\/resctrl/,
  );
  assert.doesNotThrow(() => checkIntelRdt(spec(), false));
  assert.doesNotThrow(() => checkIntelRdt(s, true));
});
