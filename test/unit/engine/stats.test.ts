// `stats`' readings and figures: the cgroup files of v1, v2 and the hybrid layout (written into
// temporary directories shaped as each), and docker's CPU %, memory and I/O computations.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { bytesSize, statsRow } from '../../../src/cli/commands/container/stats.ts';
import {
  blkioV1Bytes,
  type CgroupSample,
  type Container,
  computeStats,
  cpuPercent,
  ioStatV2Bytes,
  memoryLimit,
  memoryUsageNoCache,
  netDevBytes,
  type StatsSample,
  sampleCgroup,
  systemCpuNsOf,
} from '../../../src/engine/index.ts';
import type { CgroupDir } from '../../../src/runtime/index.ts';

function tempDirs(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-stats-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function cgroupDir(
  root: string,
  version: 1 | 2,
  controllers: string[],
  files: Record<string, string>,
): CgroupDir {
  const dir = path.join(root, `${version}-${controllers.join(',') || 'unified'}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  const key = version === 2 ? 'unified' : controllers.join(',');
  return {
    hierarchy: { version, mountpoint: dir, root: '/', ownPath: '/', key, controllers },
    path: '/c',
    dir,
  };
}

test('v1 (and hybrid): every controller from its own hierarchy', (t) => {
  const root = tempDirs(t);
  const dirs = [
    cgroupDir(root, 1, ['cpu'], {
      'cpu.stat': 'nr_periods 40\nnr_throttled 30\nthrottled_time 2500000000\n',
    }),
    cgroupDir(root, 1, ['cpuacct'], { 'cpuacct.usage': '123456789\n' }),
    cgroupDir(root, 1, ['memory'], {
      'memory.usage_in_bytes': '10485760\n',
      'memory.limit_in_bytes': '9223372036854771712\n',
      'memory.stat': 'cache 4096\ninactive_file 100\ntotal_inactive_file 2097152\n',
    }),
    cgroupDir(root, 1, ['blkio'], {
      'blkio.io_service_bytes_recursive': 'Total 0\n',
      'blkio.bfq.io_service_bytes_recursive': 'Total 0\n',
      'blkio.throttle.io_service_bytes_recursive':
        '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n8:16 Read 1\n8:16 Write 2\nTotal 12291\n',
    }),
    cgroupDir(root, 1, ['pids'], { 'pids.current': '6\n', 'pids.max': 'max\n' }),
    // The hybrid layout's cgroup2 mount: no controllers, and never read for them.
    cgroupDir(root, 2, [], { 'cpu.stat': 'usage_usec 999\n' }),
  ];
  const s = sampleCgroup(dirs);
  assert.equal(s.cpuNs, 123456789);
  assert.deepEqual([s.periods, s.throttledPeriods, s.throttledNs], [40, 30, 2.5e9]);
  assert.equal(s.memoryUsage, 10485760);
  assert.equal(s.memoryLimit, Number('9223372036854771712'), 'the unlimited v1 limit, as read');
  assert.equal(s.memoryStat.total_inactive_file, 2097152);
  assert.deepEqual([s.blockRead, s.blockWrite], [4097, 8194]);
  assert.equal(s.pids, 6);
  assert.equal(s.pidsLimit, undefined);
  assert.deepEqual(s.versions, { cpu: 1, memory: 1, io: 1, pids: 1 });
});

test('v2: one directory, microseconds, memory.max and io.stat', (t) => {
  const root = tempDirs(t);
  const dirs = [
    cgroupDir(root, 2, ['cpu', 'memory', 'io', 'pids'], {
      'cpu.stat':
        'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300\n',
      'memory.current': '5242880\n',
      'memory.max': '67108864\n',
      'memory.stat': 'anon 1000\nfile 4096\ninactive_file 1048576\n',
      'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2\n',
      'pids.current': '3\n',
      'pids.max': '100\n',
    }),
  ];
  const s = sampleCgroup(dirs);
  assert.equal(s.cpuNs, 2_000_000);
  assert.deepEqual([s.periods, s.throttledPeriods, s.throttledNs], [10, 4, 300_000]);
  assert.equal(s.memoryUsage, 5242880);
  assert.equal(s.memoryLimit, 67108864);
  assert.deepEqual([s.blockRead, s.blockWrite], [101, 202]);
  assert.deepEqual([s.pids, s.pidsLimit], [3, 100]);
  assert.deepEqual(s.versions, { cpu: 2, memory: 2, io: 2, pids: 2 });
  // memory.max "max": no limit.
  writeFileSync(path.join(dirs[0]!.dir, 'memory.max'), 'max\n');
  assert.equal(sampleCgroup(dirs).memoryLimit, undefined);
  // Nothing there at all: zeros, not errors.
  assert.equal(sampleCgroup([]).cpuNs, 0);
});

test("parsers: blkio ops by their first letter (docker's calculateBlockIO), io.stat, /proc/stat", () => {
  assert.deepEqual(blkioV1Bytes('8:0 Read 10\n8:0 write 5\n8:0 Total 15\n8:0 Async 7\n'), {
    read: 10,
    write: 5,
  });
  assert.deepEqual(ioStatV2Bytes('253:0 rbytes=7 wbytes=9 rios=1'), { read: 7, write: 9 });
  // user nice system idle iowait irq softirq (steal, guest not counted), in 1/100 s.
  const stat = 'cpu  100 1 50 1000 10 2 3 99 0 0\ncpu0 50 0 25 500 5 1 1 0 0 0\nintr 1\n';
  assert.equal(systemCpuNsOf(stat), 1166 * 1e7);
  assert.throws(() => systemCpuNsOf('cpu 1 2\n'), /fewer than 7 fields/);
});

const cg = (over: Partial<CgroupSample>): CgroupSample => ({
  cpuNs: 0,
  periods: 0,
  throttledPeriods: 0,
  throttledNs: 0,
  memoryUsage: 0,
  memoryStat: {},
  blockRead: 0,
  blockWrite: 0,
  pids: 0,
  versions: { cpu: 1, memory: 1, io: 1, pids: 1 },
  ...over,
});
const sample = (over: Partial<CgroupSample>, systemCpuNs: number): StatsSample => ({
  at: 0,
  cgroup: cg(over),
  systemCpuNs,
  onlineCpus: 2,
  hostMemory: 8 * 1024 ** 3,
});

test("CPU %: the container's share of the host's CPU time between readings × online CPUs", () => {
  const a = sample({ cpuNs: 1e9 }, 100e9);
  // 0.5 s of the container's CPU over 2 s of host CPU time (1 s wall on 2 CPUs): 25% × 2 = 50%.
  const b = sample({ cpuNs: 1.5e9 }, 102e9);
  assert.equal(cpuPercent(a, b), 50);
  assert.equal(cpuPercent(undefined, b), 0, 'no earlier reading: 0');
  assert.equal(cpuPercent(b, a), 0, 'no negative deltas');
});

test('memory: usage without the inactive file cache, the limit capped at the host memory', () => {
  assert.equal(memoryUsageNoCache(10_000, { total_inactive_file: 4000, inactive_file: 10 }), 6000);
  assert.equal(memoryUsageNoCache(10_000, { inactive_file: 3000 }), 7000);
  assert.equal(memoryUsageNoCache(10_000, { total_inactive_file: 20_000, inactive_file: 1000 }), 9000);
  assert.equal(memoryUsageNoCache(10_000, {}), 10_000);
  assert.equal(memoryLimit(undefined, 8e9), 8e9);
  assert.equal(memoryLimit(2 ** 63, 8e9), 8e9);
  assert.equal(memoryLimit(64 * 1024 ** 2, 8e9), 64 * 1024 ** 2);
  const s = computeStats(undefined, sample({ memoryUsage: 32 * 1024 ** 2, memoryLimit: 64 * 1024 ** 2 }, 0));
  assert.equal(s.memoryPercent, 50);
});

test('throttling: the share of periods throttled; none without periods', () => {
  const s = computeStats(undefined, sample({ periods: 40, throttledPeriods: 30, throttledNs: 1.25e9 }, 0));
  assert.equal(s.throttledPercent, 75);
  assert.equal(computeStats(undefined, sample({}, 0)).throttledPercent, undefined);
});

test("the CLI's row: docker's units and columns, zeros for a container that does not run", () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(332 * 1024), '332KiB');
  assert.equal(bytesSize(64 * 1024 ** 2), '64MiB');
  assert.equal(bytesSize(2048000), '1.953MiB');
  assert.equal(bytesSize(25_274_548_224), '23.54GiB');
  const container = { id: 'ab'.repeat(32), name: 'web' } as Container;
  const stats = computeStats(
    sample({ cpuNs: 0 }, 0),
    sample(
      {
        cpuNs: 0.25e9,
        memoryUsage: 2048000,
        memoryLimit: 64 * 1024 ** 2,
        blockRead: 4096,
        blockWrite: 12_500_000,
        pids: 3,
        periods: 8,
        throttledPeriods: 2,
        throttledNs: 1_234_567_890,
      },
      2e9,
    ),
  );
  assert.deepEqual(
    { ...statsRow({ ref: 'web', container, stats }, true) },
    {
      BlockIO: '4.1kB / 12.5MB',
      CPUPerc: '25.00%',
      Container: 'web',
      ID: 'abababababab',
      MemPerc: '3.05%',
      MemUsage: '1.953MiB / 64MiB',
      Name: 'web',
      NetIO: '0B / 0B',
      PIDs: '3',
      Periods: '8',
      Throttled: '25.00% (1.235s)',
      ThrottledPeriods: '2',
      ThrottledTime: '1.235s',
    },
  );
  const stopped = statsRow({ ref: 'web', container }, false);
  assert.equal(stopped.ID, container.id);
  assert.deepEqual(
    [stopped.CPUPerc, stopped.MemUsage, stopped.MemPerc, stopped.BlockIO, stopped.PIDs, stopped.Throttled],
    ['0.00%', '0B / 0B', '0.00%', '0B / 0B', '0', '--'],
  );
});

test("network: the namespace's interfaces from /proc/PID/net/dev, loopback left out", () => {
  const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0
  eth0:    4900      40    0    0    0     0          0         0     3710      35    0    0    0     0       0          0
  eth1:100 1 0 0 0 0 0 0 20 1 0 0 0 0 0 0
`;
  assert.deepEqual(netDevBytes(dev), { rx: 5000, tx: 3730 });
  const s = computeStats(undefined, { ...sample({}, 0), net: { rx: 4900, tx: 3710 } });
  assert.deepEqual([s.netRx, s.netTx], [4900, 3710]);
  assert.deepEqual([computeStats(undefined, sample({}, 0)).netRx], [0]);
});
