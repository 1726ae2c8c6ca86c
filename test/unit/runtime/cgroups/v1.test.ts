import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DirFacts, planV1Writes } from '../../../../src/runtime/cgroups/index.ts';

const MEMORY_FILES = [
  'memory.limit_in_bytes',
  'memory.memsw.limit_in_bytes',
  'memory.soft_limit_in_bytes',
  'memory.oom_control',
  'memory.swappiness',
];

function facts(files: string[], current: Record<string, string> = {}): DirFacts {
  return { files: new Set(files), current };
}

const pairs = (plan: { writes: { file: string; value: string }[] }) =>
  plan.writes.map((w) => [w.file, w.value]);

test('memory: raising memsw above the current limit goes first, lowering it goes last (runc)', () => {
  const grow = planV1Writes(
    { memory: { limit: 200, swap: 400 } },
    facts(MEMORY_FILES, { 'memory.limit_in_bytes': '100' }),
  );
  assert.deepEqual(pairs(grow), [
    ['memory.memsw.limit_in_bytes', '400'],
    ['memory.limit_in_bytes', '200'],
  ]);
  const shrink = planV1Writes(
    { memory: { limit: 100, swap: 150 } },
    facts(MEMORY_FILES, { 'memory.limit_in_bytes': '9223372036854771712' }),
  );
  assert.deepEqual(pairs(shrink), [
    ['memory.limit_in_bytes', '100'],
    ['memory.memsw.limit_in_bytes', '150'],
  ]);
});

test('memory: unlimited memory with swap unset lifts memsw too; reservation, OOM killer and swappiness', () => {
  const plan = planV1Writes(
    { memory: { limit: -1, reservation: 50, disableOOMKiller: true, swappiness: 0 } },
    facts(MEMORY_FILES, { 'memory.limit_in_bytes': '100' }),
  );
  assert.deepEqual(pairs(plan), [
    ['memory.memsw.limit_in_bytes', '-1'],
    ['memory.limit_in_bytes', '-1'],
    ['memory.soft_limit_in_bytes', '50'],
    ['memory.oom_control', '1'],
    ['memory.swappiness', '0'],
  ]);
  assert.throws(() => planV1Writes({ memory: { swappiness: 101 } }, facts(MEMORY_FILES)), {
    name: 'InvalidArgument',
  });
});

test('memory: without swap accounting, swap -1 is tolerated and any other swap is refused', () => {
  const noMemsw = MEMORY_FILES.filter((f) => !f.includes('memsw'));
  const tolerated = planV1Writes({ memory: { limit: 100, swap: -1 } }, facts(noMemsw));
  assert.deepEqual(pairs(tolerated), [['memory.limit_in_bytes', '100']]);
  assert.match(tolerated.warnings[0]!, /swap -1 ignored/);
  assert.throws(() => planV1Writes({ memory: { limit: 100, swap: 200 } }, facts(noMemsw)), {
    name: 'FailedPrecondition',
    message: /swapaccount=1/,
  });
  assert.throws(() => planV1Writes({ memory: { limit: 100, swap: 50 } }, facts(MEMORY_FILES)), {
    name: 'InvalidArgument',
  });
});

test('cpu: shares, quota/period ordered by the period change, burst, rt', () => {
  const files = [
    'cpu.shares',
    'cpu.cfs_period_us',
    'cpu.cfs_quota_us',
    'cpu.cfs_burst_us',
    'cpu.rt_period_us',
    'cpu.rt_runtime_us',
  ];
  const longer = planV1Writes(
    { cpu: { shares: 512, quota: 200000, period: 200000, realtimePeriod: 1000000, realtimeRuntime: 950000 } },
    facts(files, { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1' }),
  );
  assert.deepEqual(pairs(longer), [
    ['cpu.shares', '512'],
    ['cpu.cfs_period_us', '200000'],
    ['cpu.cfs_quota_us', '200000'],
    ['cpu.rt_period_us', '1000000'],
    ['cpu.rt_runtime_us', '950000'],
  ]);
  const shorter = planV1Writes(
    { cpu: { quota: 25000, period: 50000, burst: 10000 } },
    facts(files, { 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '5000' }),
  );
  assert.deepEqual(pairs(shorter), [
    ['cpu.cfs_quota_us', '25000'],
    ['cpu.cfs_period_us', '50000'],
    ['cpu.cfs_burst_us', '10000'],
  ]);
  const noBurst = planV1Writes({ cpu: { burst: 1 } }, facts(['cpu.shares']));
  assert.deepEqual(pairs(noBurst), []);
  assert.match(noBurst.warnings[0]!, /cfs_burst_us/);
  assert.throws(() => planV1Writes({ cpu: { shares: 1 } }, facts(files)), { name: 'InvalidArgument' });
  assert.throws(() => planV1Writes({ cpu: { idle: 1 } }, facts(files)), { name: 'FailedPrecondition' });
});

test('cpuset (with and without the noprefix mount option) and pids (<= 0 is max)', () => {
  assert.deepEqual(
    pairs(planV1Writes({ cpu: { cpus: '0-1', mems: '0' } }, facts(['cpuset.cpus', 'cpuset.mems']))),
    [
      ['cpuset.cpus', '0-1'],
      ['cpuset.mems', '0'],
    ],
  );
  assert.deepEqual(pairs(planV1Writes({ cpu: { cpus: '1' } }, facts(['cpus', 'mems']))), [['cpus', '1']]);
  assert.deepEqual(pairs(planV1Writes({ pids: { limit: 0 } }, facts(['pids.max']))), [['pids.max', 'max']]);
  assert.deepEqual(pairs(planV1Writes({ pids: { limit: -1 } }, facts(['pids.max']))), [['pids.max', 'max']]);
  assert.deepEqual(pairs(planV1Writes({ pids: { limit: 7 } }, facts(['pids.max']))), [['pids.max', '7']]);
});

test('blkio: CFQ or BFQ weight files, throttles per device; no weight file is a failed precondition', () => {
  const blockIO = {
    weight: 300,
    weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 200 }],
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
  };
  assert.deepEqual(pairs(planV1Writes({ blockIO }, facts(['blkio.bfq.weight']))), [
    ['blkio.bfq.weight', '300'],
    ['blkio.bfq.weight_device', '8:0 500'],
    ['blkio.leaf_weight_device', '8:0 200'],
    ['blkio.throttle.read_bps_device', '8:0 1048576'],
    ['blkio.throttle.write_iops_device', '8:16 100'],
  ]);
  assert.equal(planV1Writes({ blockIO }, facts(['blkio.weight'])).writes[0]!.file, 'blkio.weight');
  assert.throws(() => planV1Writes({ blockIO }, facts(['blkio.throttle.read_bps_device'])), {
    name: 'FailedPrecondition',
    message: /bfq/,
  });
  assert.deepEqual(
    pairs(
      planV1Writes({ blockIO: { throttleWriteBpsDevice: [{ major: 254, minor: 0, rate: 5 }] } }, facts([])),
    ),
    [['blkio.throttle.write_bps_device', '254:0 5']],
  );
});

test('hugetlb: limit and reservation limit by page size; an unknown size names the sizes offered', () => {
  const files = [
    'hugetlb.2MB.limit_in_bytes',
    'hugetlb.2MB.rsvd.limit_in_bytes',
    'hugetlb.1GB.limit_in_bytes',
  ];
  assert.deepEqual(
    pairs(planV1Writes({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, facts(files))),
    [
      ['hugetlb.2MB.limit_in_bytes', '4194304'],
      ['hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
    ],
  );
  assert.throws(() => planV1Writes({ hugepageLimits: [{ pageSize: '64KB', limit: 1 }] }, facts(files)), {
    name: 'FailedPrecondition',
    message: /offered: 1GB, 2MB/,
  });
  assert.throws(() => planV1Writes({ hugepageLimits: [{ pageSize: '../x', limit: 1 }] }, facts(files)), {
    name: 'InvalidArgument',
  });
});

test('devices: rules in order, deny-all first; network; unified is refused on v1', () => {
  const plan = planV1Writes(
    {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rw' },
      ],
      network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
    },
    facts([]),
  );
  assert.deepEqual(pairs(plan), [
    ['devices.deny', 'a *:* rwm'],
    ['devices.allow', 'c 1:3 rwm'],
    ['devices.allow', 'c 136:* rw'],
    ['net_cls.classid', '1048577'],
    ['net_prio.ifpriomap', 'eth0 5'],
  ]);
  assert.throws(() => planV1Writes({ devices: [{ allow: true, access: 'rwx' }] }, facts([])), {
    name: 'InvalidArgument',
  });
  assert.throws(() => planV1Writes({ unified: { 'memory.high': '1' } }, facts([])), {
    name: 'FailedPrecondition',
  });
});
