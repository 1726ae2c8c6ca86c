import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import {
  compileExecPlan,
  compilePlan,
  compileProcessSteps,
  encodePlan,
  type PlanStep,
} from '../../../../src/runtime/plan/index.ts';

function spec(): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/srv', user: { uid: 7, gid: 8 }, args: ['/bin/sh'], env: ['PATH=/bin'] },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'mount' },
        { type: 'user' },
        { type: 'uts' },
      ],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    },
  };
}

const ops = (steps: PlanStep[]) => steps.map((s) => s.op);

test('create: a terminal is the first process step, after the pivot, with the console size', () => {
  const s = spec();
  s.process!.terminal = true;
  s.process!.consoleSize = { height: 24, width: 80 };
  const plan = compilePlan({
    spec: s,
    bundle: '/b',
    fifo: '/run/x/exec.fifo',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
    consoleSocket: '/run/console.sock',
  });
  assert.equal(plan.setup.consoleSocket, '/run/console.sock');
  const names = ops(plan.steps);
  assert.equal(names.indexOf('terminal'), names.indexOf('pivot') + 1);
  assert.deepEqual(plan.steps[names.indexOf('terminal')], {
    op: 'terminal',
    rows: 24,
    cols: 80,
    uid: 7,
    gid: 8,
    console: true,
  });
});

test('a terminal needs a console socket, and a console socket needs a terminal', () => {
  const proc = spec().process!;
  assert.throws(
    () => compileProcessSteps({ ...proc, terminal: true }, { where: 'process', mountConsole: false }),
    /process.terminal is true: pass --console-socket/,
  );
  assert.throws(
    () => compileProcessSteps(proc, { where: 'process', mountConsole: false, consoleSocket: '/s' }),
    /--console-socket: process.terminal is false/,
  );
});

test('socket activation variables follow the configured environment', () => {
  const steps = compileProcessSteps(spec().process, {
    where: 'process',
    mountConsole: false,
    extraEnv: ['LISTEN_FDS=2', 'LISTEN_PID=1'],
  });
  const env = steps.flatMap((s) => (s.op === 'env' ? [s.entry] : []));
  assert.deepEqual(env, ['PATH=/bin', 'LISTEN_FDS=2', 'LISTEN_PID=1']);
});

test('exec: joins every namespace of the init by /proc/<pid>/ns, user first, and its cgroups; no fifo', () => {
  const s = spec();
  const plan = compileExecPlan({
    spec: s,
    process: { ...s.process!, args: ['/bin/true'], terminal: true },
    initPid: 4242,
    cgroupProcs: ['/sys/fs/cgroup/memory/c/cgroup.procs'],
    preserveFds: 1,
    consoleSocket: '/run/c.sock',
  });
  assert.deepEqual(
    plan.setup.joins.map((j) => j.path),
    ['user', 'mnt', 'pid', 'net', 'uts'].map((t) => `/proc/4242/ns/${t}`),
  );
  assert.equal(plan.setup.cloneFlags, 0);
  assert.equal(plan.setup.fifo, undefined);
  assert.deepEqual(ops(plan.steps), ['terminal', 'user', 'umask', 'cwd', 'env', 'exec']);
  assert.equal((plan.steps[0] as { console: boolean }).console, false, 'no /dev/console for exec');
  const text = encodePlan(plan).toString().split('\0');
  assert.ok(!text.includes('fifo'));
  assert.deepEqual(text.slice(text.indexOf('console-socket'), text.indexOf('console-socket') + 3), [
    'console-socket',
    '1',
    '/run/c.sock',
  ]);
  assert.deepEqual(text.slice(text.indexOf('terminal'), text.indexOf('terminal') + 7), [
    'terminal',
    '5',
    '0',
    '0',
    '7',
    '8',
    'none',
  ]);
});

test('exec and create compile the process identically (one function for both)', () => {
  const s = spec();
  const create = compilePlan({
    spec: { ...s, linux: { namespaces: [{ type: 'mount' }] } },
    bundle: '/b',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
  });
  const exec = compileExecPlan({ spec: s, process: s.process!, initPid: 1, cgroupProcs: [], preserveFds: 0 });
  const tail = create.steps.slice(create.steps.findIndex((st) => st.op === 'user'));
  assert.deepEqual(exec.steps, tail);
});

test('a terminal without a socket is relayed by the shim only in the foreground (console-relay)', () => {
  const s = spec();
  s.process!.terminal = true;
  const relayed = compileExecPlan({
    spec: s,
    process: s.process!,
    initPid: 1,
    cgroupProcs: [],
    preserveFds: 0,
    relayTerminal: true,
  });
  assert.equal(relayed.setup.consoleRelay, true);
  assert.ok(encodePlan(relayed).toString().split('\0').includes('console-relay'));
  assert.throws(
    () => compileExecPlan({ spec: s, process: s.process!, initPid: 1, cgroupProcs: [], preserveFds: 0 }),
    /pass --console-socket/,
  );
  const withSocket = compileExecPlan({
    spec: s,
    process: s.process!,
    initPid: 1,
    cgroupProcs: [],
    preserveFds: 0,
    relayTerminal: true,
    consoleSocket: '/s',
  });
  assert.equal(withSocket.setup.consoleRelay, false, 'a given socket wins');
});
