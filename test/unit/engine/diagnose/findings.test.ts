// diagnose's findings from synthetic facts: each threshold on both sides, and a healthy container
// has none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CgroupFacts,
  CPU_THROTTLED_MIN_PERIODS,
  type DiagnoseReport,
  findingsOf,
  type ProcessInfo,
} from '../../../../src/engine/index.ts';

type Facts = Omit<DiagnoseReport, 'findings'>;

function proc(pid: number, overrides: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid,
    nsPid: pid - 99,
    ppid: 1,
    depth: 0,
    command: 'sh',
    args: ['sh'],
    state: 'S',
    threads: 1,
    threadsInD: 0,
    fds: 3,
    nofileLimit: 1024,
    dStateMs: 0,
    zombieMs: 0,
    ...overrides,
  };
}

function cgroup(overrides: Partial<CgroupFacts> = {}): CgroupFacts {
  return {
    layout: 'v2',
    paths: { unified: '/skiff/x' },
    frozen: false,
    memory: {
      version: 2,
      limit: 100 * 2 ** 20,
      reservation: null,
      high: null,
      swapLimit: null,
      usage: 10 * 2 ** 20,
      workingSet: 10 * 2 ** 20,
      peak: 20 * 2 ** 20,
      events: { oom: 0, oomKill: 0, high: 0, max: 0, failcnt: null, underOom: null },
    },
    cpu: {
      version: 2,
      quotaUs: 10_000,
      periodUs: 100_000,
      cpus: 0.1,
      shares: null,
      weight: 100,
      cpuset: null,
      usageNs: 1e9,
      throttling: {
        window: { periods: 20, throttled: 0, ratio: 0 },
        sinceStart: { periods: 200, throttled: 0, ratio: 0 },
        throttledTimeNs: 0,
      },
    },
    pids: { current: 2, max: 100, refusedForks: 0 },
    io: null,
    pressure: { scope: 'cgroup', cpu: null, memory: null, io: null },
    ...overrides,
  };
}

function facts(overrides: Partial<Facts> = {}): Facts {
  const processes = [proc(100, { ppid: 50 }), proc(101, { ppid: 100, depth: 1 })];
  const cg = overrides.cgroup === undefined ? cgroup() : overrides.cgroup;
  return {
    schemaVersion: 1,
    id: 'x'.repeat(64),
    name: 'x',
    image: 'busybox',
    state: 'running',
    sampledAt: '2026-11-23T00:00:00.000Z',
    intervalMs: 2000,
    lastExit: null,
    process: { pid: 100, processes, states: { S: 2 }, threads: 2, observedMs: 2000 },
    namespaces: [],
    cgroup: cg,
    rootfs: null,
    limits: {
      fds: { used: 3, limit: 1024, ratio: 3 / 1024, pid: 100, command: 'sh' },
      pids: { used: 2, limit: 100, ratio: 0.02 },
      memory: { used: 10, limit: 100, ratio: 0.1 },
    },
    ...overrides,
  };
}

const codes = (f: Facts) => findingsOf(f).map((x) => x.code);

test('a healthy container has no findings', () => {
  assert.deepEqual(findingsOf(facts()), []);
});

test('CPU throttling over the window, with the since-start numbers as evidence', () => {
  const cg = cgroup();
  cg.cpu!.throttling.window = { periods: 100, throttled: 38, ratio: 0.38 };
  cg.cpu!.throttling.sinceStart = { periods: 1000, throttled: 500, ratio: 0.5 };
  const [finding] = findingsOf(facts({ cgroup: cg, intervalMs: 10_000 }));
  assert.equal(finding?.code, 'cpu-throttled');
  assert.equal(
    finding?.message,
    'CPU throttled in 38% of periods over the last 10 s: raise --cpus or look at bursts',
  );
  assert.match(finding!.evidence.join('\n'), /nr_throttled 38 of nr_periods 100/);
  assert.match(finding!.evidence.join('\n'), /since start: 500 of 1000 periods \(50%\)/);
});

test('CPU throttling: below the ratio, or too few periods, is no finding; since start alone is one', () => {
  const low = cgroup();
  low.cpu!.throttling.window = { periods: 100, throttled: 24, ratio: 0.24 };
  assert.deepEqual(codes(facts({ cgroup: low })), []);
  const few = cgroup();
  few.cpu!.throttling.window = { periods: CPU_THROTTLED_MIN_PERIODS - 1, throttled: 4, ratio: 1 };
  assert.deepEqual(codes(facts({ cgroup: few })), []);
  const past = cgroup();
  past.cpu!.throttling.window = { periods: 0, throttled: 0, ratio: null };
  past.cpu!.throttling.sinceStart = { periods: 100, throttled: 60, ratio: 0.6 };
  const [finding] = findingsOf(facts({ cgroup: past }));
  assert.match(
    finding?.message ?? '',
    /^CPU throttled in 60% of periods since start \(no periods over the last 2 s\)/,
  );
});

test('OOM kills since start (v2 memory.events, v1 memory.oom_control)', () => {
  const cg = cgroup();
  cg.memory!.events.oomKill = 3;
  const [finding] = findingsOf(facts({ cgroup: cg }));
  assert.equal(finding?.message, '3 OOM kills since start: raise --memory or find what grows');
  assert.equal(finding?.severity, 'error');
  assert.match(finding!.evidence[0]!, /^memory\.events: oom_kill 3$/);
  const v1 = cgroup();
  v1.memory = { ...v1.memory!, version: 1, events: { ...v1.memory!.events, oomKill: 1 } };
  assert.match(findingsOf(facts({ cgroup: v1 }))[0]!.evidence[0]!, /^memory\.oom_control: oom_kill 1$/);
  assert.equal(
    findingsOf(facts({ cgroup: v1 }))[0]!.message,
    '1 OOM kill since start: raise --memory or find what grows',
  );
});

test('memory at or above 90% of the limit', () => {
  const near = facts({ limits: { ...facts().limits!, memory: { used: 94, limit: 100, ratio: 0.94 } } });
  assert.equal(findingsOf(near)[0]?.message, 'memory at 94% of limit: raise --memory or look for a leak');
  const below = facts({ limits: { ...facts().limits!, memory: { used: 89, limit: 100, ratio: 0.89 } } });
  assert.deepEqual(codes(below), []);
  const unlimited = cgroup();
  unlimited.memory!.limit = null;
  assert.deepEqual(
    codes(
      facts({
        cgroup: unlimited,
        limits: { ...facts().limits!, memory: { used: 9, limit: null, ratio: null } },
      }),
    ),
    [],
  );
});

test('zombies: those of PID 1 advise --init; a passing zombie is none', () => {
  const base = facts();
  const zombies = Array.from({ length: 12 }, (_, i) =>
    proc(200 + i, { ppid: 100, state: 'Z', zombieMs: 2000, fds: null, nofileLimit: null }),
  );
  const withZombies = facts({
    process: { ...base.process!, processes: [...base.process!.processes, ...zombies] },
  });
  const [finding] = findingsOf(withZombies);
  assert.equal(finding?.message, '12 zombie processes: PID 1 does not reap children; run with --init');
  const passing = facts({
    process: {
      ...base.process!,
      processes: [...base.process!.processes, proc(300, { ppid: 100, state: 'Z', zombieMs: 250 })],
    },
  });
  assert.deepEqual(codes(passing), []);
  const ofChild = facts({
    process: {
      ...base.process!,
      processes: [...base.process!.processes, proc(300, { ppid: 101, state: 'Z', zombieMs: 2000 })],
    },
  });
  assert.equal(
    findingsOf(ofChild)[0]?.message,
    '1 zombie process: their parent PID 2 (sh) does not wait for them',
  );
});

test('D state: seen in every sample for at least D_STATE_MIN_MS; never for a frozen (paused) cgroup', () => {
  const base = facts({ intervalMs: 5000 });
  const stuck = [
    proc(300, { state: 'D', threadsInD: 1, dStateMs: 5000 }),
    proc(301, { state: 'D', threadsInD: 2, dStateMs: 5000 }),
  ];
  const blocked = facts({ ...base, process: { ...base.process!, observedMs: 5000, processes: stuck } });
  assert.equal(
    findingsOf(blocked)[0]?.message,
    '2 processes in D state for ≥ 5 s: blocked on I/O (a slow disk, a hung network mount)',
  );
  const brief = facts({
    ...base,
    process: {
      ...base.process!,
      observedMs: 5000,
      processes: [proc(300, { state: 'D', threadsInD: 1, dStateMs: 250 })],
    },
  });
  assert.deepEqual(codes(brief), []);
  assert.deepEqual(codes({ ...blocked, cgroup: cgroup({ frozen: true }) }), []);
});

test('fds at or above 90% of RLIMIT_NOFILE; pids near pids.max; refused forks', () => {
  const fds = facts({
    limits: { ...facts().limits!, fds: { used: 58, limit: 64, ratio: 58 / 64, pid: 100, command: 'sh' } },
  });
  assert.equal(
    findingsOf(fds)[0]?.message,
    'fds at 91% of the ulimit: raise --ulimit nofile or look for a leak',
  );
  const cg = cgroup({ pids: { current: 95, max: 100, refusedForks: 4 } });
  const pids = facts({
    cgroup: cg,
    limits: { ...facts().limits!, pids: { used: 95, limit: 100, ratio: 0.95 } },
  });
  assert.deepEqual(codes(pids), ['pids-near-limit', 'forks-refused']);
});

test("pressure: only the container's own cgroup PSI counts, not the host's", () => {
  const line = { avg10: 35, avg60: 10, avg300: 2, totalUs: 1 };
  const own = cgroup({
    pressure: { scope: 'cgroup', cpu: null, memory: { some: line, full: null }, io: null },
  });
  assert.deepEqual(codes(facts({ cgroup: own })), ['memory-pressure']);
  const host = cgroup({
    pressure: {
      scope: 'host',
      cpu: null,
      memory: { some: line, full: null },
      io: { some: line, full: null },
    },
  });
  assert.deepEqual(codes(facts({ cgroup: host })), []);
});

test('a stopped container: only an OOM-killed last run is a finding', () => {
  const stopped = facts({ process: null, cgroup: null, limits: null, state: 'exited' });
  assert.deepEqual(
    findingsOf({ ...stopped, lastExit: { exitCode: 0, oomKilled: false, finishedAt: null, error: null } }),
    [],
  );
  const killed = findingsOf({
    ...stopped,
    lastExit: { exitCode: 137, oomKilled: true, finishedAt: 'x', error: null },
  });
  assert.equal(killed[0]?.code, 'oom-killed');
  assert.match(killed[0]!.message, /exit code 137/);
});
