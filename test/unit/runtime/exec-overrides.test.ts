import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Process } from '../../../src/oci/index.ts';
import { applyExecOverrides } from '../../../src/runtime/index.ts';

const base: Process = {
  terminal: true,
  consoleSize: { height: 10, width: 20 },
  user: { uid: 5, gid: 6, additionalGids: [7] },
  args: ['/init'],
  env: ['PATH=/bin', 'A=1'],
  cwd: '/srv',
  capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] },
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }],
};

test("exec without --process: config.json's process, args replaced, no terminal unless -t", () => {
  const proc = applyExecOverrides(base, { args: ['/bin/true'] });
  assert.deepEqual(proc.args, ['/bin/true']);
  assert.equal(proc.terminal, false);
  assert.equal(proc.consoleSize, undefined);
  assert.deepEqual(proc.env, base.env);
  assert.deepEqual(proc.user, base.user);
  assert.deepEqual(proc.rlimits, base.rlimits, 'the container settings stay');
  assert.deepEqual(base.args, ['/init'], 'the base is not changed');
});

test('exec overrides: env appended, cwd, user (gid kept when absent), gids, caps as runc', () => {
  const proc = applyExecOverrides(base, {
    args: ['sh'],
    env: ['A=2', 'B=3'],
    cwd: '/tmp',
    user: { uid: 1000 },
    additionalGids: [1, 2],
    capabilities: ['CAP_NET_ADMIN'],
    noNewPrivileges: true,
  });
  assert.deepEqual(proc.env, ['PATH=/bin', 'A=1', 'A=2', 'B=3']);
  assert.equal(proc.cwd, '/tmp');
  assert.deepEqual(proc.user, { uid: 1000, gid: 6, additionalGids: [1, 2] });
  assert.deepEqual(proc.capabilities?.bounding, ['CAP_CHOWN', 'CAP_NET_ADMIN']);
  assert.deepEqual(proc.capabilities?.effective, ['CAP_CHOWN', 'CAP_NET_ADMIN']);
  assert.equal(proc.capabilities?.ambient, undefined, 'no ambient without inheritable (runc)');
  assert.equal(proc.noNewPrivileges, true);
});
