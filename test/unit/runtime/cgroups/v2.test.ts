import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blkioWeightToIoWeight,
  type DirFacts,
  planV2Writes,
  sharesToWeight,
  swapToSwapMax,
  v2ControllersFor,
} from '../../../../src/runtime/cgroups/index.ts';

function facts(files: string[], current: Record<string, string> = {}): DirFacts {
  return { files: new Set(files), current };
}
const pairs = (plan: { writes: { file: string; value: string }[] }) =>
  plan.writes.map((w) => [w.file, w.value]);

test('conversions as runc documents them', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(swapToSwapMax(-1, 100), -1);
  assert.equal(swapToSwapMax(0, -1), -1);
  assert.equal(swapToSwapMax(300, 100), 200);
  assert.equal(swapToSwapMax(100, 100), 0);
  assert.throws(() => swapToSwapMax(300, 0), { name: 'InvalidArgument' });
  assert.throws(() => swapToSwapMax(50, 100), { name: 'InvalidArgument' });
});

test('memory: swap.max before max, swap equal to limit means none, -1 means max', () => {
  const files = ['memory.max', 'memory.swap.max', 'memory.low'];
  assert.deepEqual(
    pairs(planV2Writes({ memory: { limit: 100, swap: 300, reservation: 50 } }, facts(files))),
    [
      ['memory.swap.max', '200'],
      ['memory.max', '100'],
      ['memory.low', '50'],
    ],
  );
  assert.deepEqual(pairs(planV2Writes({ memory: { limit: 100, swap: 100 } }, facts(files))), [
    ['memory.swap.max', '0'],
    ['memory.max', '100'],
  ]);
  assert.deepEqual(pairs(planV2Writes({ memory: { limit: -1 } }, facts(files))), [
    ['memory.swap.max', 'max'],
    ['memory.max', 'max'],
  ]);
  const noSwap = planV2Writes({ memory: { limit: 100, swap: -1, swappiness: 10 } }, facts(['memory.max']));
  assert.deepEqual(pairs(noSwap), [['memory.max', '100']]);
  assert.equal(noSwap.warnings.length, 2);
  assert.throws(() => planV2Writes({ memory: { limit: 100, swap: 300 } }, facts(['memory.max'])), {
    name: 'FailedPrecondition',
  });
});

test('cpu: weight from shares, cpu.max with the default period, a period alone keeps the quota', () => {
  const files = ['cpu.weight', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpuset.cpus', 'cpuset.mems'];
  assert.deepEqual(
    pairs(planV2Writes({ cpu: { shares: 1024, quota: 50000, idle: 0, cpus: '0', mems: '0' } }, facts(files))),
    [
      ['cpu.weight', '39'],
      ['cpu.idle', '0'],
      ['cpu.max', '50000 100000'],
      ['cpuset.cpus', '0'],
      ['cpuset.mems', '0'],
    ],
  );
  assert.deepEqual(
    pairs(planV2Writes({ cpu: { period: 50000 } }, facts(files, { 'cpu.max': '20000 100000' }))),
    [['cpu.max', '20000 50000']],
  );
  assert.deepEqual(pairs(planV2Writes({ cpu: { quota: -1 } }, facts(files, { 'cpu.max': '20000 100000' }))), [
    ['cpu.max', 'max 100000'],
  ]);
  assert.deepEqual(
    pairs(planV2Writes({ cpu: { quota: 10000, burst: 20000 } }, facts(files, { 'cpu.max': '5000 100000' }))),
    [
      ['cpu.max', '10000 100000'],
      ['cpu.max.burst', '20000'],
    ],
  );
  assert.throws(() => planV2Writes({ cpu: { realtimeRuntime: 1 } }, facts(files)), {
    name: 'FailedPrecondition',
  });
});

test('io: one io.max line per device; BFQ weight raw, else converted io.weight', () => {
  const blockIO = {
    weight: 500,
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 0 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
  };
  assert.deepEqual(pairs(planV2Writes({ blockIO }, facts(['io.weight', 'io.max']))), [
    ['io.weight', '4950'],
    ['io.max', '8:0 rbps=1048576 wbps=2097152 wiops=100'],
    ['io.max', '8:16 riops=max'],
  ]);
  assert.deepEqual(pairs(planV2Writes({ blockIO: { weight: 500 } }, facts(['io.bfq.weight', 'io.weight']))), [
    ['io.bfq.weight', '500'],
  ]);
  assert.throws(() => planV2Writes({ blockIO: { weight: 500 } }, facts(['io.max'])), {
    name: 'FailedPrecondition',
  });
});

test('pids, hugetlb (with rsvd), rdma and unified (one write per line)', () => {
  const files = ['pids.max', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max', 'rdma.max', 'memory.high', 'io.max'];
  const plan = planV2Writes(
    {
      pids: { limit: 0 },
      hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
      rdma: { mlx4_0: { hcaHandles: 2, hcaObjects: 2000 } },
      unified: { 'memory.high': '1000000', 'io.max': '8:0 rbps=1\n8:16 wbps=2\n' },
    },
    facts(files),
  );
  assert.deepEqual(pairs(plan), [
    ['pids.max', 'max'],
    ['hugetlb.2MB.max', '2097152'],
    ['hugetlb.2MB.rsvd.max', '2097152'],
    ['rdma.max', 'mlx4_0 hca_handle=2 hca_object=2000'],
    ['memory.high', '1000000'],
    ['io.max', '8:0 rbps=1'],
    ['io.max', '8:16 wbps=2'],
  ]);
  assert.throws(() => planV2Writes({ unified: { '../x': '1' } }, facts(files)), { name: 'InvalidArgument' });
  assert.throws(() => planV2Writes({ unified: { 'memory.bogus': '1' } }, facts(files)), {
    name: 'FailedPrecondition',
  });
});

test('the controllers to enable follow the resources', () => {
  assert.deepEqual(
    v2ControllersFor({
      memory: { limit: 1 },
      cpu: { shares: 2, cpus: '0' },
      pids: { limit: 1 },
      blockIO: {},
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      unified: { 'misc.max': 'x 1', 'cgroup.freeze': '0' },
    }),
    ['memory', 'cpu', 'cpuset', 'pids', 'io', 'hugetlb', 'misc'],
  );
});
