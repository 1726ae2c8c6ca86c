// Restart policies (`--restart`) through bin/skiff: honoured by the cleanup the monitor runs after
// an exit, with Docker's rules (on-failure counts, always, unless-stopped, no restart after a stop or
// `skiff kill` by the user), RestartCount and Restarting in inspect and ps, a stop that cancels a
// pending restart, and `skiff system boot` bringing containers back after a (simulated) reboot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, leakCheckedEngineEnv } from '../helpers/engine.ts';
import { eventually, processesMentioning } from '../helpers/host.ts';

interface Store extends EngineEnv {
  inspect(ref: string, format: string): string;
  /** The actions of the container's events so far. */
  actions(ref: string): string[];
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function store(t: { after: (fn: () => void | Promise<void>) => void }): Promise<Store> {
  // rm -f during a back-off: the waiting cleanup process finds the container gone and ends.
  const e = await leakCheckedEngineEnv(t);
  const ok = e.ok;
  return {
    ...e,
    ok,
    inspect: (ref, format) => ok(['inspect', '-f', format, ref]),
    actions: (ref) =>
      ok([
        'events',
        '--since',
        '1h',
        '--until',
        '0s',
        '--filter',
        `container=${ref}`,
        '--format',
        '{{.Action}}',
      ])
        .split('\n')
        .filter(Boolean),
  };
}

test('--restart on-failure:2: restarted exactly twice, then stays exited with RestartCount 2', async (t) => {
  const s = await store(t);
  s.ok([
    'run',
    '-d',
    '--name',
    'rs-fail',
    '--restart',
    'on-failure:2',
    'busybox',
    'sh',
    '-c',
    'echo run; exit 3',
  ]);
  assert.equal(
    s.inspect('rs-fail', '{{json .HostConfig.RestartPolicy}}'),
    '{"Name":"on-failure","MaximumRetryCount":2}',
  );
  const settled = await eventually(
    () => s.inspect('rs-fail', '{{.RestartCount}} {{.State.Status}}') === '2 exited',
    20_000,
  );
  assert.ok(settled, s.inspect('rs-fail', '{{.RestartCount}} {{.State.Status}}'));
  // The third exit is the last: no cleanup process stays behind waiting to start it again.
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 10_000));
  assert.equal(
    s.inspect('rs-fail', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}} {{.State.Restarting}}'),
    '2 exited 3 false',
  );
  assert.deepEqual(s.actions('rs-fail'), ['create', 'start', 'die', 'start', 'die', 'start', 'die']);
  assert.equal(s.ok(['logs', 'rs-fail']), 'run\nrun\nrun', 'the same container ran three times');
});

test('on-failure does not restart a clean exit; no policy never restarts', async (t) => {
  const s = await store(t);
  s.ok(['run', '-d', '--name', 'rs-clean', '--restart', 'on-failure', 'busybox', 'true']);
  s.ok(['run', '-d', '--name', 'rs-none', 'busybox', 'sh', '-c', 'exit 1']);
  assert.equal(s.ok(['wait', 'rs-clean']), '0');
  assert.equal(s.ok(['wait', 'rs-none']), '1');
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 10_000));
  assert.equal(s.inspect('rs-clean', '{{.RestartCount}} {{.State.Status}}'), '0 exited');
  assert.equal(s.inspect('rs-none', '{{.RestartCount}} {{.State.Status}}'), '0 exited');
});

test('always: restarted after its process is killed from outside; `skiff kill` and `stop` are final', async (t) => {
  const s = await store(t);
  s.ok(['run', '-d', '--name', 'rs-always', '--restart', 'always', 'busybox', 'sleep', '300']);
  const firstPid = Number(s.inspect('rs-always', '{{.State.Pid}}'));
  process.kill(firstPid, 'SIGKILL');
  const back = await eventually(() => {
    const [count, status, pid] = s
      .inspect('rs-always', '{{.RestartCount}} {{.State.Status}} {{.State.Pid}}')
      .split(' ');
    return count === '1' && status === 'running' && Number(pid) !== firstPid && alive(Number(pid));
  }, 20_000);
  assert.ok(back, s.inspect('rs-always', '{{.RestartCount}} {{.State.Status}} {{.State.Pid}}'));
  assert.deepEqual(s.actions('rs-always'), ['create', 'start', 'die', 'start']);

  // Docker: `docker kill` marks the container stopped by the user (its restart manager is cancelled).
  s.ok(['kill', 'rs-always']);
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 10_000));
  assert.equal(
    s.inspect('rs-always', '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}'),
    '1 exited 137',
  );

  // A start by the user resets RestartCount (moby's ResetRestartManager); stop is final too.
  s.ok(['start', 'rs-always']);
  assert.equal(s.inspect('rs-always', '{{.RestartCount}} {{.State.Status}}'), '0 running');
  s.ok(['stop', '-t', '0', 'rs-always']);
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 10_000));
  assert.equal(s.inspect('rs-always', '{{.RestartCount}} {{.State.Status}}'), '0 exited');
  // stop -t 0: the stop signal, then at once SIGKILL (two kill events, as docker's).
  assert.deepEqual(s.actions('rs-always').slice(4), ['kill', 'die', 'start', 'kill', 'kill', 'die', 'stop']);
});

test('a restart waiting out its back-off: Restarting in inspect and ps; stop cancels it', async (t) => {
  const s = await store(t);
  // Exits at once: the back-off doubles (100 ms, 200 ms, 400 ms…) until a wait is long enough to see.
  s.ok(['run', '-d', '--name', 'rs-loop', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
  let seen = '';
  const restarting = await eventually(() => {
    seen = s.ok(['ps', '--filter', 'name=rs-loop', '--format', '{{.Status}}|{{.State}}']);
    return /^Restarting \(1\) .* ago\|restarting$/.test(seen);
  }, 30_000);
  assert.ok(restarting, `ps showed ${seen}`);
  const stopped = s.ok(['stop', 'rs-loop']);
  assert.equal(stopped, 'rs-loop');
  const count = s.inspect('rs-loop', '{{.RestartCount}}');
  assert.equal(
    s.inspect('rs-loop', '{{.State.Status}} {{.State.Restarting}} {{.State.Running}}'),
    'exited false false',
  );
  // The waiting cleanup process finds its claim dropped and ends without starting the container.
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 70_000));
  assert.equal(s.inspect('rs-loop', '{{.RestartCount}} {{.State.Status}}'), `${count} exited`);
  const actions = s.actions('rs-loop');
  assert.equal(actions.at(-1), 'stop', `no start after the stop: ${actions.join(' ')}`);
  assert.ok(Number(count) >= 1);
});

test('rm -f of a restarting container cancels the restart; rm without -f refuses, as docker', async (t) => {
  const s = await store(t);
  s.ok(['run', '-d', '--name', 'rs-gone', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
  assert.ok(
    await eventually(() => s.inspect('rs-gone', '{{.State.Restarting}}') === 'true', 30_000),
    'never seen restarting',
  );
  // Between two runs it is restarting (or already running again): either way not removable without -f.
  const refused = s.skiff(['rm', 'rs-gone']);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /container is (restarting|running): stop the container before removing or force remove/,
  );
  s.ok(['rm', '-f', 'rs-gone']);
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 70_000));
  assert.equal(s.skiff(['ps', '-aq']).stdout, '');
});

test('unless-stopped: restarts after an outside kill, not after `stop`, and not at boot once stopped', async (t) => {
  const s = await store(t);
  s.ok(['run', '-d', '--name', 'rs-unless', '--restart', 'unless-stopped', 'busybox', 'sleep', '300']);
  process.kill(Number(s.inspect('rs-unless', '{{.State.Pid}}')), 'SIGKILL');
  assert.ok(
    await eventually(
      () => s.inspect('rs-unless', '{{.RestartCount}} {{.State.Status}}') === '1 running',
      20_000,
    ),
  );
  s.ok(['stop', '-t', '0', 'rs-unless']);
  assert.ok(await eventually(() => processesMentioning(s.runroot).length === 0, 10_000));
  assert.equal(s.ok(['system', 'boot']), '', 'boot leaves an unless-stopped container the user stopped');
  assert.equal(s.inspect('rs-unless', '{{.State.Status}}'), 'exited');
});

test('system boot: after a simulated reboot, always and unless-stopped containers run again', async (t) => {
  const s = await store(t);
  const always = s.ok(['run', '-d', '--name', 'rs-boot-a', '--restart', 'always', 'busybox', 'sleep', '300']);
  const unless = s.ok([
    'run',
    '-d',
    '--name',
    'rs-boot-u',
    '--restart',
    'unless-stopped',
    'busybox',
    'sleep',
    '300',
  ]);
  s.ok(['run', '-d', '--name', 'rs-boot-n', 'busybox', 'sleep', '300']);
  s.ok(['run', '-d', '--name', 'rs-boot-s', '--restart', 'always', 'busybox', 'sleep', '300']);
  s.ok(['stop', '-t', '0', 'rs-boot-s']);
  // The reboot: every monitor and container process dies at once, and nobody runs a cleanup.
  const victims: number[] = [];
  for (const name of ['rs-boot-a', 'rs-boot-u', 'rs-boot-n']) {
    const id = s.inspect(name, '{{.Id}}');
    victims.push(Number(readFileSync(path.join(s.runroot, 'shims', id, 'monitor.pid'), 'utf8')));
    victims.push(Number(s.inspect(name, '{{.State.Pid}}')));
  }
  for (const pid of victims) process.kill(pid, 'SIGKILL');
  assert.ok(await eventually(() => victims.every((pid) => !alive(pid)), 5000));

  const booted = s.ok(['system', 'boot']).split('\n').sort();
  // docker: `always` comes back even when stopped by the user; unless-stopped only when it was not.
  assert.deepEqual(booted, ['rs-boot-a', 'rs-boot-s', 'rs-boot-u']);
  for (const id of [always, unless]) {
    const [status, pid] = s.inspect(id, '{{.State.Status}} {{.State.Pid}}').split(' ');
    assert.equal(status, 'running');
    assert.ok(alive(Number(pid)));
  }
  assert.equal(s.inspect('rs-boot-n', '{{.State.Status}}'), 'exited', 'no policy: it stays down');
  assert.equal(s.ok(['system', 'boot']), '', 'a second boot finds nothing to do');
});

test('--restart is checked as docker does', async (t) => {
  const s = await store(t);
  const withRm = s.skiff(['run', '--rm', '--restart', 'always', 'busybox', 'true']);
  assert.equal(withRm.status, 125);
  assert.match(withRm.stderr, /conflicting options: cannot specify both --restart and --rm/);
  const unknown = s.skiff(['run', '-d', '--restart', 'sometimes', 'busybox', 'true']);
  assert.equal(unknown.status, 125);
  assert.match(unknown.stderr, /invalid restart policy: unknown policy 'sometimes'/);
  const count = s.skiff(['run', '-d', '--restart', 'always:2', 'busybox', 'true']);
  assert.match(count.stderr, /maximum retry count can only be used with 'on-failure'/);
  const notInt = s.skiff(['create', '--restart', 'on-failure:x', 'busybox', 'true']);
  assert.equal(notInt.status, 125);
  assert.match(notInt.stderr, /maximum retry count must be an integer/);
  assert.equal(s.skiff(['ps', '-aq']).stdout, '', 'nothing was created');
});
