// The CLI side of cp, top, port and update: docker's argument splitting, its tabwriter for top, the
// port lines and errors, update's flags.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCpArg } from '../../../src/cli/commands/container/cp.ts';
import { portLines } from '../../../src/cli/commands/container/port.ts';
import { topTable } from '../../../src/cli/commands/container/top.ts';
import { resourceUpdateOf } from '../../../src/cli/commands/container/update.ts';

test("splitCpArg: docker's CONTAINER:PATH, local absolute and ./ paths", () => {
  assert.deepEqual(splitCpArg('web:/etc/hosts'), { container: 'web', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('web:'), { container: 'web', path: '' });
  assert.deepEqual(splitCpArg('/tmp/a:b'), { container: '', path: '/tmp/a:b' });
  assert.deepEqual(splitCpArg('./a:b'), { container: '', path: './a:b' });
  assert.deepEqual(splitCpArg('-'), { container: '', path: '-' });
});

test('topTable pads every column but the last to 20 or its widest cell plus 3', () => {
  assert.equal(
    topTable([
      ['PID', 'COMMAND'],
      ['12345678901234567890', 'sleep 1'],
    ]),
    'PID                    COMMAND\n12345678901234567890   sleep 1\n',
  );
});

test("portLines: published ports, a named one, and docker's error for one that is not", () => {
  const ports = {
    '80/tcp': [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
    '9/tcp': null,
  };
  assert.deepEqual(portLines(ports, undefined, 'web'), [
    '53/udp -> 127.0.0.1:5353',
    '80/tcp -> 0.0.0.0:8080',
    '80/tcp -> [::]:8080',
  ]);
  assert.deepEqual(portLines(ports, '80', 'web'), ['0.0.0.0:8080', '[::]:8080']);
  assert.deepEqual(portLines({}, undefined, 'web'), []);
  assert.throws(() => portLines(ports, '9/tcp', 'web'), {
    message: "Error: No public port '9/tcp' published for web",
  });
  assert.throws(() => portLines(null, '80', 'web'), {
    message: "Error: No public port '80/tcp' published for web",
  });
});

test("resourceUpdateOf: docker update's flags as HostConfig fields", () => {
  assert.deepEqual(
    resourceUpdateOf({
      memory: '64m',
      'memory-swap': '-1',
      cpus: '1.5',
      'pids-limit': '-1',
      'cpuset-cpus': '0-1',
    }),
    { Memory: 64 << 20, MemorySwap: -1, NanoCpus: 1_500_000_000, PidsLimit: -1, CpusetCpus: '0-1' },
  );
  assert.throws(
    () => resourceUpdateOf({ cpus: 'x' }),
    /invalid argument "x" for "--cpus" flag: failed to parse x/,
  );
});
