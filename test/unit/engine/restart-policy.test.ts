// Docker's restart manager as pure decisions (src/engine/containers/restart-policy.ts): the policy
// rules, the back-off, what `system boot` starts, and the --restart flag's parsing and validation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  nextBackoffMs,
  parseRestartPolicy,
  restartAfterExit,
  restartAtBoot,
  validateRestartPolicy,
} from '../../../src/engine/containers/restart-policy.ts';
import type { Container } from '../../../src/engine/index.ts';

function exited(policy: string, fields: Partial<Container> = {}): Container {
  const [name, max] = policy.split(':');
  return {
    id: 'c'.repeat(64),
    name: 'x',
    image: 'busybox',
    imageId: 'sha256:0',
    created: '2026-11-23T10:00:00Z',
    state: 'exited',
    startedAt: '2026-11-23T10:00:00.000Z',
    finishedAt: '2026-11-23T10:00:01.000Z',
    exitCode: 1,
    oomKilled: false,
    restartCount: 0,
    config: {},
    hostConfig: { RestartPolicy: { Name: name as 'always', MaximumRetryCount: Number(max ?? 0) } },
    mounts: [],
    ...fields,
  };
}

test('the back-off: 100 ms, doubled up to one minute, reset after a run of 10 s', () => {
  const delays: number[] = [];
  let d = 0;
  for (let i = 0; i < 12; i++) {
    d = nextBackoffMs(d, 50);
    delays.push(d);
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextBackoffMs(60_000, 10_000), 100, 'a run of 10 s starts over');
  assert.equal(nextBackoffMs(800, 9_999), 1600);
});

test('on-failure: only a non-zero exit, at most N restarts (0: no maximum)', () => {
  assert.equal(restartAfterExit(exited('on-failure:2', { exitCode: 0 })), undefined);
  assert.equal(restartAfterExit(exited('on-failure:2', { exitCode: 3 })), 100);
  assert.equal(restartAfterExit(exited('on-failure:2', { restartCount: 1, restartDelayMs: 100 })), 200);
  assert.equal(restartAfterExit(exited('on-failure:2', { restartCount: 2 })), undefined);
  assert.equal(restartAfterExit(exited('on-failure', { restartCount: 99 })), 100);
});

test('always and unless-stopped restart any exit; no and none never', () => {
  assert.equal(restartAfterExit(exited('always', { exitCode: 0 })), 100);
  assert.equal(restartAfterExit(exited('unless-stopped', { exitCode: 0 })), 100);
  assert.equal(restartAfterExit(exited('no')), undefined);
  assert.equal(restartAfterExit(exited('')), undefined);
});

test('a stop by the user: stop/SIGKILL cancel every policy, another signal only unless-stopped', () => {
  for (const policy of ['always', 'unless-stopped', 'on-failure'])
    assert.equal(restartAfterExit(exited(policy, { manualStop: 2 })), undefined, policy);
  assert.equal(restartAfterExit(exited('always', { manualStop: 1 })), 100);
  assert.equal(restartAfterExit(exited('on-failure', { manualStop: 1 })), 100);
  assert.equal(restartAfterExit(exited('unless-stopped', { manualStop: 1 })), undefined);
});

test('boot: always (even stopped by the user), unless-stopped unless stopped, never a created one', () => {
  assert.equal(restartAtBoot(exited('always', { manualStop: 2 })), true);
  assert.equal(restartAtBoot(exited('unless-stopped')), true);
  assert.equal(restartAtBoot(exited('unless-stopped', { manualStop: 2 })), false);
  assert.equal(restartAtBoot(exited('on-failure')), false);
  assert.equal(restartAtBoot(exited('no')), false);
  assert.equal(restartAtBoot(exited('always', { startedAt: undefined })), false);
});

test('--restart: docker CLI parsing and daemon validation, with their words', () => {
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy(':3'), /no policy provided before colon/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /maximum retry count must be an integer/);
  validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 });
  validateRestartPolicy({ Name: 'no' });
  validateRestartPolicy(undefined);
  assert.throws(
    () => validateRestartPolicy({ Name: 'always', MaximumRetryCount: 1 }),
    /maximum retry count can only be used with 'on-failure'$/,
  );
  assert.throws(
    () => validateRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }),
    /maximum retry count cannot be negative/,
  );
  assert.throws(
    () => validateRestartPolicy({ Name: 'sometimes' as 'always' }),
    /unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/,
  );
});
