// docker top's parsing of ps output (moby's parsePSOutput) and docker update's merge into HostConfig
// (dockerd's refusals, what is written to the cgroup), without containers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupUpdate, mergeResourceUpdate, parsePsOutput } from '../../../src/engine/index.ts';

const PS = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         400     300  0 10:01 ?        00:00:00 sleep 1000
root         401     400  0 10:01 ?        00:00:00 sh -c echo a  b
`;

test("parsePsOutput keeps the container's rows, the command's words in the last column", () => {
  assert.deepEqual(parsePsOutput(PS, new Set([400, 401])), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '400', '300', '0', '10:01', '?', '00:00:00', 'sleep 1000'],
      ['root', '401', '400', '0', '10:01', '?', '00:00:00', 'sh -c echo a b'],
    ],
  });
  // Thread rows of `-m` (PID "-") follow the process they belong to.
  const threads = 'PID TID CMD\n400 - sleep\n- 400 -\n1 - init\n- 1 -\n';
  assert.deepEqual(parsePsOutput(threads, new Set([400])).Processes, [
    ['400', '-', 'sleep'],
    ['-', '400', '-'],
  ]);
  assert.throws(
    () => parsePsOutput('COMMAND\nsleep\n', new Set([1])),
    /Couldn't find PID field in ps output/,
  );
});

test("mergeResourceUpdate: given limits replace the old ones, dockerd's checks and swap rule", () => {
  assert.deepEqual(mergeResourceUpdate({ CpuShares: 100 }, { Memory: 64 << 20 }), {
    CpuShares: 100,
    Memory: 64 << 20,
    MemorySwap: 128 << 20,
  });
  assert.deepEqual(mergeResourceUpdate({ Memory: 64 << 20, MemorySwap: 128 << 20 }, { PidsLimit: 10 }), {
    Memory: 64 << 20,
    MemorySwap: 128 << 20,
    PidsLimit: 10,
  });
  assert.throws(() => mergeResourceUpdate({}, {}), /you must provide one or more flags/);
  assert.throws(
    () => mergeResourceUpdate({ Memory: 64 << 20, MemorySwap: 128 << 20 }, { Memory: 256 << 20 }),
    /Memory limit should be smaller than already set memoryswap limit/,
  );
  assert.throws(() => mergeResourceUpdate({}, { Memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
});

test('cgroupUpdate writes only the groups the update touched, "unlimited" made explicit', () => {
  const next = mergeResourceUpdate(
    { Memory: 64 << 20, MemorySwap: 128 << 20, PidsLimit: 5 },
    { PidsLimit: -1 },
  );
  assert.deepEqual(cgroupUpdate(next, { PidsLimit: -1 }), { pids: { limit: -1 } });
  const cpu = mergeResourceUpdate({}, { NanoCpus: 500_000_000, CpusetCpus: '0' });
  assert.deepEqual(cgroupUpdate(cpu, { NanoCpus: 500_000_000, CpusetCpus: '0' }), {
    cpu: { period: 100_000, quota: 50_000, cpus: '0' },
  });
});
