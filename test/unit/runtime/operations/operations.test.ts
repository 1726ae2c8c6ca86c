import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseBlkioV1,
  parseFlatKeyed,
  parseInterval,
  parseIoStatV2,
} from '../../../../src/runtime/events.ts';
import { capabilityNames } from '../../../../src/runtime/features.ts';
import {
  filterPsOutput,
  mergeResources,
  parseMemorySize,
  parseResourcesJson,
  resourcesFromFlags,
} from '../../../../src/runtime/operations.ts';

test('memory sizes read as runc reads them', () => {
  assert.equal(parseMemorySize('memory', '1024'), 1024);
  assert.equal(parseMemorySize('memory', '64m'), 64 * 1024 * 1024);
  assert.equal(parseMemorySize('memory', '1G'), 1024 ** 3);
  assert.equal(parseMemorySize('memory', '1.5k'), 1536);
  assert.equal(parseMemorySize('memory', '2MiB'), 2 * 1024 * 1024);
  assert.equal(parseMemorySize('memory', '-1'), -1);
  assert.throws(() => parseMemorySize('memory-swap', 'lots'), /invalid --memory-swap "lots"/);
});

test('update flags become OCI resources, each in its field', () => {
  assert.deepEqual(
    resourcesFromFlags({
      memory: '100m',
      memoryReservation: '50m',
      memorySwap: '200m',
      cpuShares: '512',
      cpuPeriod: '100000',
      cpuQuota: '50000',
      cpusetCpus: '0-1',
      cpusetMems: '0',
      pidsLimit: '20',
      blkioWeight: '300',
    }),
    {
      memory: { limit: 100 * 2 ** 20, reservation: 50 * 2 ** 20, swap: 200 * 2 ** 20 },
      cpu: { shares: 512, period: 100000, quota: 50000, cpus: '0-1', mems: '0' },
      pids: { limit: 20 },
      blockIO: { weight: 300 },
    },
  );
  assert.deepEqual(resourcesFromFlags({}), {});
  assert.deepEqual(resourcesFromFlags({ cpuQuota: '-1' }), { cpu: { quota: -1 } });
  assert.throws(() => resourcesFromFlags({ cpuShares: 'x' }), /invalid --cpu-shares "x"/);
  assert.throws(() => resourcesFromFlags({ blkioWeight: '5' }), /invalid --blkio-weight "5": use 10 to 1000/);
  assert.throws(() => resourcesFromFlags({ cpusetCpus: '0-a' }), /invalid --cpuset-cpus "0-a"/);
  assert.throws(() => resourcesFromFlags({ pidsLimit: '1.5' }), /invalid --pids-limit/);
});

test('-r resources JSON is checked by the OCI schema and errors name the field', () => {
  assert.deepEqual(parseResourcesJson('{"memory":{"limit":1048576}}', 'r.json'), {
    memory: { limit: 1048576 },
  });
  assert.throws(() => parseResourcesJson('{"memory":{"limit":"big"}}', 'r.json'), /r\.json: memory\.limit/);
  assert.throws(() => parseResourcesJson('[1]', 'r.json'), /expected an OCI LinuxResources object/);
  assert.throws(() => parseResourcesJson('{', 'r.json'), /r\.json: invalid JSON/);
});

test('an update merges into the recorded resources; arrays replace', () => {
  const base = { memory: { limit: 1, reservation: 2 }, pids: { limit: 5 }, devices: [{ allow: false }] };
  const merged = mergeResources(base, { memory: { limit: 3 }, devices: [{ allow: true }] });
  assert.deepEqual(merged, {
    memory: { limit: 3, reservation: 2 },
    pids: { limit: 5 },
    devices: [{ allow: true }],
  });
  assert.deepEqual(base.memory, { limit: 1, reservation: 2 }, 'the base is not changed');
  assert.deepEqual(mergeResources(undefined, { pids: { limit: 1 } }), { pids: { limit: 1 } });
});

test('ps output keeps the header and the container rows, by the PID column', () => {
  const output = [
    'UID        PID  PPID  C STIME TTY          TIME CMD',
    'root         1     0  0 12:00 ?        00:00:01 init',
    'root       200     1  0 12:00 ?        00:00:00 sleep 30',
    'root      2001     1  0 12:00 ?        00:00:00 other',
    '',
  ].join('\n');
  assert.equal(
    filterPsOutput(output, new Set([200])),
    'UID        PID  PPID  C STIME TTY          TIME CMD\nroot       200     1  0 12:00 ?        00:00:00 sleep 30\n',
  );
  assert.throws(() => filterPsOutput('COMMAND\nx\n', new Set([1])), /ps output has no PID column/);
});

test('cgroup stat files parse into runc stats fields', () => {
  assert.deepEqual(parseFlatKeyed('cache 10\nrss 20\n\nbad line\n'), { cache: 10, rss: 20 });
  assert.deepEqual(parseFlatKeyed('oom 0\noom_kill 2\n'), { oom: 0, oom_kill: 2 });
  assert.deepEqual(parseBlkioV1('8:0 Read 100\n8:0 Write 5\nTotal 105\n'), [
    { major: 8, minor: 0, op: 'Read', value: 100 },
    { major: 8, minor: 0, op: 'Write', value: 5 },
  ]);
  assert.deepEqual(parseIoStatV2('253:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n'), {
    bytes: [
      { major: 253, minor: 0, op: 'Read', value: 10 },
      { major: 253, minor: 0, op: 'Write', value: 20 },
    ],
    ios: [
      { major: 253, minor: 0, op: 'Read', value: 1 },
      { major: 253, minor: 0, op: 'Write', value: 2 },
    ],
  });
});

test('--interval takes Go durations', () => {
  assert.equal(parseInterval('5s'), 5000);
  assert.equal(parseInterval('500ms'), 500);
  assert.equal(parseInterval('1m'), 60000);
  assert.throws(() => parseInterval('5'), /invalid --interval "5"/);
  assert.throws(() => parseInterval('0s'), /must be positive/);
});

test('capability names follow cap_last_cap', () => {
  assert.equal(capabilityNames(40).length, 41);
  assert.equal(capabilityNames(40).at(-1), 'CAP_CHECKPOINT_RESTORE');
  assert.equal(capabilityNames(37).at(-1), 'CAP_AUDIT_READ');
});
