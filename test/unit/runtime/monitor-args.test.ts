import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorArgs, oomFileOf } from '../../../src/runtime/monitor.ts';

test('monitor options become the shim command line', () => {
  assert.deepEqual(monitorArgs({ dir: '/run/s/abc' }, undefined), ['--monitor', '/run/s/abc']);
  assert.deepEqual(
    monitorArgs(
      {
        dir: '/d',
        logFile: '/d/ctr.log',
        logMaxSize: 1024,
        logMaxFiles: 3,
        stdin: true,
        exitCommand: ['/bin/skiff', 'cleanup', 'abc'],
      },
      '/sys/fs/cgroup/memory/x/memory.oom_control',
    ),
    [
      '--monitor',
      '/d',
      '--log',
      '/d/ctr.log',
      '--log-max-size',
      '1024',
      '--log-max-files',
      '3',
      '--stdin',
      '--oom-file',
      '/sys/fs/cgroup/memory/x/memory.oom_control',
      '--exit-command',
      '/bin/skiff',
      '--exit-command-arg',
      'cleanup',
      '--exit-command-arg',
      'abc',
    ],
  );
});

test('bad monitor options name the field', () => {
  assert.throws(
    () => monitorArgs({ dir: '/d', logMaxFiles: 0 }, undefined),
    /monitor\.logMaxFiles: must be an integer >= 1/,
  );
  assert.throws(() => monitorArgs({ dir: '/d', logMaxSize: 1.5 }, undefined), /monitor\.logMaxSize/);
  assert.throws(() => monitorArgs({ dir: '/d', exitCommand: [] }, undefined), /monitor\.exitCommand/);
});

test('the OOM counter: v1 memory.oom_control, v2 memory.events, of the memory hierarchy', () => {
  const v1 = { hierarchy: { version: 1 as const, controllers: ['memory'] }, dir: '/sys/fs/cgroup/memory/c' };
  const cpu = {
    hierarchy: { version: 1 as const, controllers: ['cpu', 'cpuacct'] },
    dir: '/sys/fs/cgroup/cpu/c',
  };
  const v2 = { hierarchy: { version: 2 as const, controllers: ['cpu', 'memory'] }, dir: '/sys/fs/cgroup/c' };
  const bare = { hierarchy: { version: 2 as const, controllers: [] }, dir: '/sys/fs/cgroup/unified/c' };
  assert.equal(oomFileOf([cpu, bare, v1]), '/sys/fs/cgroup/memory/c/memory.oom_control');
  assert.equal(oomFileOf([v2]), '/sys/fs/cgroup/c/memory.events');
  assert.equal(oomFileOf([cpu, bare]), undefined);
});

test('the timer becomes --timer, its start interval and period, and the command', () => {
  assert.deepEqual(
    monitorArgs(
      {
        dir: '/d',
        timer: {
          intervalMs: 30_000,
          startIntervalMs: 5000,
          startPeriodMs: 0,
          command: ['/bin/skiff', 'hc', 'abc'],
        },
      },
      undefined,
    ),
    [
      '--monitor',
      '/d',
      '--timer',
      '30000',
      '--timer-start-interval',
      '5000',
      '--timer-start-period',
      '0',
      '--timer-command',
      '/bin/skiff',
      '--timer-command-arg',
      'hc',
      '--timer-command-arg',
      'abc',
    ],
  );
  assert.deepEqual(monitorArgs({ dir: '/d', timer: { intervalMs: 1, command: ['/x'] } }, undefined), [
    '--monitor',
    '/d',
    '--timer',
    '1',
    '--timer-command',
    '/x',
  ]);
  assert.throws(
    () => monitorArgs({ dir: '/d', timer: { intervalMs: 0, command: ['/x'] } }, undefined),
    /monitor\.timer\.intervalMs: must be an integer >= 1/,
  );
  assert.throws(
    () => monitorArgs({ dir: '/d', timer: { intervalMs: 5, command: [] } }, undefined),
    /monitor\.timer\.command/,
  );
});
