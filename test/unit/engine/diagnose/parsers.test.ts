// diagnose's pure readers of kernel text: /proc/PID/stat, limits, cgroup, mountinfo, PSI.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePressure, parseProcCgroup, throttleWindow } from '../../../../src/engine/diagnose/cgroup.ts';
import { collectLimits } from '../../../../src/engine/diagnose/limits.ts';
import { parseNofileLimit, treeOrder } from '../../../../src/engine/diagnose/process.ts';
import { parseKeyed, parseStat } from '../../../../src/engine/diagnose/procfs.ts';
import { overlayDirs, rootMountOf } from '../../../../src/engine/diagnose/rootfs.ts';
import type { ProcessInfo } from '../../../../src/engine/index.ts';

test('parseStat: a command with spaces and parentheses', () => {
  const stat = parseStat(
    '4242 (my (odd) cmd) Z 4200 4242 4242 0 -1 4194564 0 0 0 0 0 0 0 0 20 0 3 0 987654 0 0 18446744073709551615',
  );
  assert.deepEqual(stat, {
    command: 'my (odd) cmd',
    state: 'Z',
    ppid: 4200,
    threads: 3,
    startTime: '987654',
  });
  assert.equal(parseStat(undefined), undefined);
});

test('parseNofileLimit: the soft limit; unlimited is null', () => {
  const limits = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max open files            64                   128                  files',
  ].join('\n');
  assert.equal(parseNofileLimit(limits), 64);
  assert.equal(
    parseNofileLimit('Max open files            unlimited            unlimited            files'),
    null,
  );
  assert.equal(parseNofileLimit(undefined), null);
});

test('parseKeyed: cpu.stat and oom_control lines', () => {
  assert.deepEqual(parseKeyed('nr_periods 38\nnr_throttled 37\nthrottled_time 3302715227\n'), {
    nr_periods: 38,
    nr_throttled: 37,
    throttled_time: 3302715227,
  });
});

test('parseProcCgroup: v1 lines with controllers, the v2 line without', () => {
  assert.deepEqual(parseProcCgroup('4:memory:/skiff/a\n1:cpu,cpuacct:/skiff/a\n0::/skiff/a\n'), [
    { controllers: ['memory'], path: '/skiff/a' },
    { controllers: ['cpu', 'cpuacct'], path: '/skiff/a' },
    { controllers: [], path: '/skiff/a' },
  ]);
});

test('throttleWindow: the ratio of a window; none without periods', () => {
  const before = { periods: 100, throttled: 10, throttledTimeNs: 0 };
  assert.deepEqual(throttleWindow(before, { periods: 150, throttled: 30, throttledTimeNs: 0 }), {
    periods: 50,
    throttled: 20,
    ratio: 0.4,
  });
  assert.deepEqual(throttleWindow(before, before), { periods: 0, throttled: 0, ratio: null });
});

test('parsePressure: some and full lines', () => {
  const psi = parsePressure(
    'some avg10=15.76 avg60=2.84 avg300=0.59 total=3346364\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=12\n',
  );
  assert.deepEqual(psi?.some, { avg10: 15.76, avg60: 2.84, avg300: 0.59, totalUs: 3346364 });
  assert.equal(psi?.full?.avg10, 1);
  assert.equal(parsePressure(undefined), null);
});

test('rootMountOf / overlayDirs: the last mount at /, lowers bottom to top, relative short links', () => {
  const info = [
    '60 46 0:30 / / rw - ext4 /dev/vda rw',
    '70 46 0:39 / / rw,relatime - overlay overlay rw,lowerdir=/l/top:/l/bottom,upperdir=/s/x/upper,workdir=/s/x/work',
    '71 70 0:42 / /proc rw - proc proc rw',
  ].join('\n');
  const mount = rootMountOf(info)!;
  assert.equal(mount.fstype, 'overlay');
  assert.deepEqual(overlayDirs(mount), { lowers: ['/l/bottom', '/l/top'], upper: '/s/x/upper' });
  assert.deepEqual(overlayDirs({ ...mount, options: ['lowerdir=l/a:l/b'], cwd: '/snap' }).lowers, [
    '/snap/l/b',
    '/snap/l/a',
  ]);
  assert.deepEqual(overlayDirs({ fstype: 'bind', source: '/snap/x/rootfs', options: [] }), {
    lowers: [],
    upper: '/snap/x/rootfs',
  });
});

function info(pid: number, ppid: number, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid,
    nsPid: null,
    ppid,
    depth: 0,
    command: 'x',
    args: [],
    state: 'S',
    threads: 1,
    threadsInD: 0,
    fds: 3,
    nofileLimit: 1024,
    dStateMs: 0,
    zombieMs: 0,
    ...extra,
  };
}

test('treeOrder: the init first, children under parents, exec-ed processes (parent outside) as roots', () => {
  const infos = new Map([5, 3, 9, 4].map((pid) => [pid, info(pid, { 5: 3, 3: 1, 9: 2, 4: 3 }[pid]!)]));
  const order = treeOrder(infos, 3).map((p) => [p.pid, p.depth]);
  assert.deepEqual(order, [
    [3, 0],
    [4, 1],
    [5, 1],
    [9, 0],
  ]);
});

test('collectLimits: the process nearest its own RLIMIT_NOFILE', () => {
  const processes = [info(1, 0, { fds: 500, nofileLimit: 4096 }), info(2, 1, { fds: 60, nofileLimit: 64 })];
  const limits = collectLimits(
    { pid: 1, processes, states: {}, threads: 2, observedMs: 0 },
    {
      layout: 'v2',
      paths: {},
      frozen: false,
      memory: null,
      cpu: null,
      pids: { current: 2, max: null, refusedForks: null },
      io: null,
      pressure: { scope: 'unavailable', cpu: null, memory: null, io: null },
    },
  );
  assert.equal(limits.fds?.pid, 2);
  assert.equal(limits.fds?.ratio, 60 / 64);
  assert.deepEqual(limits.pids, { used: 2, limit: null, ratio: null });
  assert.equal(limits.memory, null);
});
