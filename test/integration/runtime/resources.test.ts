import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, runContainer, uniqueId } from '../../helpers/bundle.ts';
import { cgroupDirsNamed } from '../../helpers/host.ts';

const { runtime, cleanup } = makeRuntime();
after(cleanup);

const MiB = 1024 * 1024;

test('resource limits are written to the container cgroup before the program runs', async (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '30'], (spec) => {
    spec.linux!.resources = {
      ...spec.linux!.resources,
      memory: { limit: 64 * MiB, reservation: 32 * MiB },
      cpu: { shares: 512, quota: 50_000, period: 100_000 },
      pids: { limit: 42 },
    };
  });
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  const pid = (await runtime.state(id)).pid!;
  const name = bundle.spec.linux!.cgroupsPath!.slice(1);
  const dir = (controller: string) => {
    const found = cgroupDirsNamed(name).find((d) => d.startsWith(`/sys/fs/cgroup/${controller}/`));
    assert.ok(found, `a ${controller} cgroup for the container`);
    return found;
  };
  const read = (controller: string, file: string) =>
    readFileSync(`${dir(controller)}/${file}`, 'utf8').trim();
  if (cgroupV1()) {
    assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 * MiB));
    assert.equal(read('memory', 'memory.soft_limit_in_bytes'), String(32 * MiB));
    assert.equal(read('cpu', 'cpu.shares'), '512');
    assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
    assert.equal(read('pids', 'pids.max'), '42');
    assert.ok(
      read('memory', 'cgroup.procs').split('\n').includes(String(pid)),
      'the created init is in its cgroup',
    );
  } else {
    assert.equal(read('', 'memory.max'), String(64 * MiB));
    assert.equal(read('', 'pids.max'), '42');
    assert.equal(read('', 'cpu.max'), '50000 100000');
  }
});

test('a process that exceeds memory.limit is OOM-killed', async (t) => {
  const bundle = makeBundle(['/probe', 'memhog', '256'], (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 32 * MiB, swap: 32 * MiB } };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 128 + 9, `killed by SIGKILL (stdout: ${result.stdout})`);
  assert.doesNotMatch(result.stdout, /done/);
});

test('pids.limit stops a fork loop', async (t) => {
  const bundle = makeBundle(['/probe', 'forkbomb', '100'], (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 10 } };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  const forks = Number(/(\d+)/.exec(result.stdout)?.[1]);
  assert.ok(forks < 10, `at most 9 forks beside the init succeeded, got: ${result.stdout}`);
  assert.match(result.stdout, /EAGAIN/);
});

function cgroupV1(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup cgroup ');
}
