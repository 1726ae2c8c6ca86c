// docker's container verbs through bin/skiff against a temporary $SKIFF_ROOT / $SKIFF_RUNROOT:
// `run -d` (detached under its monitor), ps, inspect, logs, wait, stop, kill, restart, rm, and that
// nothing of a container (mount, cgroup, process) is left once it is removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, type Result, SKIFF } from '../helpers/engine.ts';
import { cgroupDirsNamed, eventually, hostMountsMentioning, processesMentioning } from '../helpers/host.ts';

const BUSYBOX = 'busybox';

/** Nothing of the container is left on the host: mounts, cgroups, processes naming its id. */
async function assertNoLeaks(s: EngineEnv, id: string): Promise<void> {
  assert.deepEqual(hostMountsMentioning(s.root), [], 'no mount under the store is left');
  assert.deepEqual(cgroupDirsNamed(id), [], 'no cgroup of the container is left');
  // The monitor runs its exit command (`container cleanup`) after the exit: give it a moment to end.
  await eventually(() => processesMentioning(id).length === 0, 5000);
  assert.deepEqual(
    processesMentioning(id),
    [],
    'no process (monitor, init, cleanup) of the container is left',
  );
  assert.ok(!readdirSync(path.join(s.root, 'containers')).includes(id), 'its bundle directory is gone');
}

const sh = (script: string) => [BUSYBOX, 'sh', '-c', script];

/** A loop that exits with `code` on `signal` (a shell as PID 1 ignores signals it has no trap for). */
const trapLoop = (signal: string, code: number, before = '') =>
  sh(`${before}trap "echo got-${signal}; exit ${code}" ${signal}; while :; do sleep 0.1; done`);

test('run -d hello-world: ps -a, wait, logs and inspect after the exit', async (t) => {
  const s = await engineEnv(t);
  const id = s.ok(['run', '-d', '--name', 'hello', 'hello-world']);
  assert.match(id, /^[a-f0-9]{64}$/);
  assert.equal(s.ok(['wait', 'hello']), '0');
  assert.doesNotMatch(s.ok(['ps']), /hello/, 'ps without -a lists running containers only');
  const ps = s.ok(['ps', '-a']).split('\n');
  assert.match(ps[0]!, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/);
  assert.match(
    ps[1]!,
    new RegExp(`^${id.slice(0, 12)} +hello-world +"/hello" +.* ago +Exited \\(0\\) .* ago +hello$`),
  );
  assert.match(s.ok(['logs', 'hello']), /Hello from/);
  const state = JSON.parse(s.ok(['inspect', '--format', '{{json .State}}', 'hello'])) as Record<
    string,
    unknown
  >;
  assert.equal(state.Status, 'exited');
  assert.equal(state.Running, false);
  assert.equal(state.ExitCode, 0);
  assert.equal(state.Pid, 0);
  assert.notEqual(state.StartedAt, '0001-01-01T00:00:00Z');
  assert.notEqual(state.FinishedAt, '0001-01-01T00:00:00Z');
  assert.ok(Date.parse(String(state.FinishedAt)) >= Date.parse(String(state.StartedAt)));
  const [full] = JSON.parse(s.ok(['container', 'inspect', id.slice(0, 8)])) as Record<string, unknown>[];
  assert.equal(full!.Id, id);
  assert.equal(full!.Name, '/hello');
  assert.equal(full!.Path, '/hello');
  assert.equal((full!.GraphDriver as { Name: string }).Name, 'overlay2');
  assert.equal((full!.Config as { Image: string }).Image, 'hello-world');
  // Top-level inspect falls back to images; a name that is neither is docker's "No such object".
  assert.match(s.ok(['inspect', '-f', '{{.Id}}', 'hello-world']), /^sha256:[a-f0-9]{64}$/);
  const none = s.skiff(['inspect', 'nothing-here']);
  assert.equal(none.status, 1);
  assert.equal(none.stdout, '[]\n');
  assert.equal(none.stderr, 'Error: No such object: nothing-here\n');
  const noCtr = s.skiff(['container', 'inspect', 'nothing-here']);
  assert.equal(noCtr.stderr, 'Error: No such container: nothing-here\n');
  s.ok(['rm', 'hello']);
  await assertNoLeaks(s, id);
});

test('ps: -q, --filter, --format, --no-trunc, -n/-l and -s on running and exited containers', async (t) => {
  const s = await engineEnv(t);
  const up = s.ok(['run', '-d', '--name', 'up', '-l', 'tier=front', ...sh('sleep 1000')]);
  const done = s.ok(['run', '-d', '--name', 'done', ...sh('echo x > /file; exit 3')]);
  assert.equal(s.ok(['wait', 'done']), '3');
  assert.equal(s.ok(['ps', '-q']), up.slice(0, 12));
  assert.equal(s.ok(['ps', '-aq', '--no-trunc']), `${done}\n${up}`, 'newest first');
  assert.equal(s.ok(['ps', '-l', '-q']), done.slice(0, 12));
  assert.equal(s.ok(['ps', '-n', '2', '--format', '{{.Names}}']), 'done\nup');
  assert.equal(s.ok(['ps', '--filter', 'status=exited', '--format', '{{.Names}}']), 'done');
  assert.equal(s.ok(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}']), 'done');
  assert.equal(s.ok(['ps', '-a', '--filter', 'label=tier=front', '--format', '{{.Names}}']), 'up');
  assert.equal(s.ok(['ps', '-a', '--filter', 'name=^/do', '--format', '{{.Names}}']), 'done');
  assert.equal(s.ok(['ps', '-a', '--filter', `ancestor=${BUSYBOX}`, '-q']).split('\n').length, 2);
  assert.equal(s.ok(['ps', '-a', '--filter', 'since=up', '--format', '{{.Names}}']), 'done');
  assert.equal(s.ok(['ps', '-a', '--filter', 'before=done', '--format', '{{.Names}}']), 'up');
  assert.equal(
    s.ok(['ps', '--format', '{{.Names}} {{.State}} {{.Label "tier"}} {{.Command}}']),
    'up running front "sh -c sleep 1000"',
  );
  assert.match(s.ok(['ps', '--format', '{{.Status}}']), /^Up (Less than a second|\d+ seconds?)$/);
  const json = JSON.parse(s.ok(['ps', '-a', '--filter', 'name=done', '--format', 'json'])) as Record<
    string,
    string
  >;
  assert.equal(json.Names, 'done');
  assert.equal(json.State, 'exited');
  assert.match(json.Status!, /^Exited \(3\) .* ago$/);
  // -s: the writable layer holds the file the container wrote.
  const size = s.ok(['ps', '-a', '-s', '--filter', 'name=done', '--format', '{{.Size}}']);
  assert.match(size, /^\d+(\.\d+)?[kM]?B \(virtual [\d.]+[kM]B\)$/);
  assert.notEqual(size.split(' ')[0], '0B');
  const bad = s.skiff(['ps', '--filter', 'status=sleeping']);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, "Error response from daemon: invalid filter 'status=sleeping'\n");
  const inspect = JSON.parse(s.ok(['inspect', '-s', 'up'])) as Record<string, unknown>[];
  assert.equal((inspect[0]!.State as { Running: boolean }).Running, true);
  const pid = (inspect[0]!.State as { Pid: number }).Pid;
  assert.ok(pid > 0);
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /sleep/);
  assert.equal(typeof inspect[0]!.SizeRw, 'number');
});

test('logs: stdout and stderr apart, --tail, -t, and -f ending when the container exits', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'talk', ...sh('echo one; echo two >&2; echo three; echo four')]);
  assert.equal(s.ok(['wait', 'talk']), '0');
  const logs = s.skiff(['logs', 'talk']);
  assert.equal(logs.stdout, 'one\nthree\nfour\n');
  assert.equal(logs.stderr, 'two\n');
  // The monitor reads stdout and stderr apart (as docker's copiers): their order in the log is not
  // the program's, so --tail is checked on one stream.
  s.ok(['run', '-d', '--name', 'count', ...sh('for i in 1 2 3 4 5; do echo $i; done')]);
  assert.equal(s.ok(['wait', 'count']), '0');
  assert.equal(s.skiff(['logs', '--tail', '2', 'count']).stdout, '4\n5\n');
  assert.equal(s.skiff(['logs', '--tail', 'all', 'count']).stdout, '1\n2\n3\n4\n5\n');
  assert.equal(s.skiff(['logs', '-n', '0', 'count']).stdout, '');
  const stamped = s.skiff(['logs', '-t', 'talk']).stdout.split('\n').filter(Boolean);
  for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (one|three|four)$/);
  assert.equal(s.skiff(['logs', '--since', '1h', 'talk']).stdout, 'one\nthree\nfour\n');
  assert.equal(
    s.skiff(['logs', '--until', '1h', 'talk']).stdout,
    '',
    'every message is newer than an hour ago',
  );

  s.ok(['run', '-d', '--name', 'slow', ...sh('for i in 1 2 3 4; do echo line$i; sleep 0.3; done')]);
  const started = Date.now();
  const follow = spawn(SKIFF, ['logs', '-f', 'slow'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  follow.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const code = await new Promise<number | null>((resolve) => follow.on('close', resolve));
  assert.equal(code, 0);
  assert.equal(out, 'line1\nline2\nline3\nline4\n');
  assert.ok(Date.now() - started < 15_000, 'logs -f returned once the container exited');

  const missing = s.skiff(['logs', 'nope']);
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'Error response from daemon: No such container: nope\n');
});

test("logs of a container whose logging driver is none: docker's refusal", async (t) => {
  const s = await engineEnv(t);
  const made = s.skiff(['run', '-d', '--name', 'quiet', '--log-driver', 'none', ...sh('echo hidden')]);
  if (/unknown flag: --log-driver/.test(made.stderr)) {
    t.skip('run has no --log-driver');
    return;
  }
  assert.equal(made.status, 0, made.stderr);
  s.ok(['wait', 'quiet']);
  const unreadable = s.skiff(['logs', 'quiet']);
  assert.equal(unreadable.status, 1);
  assert.equal(
    unreadable.stderr,
    'Error response from daemon: configured logging driver does not support reading\n',
  );
});

test('stop: SIGTERM (exit 143 from a trap), SIGKILL after -t (137), -s, and the name echoed', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'polite', ...trapLoop('TERM', 143)]);
  // A shell as PID 1 without a trap ignores SIGTERM: stop must escalate to SIGKILL after -t.
  s.ok(['run', '-d', '--name', 'stubborn', ...sh('sleep 1000')]);
  s.ok(['run', '-d', '--name', 'usr1', ...trapLoop('USR1', 42)]);
  assert.equal(s.ok(['stop', 'polite']), 'polite');
  assert.equal(s.ok(['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', 'polite']), '143 exited');
  assert.match(s.ok(['logs', 'polite']), /got-TERM/);
  const before = Date.now();
  assert.equal(s.ok(['stop', '-t', '1', 'stubborn']), 'stubborn');
  assert.ok(Date.now() - before >= 900, 'the stop signal was given its second');
  assert.equal(s.ok(['inspect', '-f', '{{.State.ExitCode}}', 'stubborn']), '137');
  assert.equal(s.ok(['stop', '-s', 'USR1', 'usr1']), 'usr1');
  assert.equal(s.ok(['inspect', '-f', '{{.State.ExitCode}}', 'usr1']), '42');
  // An --rm container: stop prints its name and the container is gone (removed by its exit).
  s.ok(['run', '-d', '--rm', '--name', 'auto', ...sh('sleep 1000')]);
  assert.equal(s.ok(['stop', '-t', '1', 'auto']), 'auto');
  assert.doesNotMatch(s.ok(['ps', '-a', '--format', '{{.Names}}']), /auto/);
  // Stopping a stopped container is fine; a missing one is docker's error, the others still stop.
  const mixed = s.skiff(['stop', 'polite', 'nope']);
  assert.equal(mixed.status, 1);
  assert.equal(mixed.stdout, 'polite\n');
  assert.equal(mixed.stderr, 'Error response from daemon: No such container: nope\n');
});

test('kill -s delivers the signal; kill of a stopped container fails; restart runs it again', async (t) => {
  const s = await engineEnv(t);
  const id = s.ok(['run', '-d', '--name', 'sig', ...trapLoop('HUP', 7, 'echo start; ')]);
  assert.equal(s.ok(['kill', '-s', 'HUP', 'sig']), 'sig');
  assert.equal(s.ok(['wait', 'sig']), '7');
  assert.match(s.ok(['logs', 'sig']), /got-HUP/);
  const dead = s.skiff(['kill', 'sig']);
  assert.equal(dead.status, 1);
  assert.match(dead.stderr, /^Error response from daemon: .*is not running\n$/i);

  const firstStart = s.ok(['inspect', '-f', '{{.State.StartedAt}}', 'sig']);
  assert.equal(s.ok(['restart', '-t', '2', 'sig']), 'sig');
  assert.equal(s.ok(['inspect', '-f', '{{.State.Status}}', 'sig']), 'running');
  assert.notEqual(s.ok(['inspect', '-f', '{{.State.StartedAt}}', 'sig']), firstStart);
  assert.equal(s.ok(['logs', 'sig']).match(/^start$/gm)?.length, 2, 'the log holds both runs');
  // restart of a running container: stop (HUP trap does not fire on TERM, so SIGKILL after 1 s).
  assert.equal(s.ok(['restart', '-t', '1', 'sig']), 'sig');
  assert.equal(s.ok(['inspect', '-f', '{{.State.Running}}', 'sig']), 'true');
  assert.equal(s.ok(['kill', 'sig']), 'sig');
  assert.equal(s.ok(['wait', 'sig']), '137');
  s.ok(['rm', 'sig']);
  await assertNoLeaks(s, id);
});

test("rm: a running container needs -f; errors for one do not stop the others; docker's messages", async (t) => {
  const s = await engineEnv(t);
  const id = s.ok(['run', '-d', '--name', 'busy', ...sh('sleep 1000')]);
  const refused = s.skiff(['rm', 'busy']);
  assert.equal(refused.status, 1);
  assert.equal(
    refused.stderr,
    'Error response from daemon: cannot remove container "/busy": container is running: stop the container before removing or force remove\n',
  );
  s.ok(['create', '--name', 'idle', BUSYBOX, 'true']);
  const mixed = s.skiff(['rm', 'nope', 'idle']);
  assert.equal(mixed.status, 1);
  assert.equal(mixed.stdout, 'idle\n');
  assert.equal(mixed.stderr, 'Error response from daemon: No such container: nope\n');
  // Under -f a missing container is reported but is not a failure (as docker's CLI).
  const forced = s.skiff(['rm', '-f', 'busy', 'nope']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.equal(forced.stdout, 'busy\n');
  assert.equal(s.ok(['ps', '-aq']), '');
  await assertNoLeaks(s, id);
});

test('two concurrent rm -f of one running container both succeed and leave nothing behind', async (t) => {
  const s = await engineEnv(t);
  const id = s.ok(['run', '-d', '--name', 'race', ...sh('sleep 1000')]);
  const pid = Number(s.ok(['inspect', '-f', '{{.State.Pid}}', 'race']));
  const rm = () =>
    new Promise<Result>((resolve) => {
      const child = spawn(SKIFF, ['rm', '-f', 'race'], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
      });
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
    });
  const [a, b] = await Promise.all([rm(), rm()]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  for (const r of [a, b])
    assert.ok(
      r.stdout === 'race\n' || r.stderr === 'Error response from daemon: No such container: race\n',
      `each rm either removed it or found it gone: ${JSON.stringify(r)}`,
    );
  assert.equal(s.ok(['ps', '-aq']), '');
  assert.ok(
    await eventually(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }),
    'the container process is gone',
  );
  await assertNoLeaks(s, id);
  // The store is still usable: the name is free again.
  const again = s.ok(['run', '-d', '--name', 'race', ...sh('true')]);
  assert.equal(s.ok(['wait', 'race']), '0');
  s.ok(['rm', 'race']);
  await assertNoLeaks(s, again);
});

test('container cleanup (the monitor exit command) is hidden and quiet', async (t) => {
  const s = await engineEnv(t);
  assert.doesNotMatch(s.ok(['container', '--help']), /cleanup/);
  const gone = s.skiff(['container', 'cleanup', 'f'.repeat(64)]);
  assert.equal(gone.status, 0);
  assert.equal(gone.stdout + gone.stderr, '');
  const id = s.ok(['run', '-d', ...sh('exit 5')]);
  assert.equal(s.ok(['wait', id]), '5');
  const again = s.skiff(['container', 'cleanup', id]);
  assert.equal(again.status, 0);
  assert.equal(again.stdout + again.stderr, '', 'a second cleanup has nothing to do and says nothing');
  assert.equal(s.ok(['inspect', '-f', '{{.State.ExitCode}}', id]), '5');
});
