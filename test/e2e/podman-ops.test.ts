import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMAGE, podmanHarness } from '../helpers/podman.ts';

test('podman pause, unpause and update through skiff-runtime', (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const run = podman([
    'run',
    '--detach',
    '--name',
    'counter',
    IMAGE,
    '/bin/sh',
    '-c',
    'while :; do sleep 0.05; done',
  ]);
  assert.equal(run.status, 0, run.stderr);
  const pause = podman(['pause', 'counter']);
  assert.equal(pause.status, 0, pause.stderr);
  assert.equal(podman(['inspect', '--format', '{{.State.Status}}', 'counter']).stdout.trim(), 'paused');
  const unpause = podman(['unpause', 'counter']);
  assert.equal(unpause.status, 0, unpause.stderr);
  assert.equal(podman(['inspect', '--format', '{{.State.Status}}', 'counter']).stdout.trim(), 'running');
  const update = podman(['update', '--memory', '96m', 'counter']);
  assert.equal(update.status, 0, update.stderr);
  // What the kernel holds for the container's cgroup (podman passes `update -r -`).
  const pid = podman(['inspect', '--format', '{{.State.Pid}}', 'counter']).stdout.trim();
  const memory = readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/^\d+:memory:(.*)$/m)?.[1];
  if (memory !== undefined) {
    assert.equal(
      readFileSync(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`, 'utf8').trim(),
      String(96 * 2 ** 20),
    );
  } else {
    const unified = readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/^0::(.*)$/m)![1];
    assert.equal(readFileSync(`/sys/fs/cgroup${unified}/memory.max`, 'utf8').trim(), String(96 * 2 ** 20));
  }
  const stop = podman(['rm', '--force', '--time', '0', 'counter']);
  assert.equal(stop.status, 0, stop.stderr);
});
