// `skiff pause/unpause`, `top`, `update` and `port` through the CLI against real containers: what
// the user sees (output, exit codes, ps, inspect, events) and what the kernel does (a frozen
// process makes no progress, a new pids limit stops forks inside the container).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EventLog, openEngineDb } from '../../src/engine/index.ts';
import { type EngineEnv, engineEnv, removeAllContainers } from '../helpers/engine.ts';
import { eventually } from '../helpers/host.ts';

function ok(e: EngineEnv, args: string[]): string {
  const r = e.skiff(args);
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const inspect = (e: EngineEnv, ref: string, format: string) => ok(e, ['inspect', '-f', format, ref]).trim();

/** The engine's recorded events for a container: their actions, in order. */
function actions(e: EngineEnv, id: string): string[] {
  const db = openEngineDb(e.root);
  try {
    return new EventLog(db)
      .list()
      .filter((l) => l.event.Actor.ID === id)
      .map((l) => l.event.Action);
  } finally {
    db.close();
  }
}

/** A cgroup v1 file of the container, as the kernel has it. */
function cgroupFile(id: string, controller: string, file: string): string {
  return readFileSync(path.join('/sys/fs/cgroup', controller, 'skiff', id, file), 'utf8').trim();
}

/** The counter the `counter` container's loop writes, read through cp (exec cannot enter a frozen container). */
function counter(e: EngineEnv): number {
  return Number(ok(e, ['cp', 'counter:/tmp/n', '-']).match(/\n?(\d+)\n/)?.[1] ?? Number.NaN);
}

test('skiff pause, unpause, top, update, port', async (t) => {
  const e = await engineEnv(t);

  await t.test('pause freezes the processes; ps, inspect and events say so; unpause thaws them', async () => {
    const id = ok(e, [
      'run',
      '-d',
      '--name',
      'counter',
      'busybox',
      'sh',
      '-c',
      'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done',
    ]).trim();
    assert.ok(await eventually(() => counter(e) > 0));
    assert.equal(ok(e, ['pause', 'counter']), 'counter\n');
    assert.equal(
      inspect(e, 'counter', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'),
      'paused true true',
    );
    assert.match(ok(e, ['ps', '--format', '{{.Status}}']), /^Up .* \(Paused\)\n$/);
    assert.equal(ok(e, ['ps', '-q', '--filter', 'status=paused']), `${id.slice(0, 12)}\n`);
    assert.equal(cgroupFile(id, 'freezer', 'freezer.state'), 'FROZEN');
    // Frozen: the loop makes no progress, however long we look.
    const frozenAt = counter(e);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(counter(e), frozenAt);

    const exec = e.skiff(['exec', 'counter', 'true']);
    assert.notEqual(exec.status, 0);
    assert.match(exec.stderr, /Container [0-9a-f]{64} is paused, unpause the container before exec/);
    const again = e.skiff(['pause', 'counter']);
    assert.deepEqual(
      [again.status, again.stderr],
      [1, `Error response from daemon: Container ${id} is already paused\n`],
    );
    assert.equal(ok(e, ['unpause', 'counter']), 'counter\n');
    assert.ok(await eventually(() => counter(e) > frozenAt), 'the loop runs again');
    assert.equal(inspect(e, 'counter', '{{.State.Status}} {{.State.Paused}}'), 'running false');
    assert.match(ok(e, ['ps', '--format', '{{.Status}}']), /^Up [^(]*\n$/);
    const notPaused = e.skiff(['unpause', 'counter']);
    assert.deepEqual(
      [notPaused.status, notPaused.stderr],
      [1, `Error response from daemon: Container ${id} is not paused\n`],
    );
    assert.deepEqual(
      actions(e, id).filter((a) => a === 'pause' || a === 'unpause'),
      ['pause', 'unpause'],
    );
  });

  await t.test('stop and kill of a paused container work as docker: the signal acts once thawed', () => {
    ok(e, [
      'run',
      '-d',
      '--name',
      'trapper',
      'busybox',
      'sh',
      '-c',
      'trap "exit 3" TERM; while true; do sleep 0.05; done',
    ]);
    ok(e, ['pause', 'trapper']);
    // The SIGTERM handler runs (exit 3), not the SIGKILL after the timeout.
    assert.equal(ok(e, ['stop', '-t', '60', 'trapper']), 'trapper\n');
    assert.equal(inspect(e, 'trapper', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 3');
    ok(e, ['start', 'trapper']);
    ok(e, ['pause', 'trapper']);
    assert.equal(ok(e, ['kill', 'trapper']), 'trapper\n');
    assert.equal(ok(e, ['wait', 'trapper']), '137\n');
    const stopped = e.skiff(['pause', 'trapper']);
    assert.match(stopped.stderr, /^Error response from daemon: Container [0-9a-f]{64} is not running\n$/);
  });

  await t.test("top lists the container's processes only, with ps's options", () => {
    ok(e, ['run', '-d', '--name', 'tops', 'busybox', 'sh', '-c', 'sleep 1001 & exec sleep 1000']);
    const pid = inspect(e, 'tops', '{{.State.Pid}}');
    const lines = ok(e, ['top', 'tops']).split('\n').filter(Boolean);
    assert.match(lines[0]!, /^UID {17}PID {17}PPID {16}C {19}STIME {15}TTY {17}TIME {16}CMD$/);
    const cmds = lines.slice(1).map((l) => l.split(/\s{2,}/).at(-1));
    assert.deepEqual(cmds.sort(), ['sleep 1000', 'sleep 1001']);
    assert.ok(lines.some((l) => l.split(/\s+/)[1] === pid));
    assert.ok(!lines.some((l) => l.split(/\s+/)[1] === String(process.pid)), 'no host process');
    const custom = ok(e, ['top', 'tops', '-o', 'pid,comm']).split('\n').filter(Boolean);
    assert.equal(custom[0], 'PID                 COMMAND');
    assert.ok(custom.includes(`${pid.padEnd(20)}sleep`));
    const noPid = e.skiff(['top', 'tops', '-o', 'comm']);
    assert.deepEqual(
      [noPid.status, noPid.stderr],
      [1, "Error response from daemon: Couldn't find PID field in ps output\n"],
    );
    ok(e, ['create', '--name', 'idle', 'busybox']);
    const idle = e.skiff(['top', 'idle']);
    assert.match(idle.stderr, /^Error response from daemon: Container [0-9a-f]{64} is not running\n$/);
  });

  await t.test(
    'update changes a running container’s cgroup and HostConfig: a lower pids limit stops forks',
    () => {
      const id = ok(e, ['run', '-d', '--name', 'limits', 'busybox', 'sleep', '1000']).trim();
      assert.equal(ok(e, ['exec', 'limits', '/probe', 'forkbomb', '20']), '20 ok\n');
      assert.equal(
        ok(e, [
          'update',
          '--pids-limit',
          '8',
          '--memory',
          '64m',
          '--cpus',
          '0.5',
          '--cpu-shares',
          '512',
          'limits',
        ]),
        'limits\n',
      );
      const forks = ok(e, ['exec', 'limits', '/probe', 'forkbomb', '20']).trim().split(' ');
      assert.equal(forks[1], 'EAGAIN');
      assert.ok(Number(forks[0]) < 8);
      assert.equal(cgroupFile(id, 'pids', 'pids.max'), '8');
      assert.equal(cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(64 * 1024 * 1024));
      assert.equal(cgroupFile(id, 'cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(cgroupFile(id, 'cpu', 'cpu.shares'), '512');
      assert.equal(
        inspect(
          e,
          'limits',
          '{{.HostConfig.PidsLimit}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}',
        ),
        `8 ${64 * 1024 * 1024} ${128 * 1024 * 1024} 500000000 512`,
      );
      ok(e, ['update', '--pids-limit', '-1', 'limits']);
      assert.equal(cgroupFile(id, 'pids', 'pids.max'), 'max');
      assert.equal(ok(e, ['exec', 'limits', '/probe', 'forkbomb', '20']), '20 ok\n');
      assert.ok(actions(e, id).includes('update'));
    },
  );

  await t.test('update of a stopped container is kept for its next start', () => {
    const id = ok(e, ['create', '--name', 'later', 'busybox', 'sleep', '1000']).trim();
    assert.equal(ok(e, ['update', '-m', '32m', '--pids-limit', '5', 'later']), 'later\n');
    assert.equal(
      inspect(e, 'later', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}'),
      `${32 * 1024 * 1024} 5`,
    );
    ok(e, ['start', 'later']);
    assert.equal(cgroupFile(id, 'memory', 'memory.limit_in_bytes'), String(32 * 1024 * 1024));
    assert.equal(cgroupFile(id, 'pids', 'pids.max'), '5');
  });

  await t.test("update's errors: no flags, a bad value, a refused limit", () => {
    const none = e.skiff(['update', 'later']);
    assert.deepEqual(
      [none.status, none.stderr],
      [1, 'you must provide one or more flags when using this command\n'],
    );
    const bad = e.skiff(['update', '--memory', 'lots', 'later']);
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^invalid argument "lots" for "-m, --memory" flag: /);
    const small = e.skiff(['update', '--memory', '1m', 'later']);
    assert.deepEqual(
      [small.status, small.stderr],
      [1, 'Error response from daemon: Minimum memory limit allowed is 6MB\n'],
    );
    const missing = e.skiff(['update', '--memory', '64m', 'nosuch']);
    assert.deepEqual(
      [missing.status, missing.stderr],
      [1, 'Error response from daemon: No such container: nosuch\n'],
    );
  });

  await t.test('port: nothing published until networking lands; a named port is an error', () => {
    assert.deepEqual(e.skiff(['port', 'limits']), { status: 0, stdout: '', stderr: '' });
    assert.deepEqual(e.skiff(['port', 'limits', '80']), {
      status: 1,
      stdout: '',
      stderr: "Error: No public port '80/tcp' published for limits\n",
    });
    assert.equal(
      e.skiff(['port', 'limits', '53/udp']).stderr,
      "Error: No public port '53/udp' published for limits\n",
    );
    assert.equal(
      e.skiff(['port', 'nosuch']).stderr,
      'Error response from daemon: No such container: nosuch\n',
    );
  });
  await t.test('rm -f leaves no mounts, cgroups or processes', () => removeAllContainers(e));
});
