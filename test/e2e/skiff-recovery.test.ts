// The engine's recovery promise (issue 4): the CLI killed with -9 at any step of create, start, stop,
// rm or restart, or the container's processes killed from the host, and the next command finds the
// truth — a container whose process is gone shows exited with the right code, a running one running —
// and `rm -f` then leaves nothing: no mount under the root, no cgroup, no shim of this runroot, no
// runtime state. The CLI is stopped at exact steps with SKIFF_TEST_PAUSE (src/engine/containers/
// test-pause.ts) and killed there; guessed delays cover the steps in between.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, SKIFF } from '../helpers/engine.ts';
import { cgroupDirsNamed, eventually } from '../helpers/host.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A container that ignores SIGTERM (PID 1 would anyway; the trap says so for a reader). */
const STUBBORN = ['busybox', 'sh', '-c', 'trap "" TERM; sleep 300'];

function ok(e: EngineEnv, args: string[]): string {
  const r = e.skiff(args);
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function state(e: EngineEnv, ref: string): string {
  return ok(e, ['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', ref]);
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = processState(pid);
  return s !== undefined && s !== 'Z';
}

/**
 * Runs `skiff args` until it stops itself at `step` (SKIFF_TEST_PAUSE), then kills it with -9
 * (after `settleMs`, for other processes to come to wait on its lease).
 */
async function killAtStep(e: EngineEnv, step: string, args: string[], settleMs = 0): Promise<void> {
  const child = spawn(SKIFF, args, { env: { ...e.env, SKIFF_TEST_PAUSE: step }, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const paused = await eventually(() => processState(child.pid!) === 'T', 20_000);
  await sleep(settleMs);
  child.kill('SIGKILL');
  await exited;
  assert.ok(paused, `skiff ${args.join(' ')} never reached ${step}`);
}

/** Runs `skiff args` and kills it with -9 after `delay` ms (wherever it is by then). */
async function killAfter(e: EngineEnv, delay: number, args: string[]): Promise<void> {
  const child: ChildProcess = spawn(SKIFF, args, { env: e.env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await sleep(delay);
  child.kill('SIGKILL');
  await exited;
}

/**
 * An engine root of its own; at the end its containers go first and their monitors' exit commands
 * end before engineEnv removes the root (hooks run in the order they were added), so that nothing
 * writes into the root while it is being removed.
 */
async function recoveryEnv(t: { after: (fn: () => void | Promise<void>) => void }): Promise<EngineEnv> {
  let env: EngineEnv | undefined;
  t.after(async () => {
    if (!env) return;
    const ids = env.skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) env.skiff(['rm', '-f', ...ids]);
    await eventually(() => processesOf(env!).length === 0, 5000);
  });
  env = await engineEnv(t);
  return env;
}

/** Processes of this engine root (shims, exit commands), or naming the container `id`. */
function processesOf(e: EngineEnv, id?: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(e.runroot) || (id && cmdline.includes(id)))
        found.push(`process ${pid} ${cmdline.replaceAll('\0', ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** What of this engine root is still on the host: mounts, cgroups, shims, runtime state. */
function leftovers(e: EngineEnv, id: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(e.root)) found.push(`mount ${line.split(' ')[4]}`);
  for (const dir of cgroupDirsNamed(id)) found.push(`cgroup ${dir}`);
  found.push(...processesOf(e, id));
  if (existsSync(path.join(e.runroot, 'runtime', id))) found.push(`runtime state ${id}`);
  if (existsSync(path.join(e.runroot, 'shims', id))) found.push(`monitor dir ${id}`);
  return found;
}

/** `rm -f` of the container (if it still exists) leaves nothing of it. */
async function removeAndCheck(e: EngineEnv, name: string, id: string | undefined): Promise<void> {
  const rm = e.skiff(['rm', '-f', name]);
  assert.ok(rm.status === 0 || /No such container/.test(rm.stderr), rm.stderr);
  assert.doesNotMatch(ok(e, ['ps', '-a', '--format', '{{.Names}}']), new RegExp(`^${name}$`, 'm'));
  if (!id) return;
  // The monitor's exit command (`container cleanup`) may still be ending.
  await eventually(() => leftovers(e, id).length === 0, 5000);
  assert.deepEqual(leftovers(e, id), [], `nothing of ${name} is left`);
}

function idOf(e: EngineEnv, name: string): string | undefined {
  const r = e.skiff(['inspect', '-f', '{{.Id}}', name]);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The container's status as the next command sees it, with the truth of its init process. */
function truthful(e: EngineEnv, name: string): string {
  const ps = ok(e, ['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.State}}']);
  const pid = Number(ok(e, ['inspect', '-f', '{{.State.Pid}}', name]));
  const status = ok(e, ['inspect', '-f', '{{.State.Status}}', name]);
  assert.equal(ps, status, 'ps and inspect agree');
  if (status === 'running') assert.ok(pid > 0 && alive(pid), `running ${name} has a live pid ${pid}`);
  else assert.equal(pid, 0, `${status} ${name} has no pid`);
  return status;
}

test('the CLI killed with -9 at each step: the next command is truthful and rm -f leaves nothing', async (t) => {
  const e = await recoveryEnv(t);

  await t.test('create, killed after the record is written', async () => {
    await killAtStep(e, 'create:inserted', ['create', '--name', 'c-ins', ...STUBBORN]);
    const id = idOf(e, 'c-ins');
    // A half-made container is undone by the next command, as if create had never run.
    assert.equal(id, undefined, 'the half-created container is gone');
    assert.equal(ok(e, ['ps', '-aq']), '');
    // The name is free again.
    const again = ok(e, ['create', '--name', 'c-ins', ...STUBBORN]);
    assert.equal(truthful(e, 'c-ins'), 'created');
    await removeAndCheck(e, 'c-ins', again);
  });

  await t.test('create, killed after delays', async () => {
    for (const delay of [20, 60, 120, 250]) {
      const name = `c-${delay}`;
      await killAfter(e, delay, ['create', '--name', name, ...STUBBORN]);
      const id = idOf(e, name);
      if (id) {
        assert.equal(truthful(e, name), 'created');
        // What is left starts like any container.
        ok(e, ['start', name]);
        assert.equal(truthful(e, name), 'running');
      }
      await removeAndCheck(e, name, id);
    }
  });

  for (const step of ['start:created', 'start:started']) {
    await t.test(`start, killed at ${step}`, async () => {
      const name = `s-${step.split(':')[1]}`;
      const id = ok(e, ['create', '--name', name, ...STUBBORN]);
      await killAtStep(e, step, ['start', name]);
      // Killed before the program started, the start is undone; after, the container is adopted.
      assert.equal(truthful(e, name), step === 'start:created' ? 'created' : 'running');
      ok(e, ['start', name]);
      assert.equal(truthful(e, name), 'running');
      ok(e, ['stop', '-t', '0', name]);
      assert.equal(state(e, name), 'exited 137 false');
      await removeAndCheck(e, name, id);
    });
  }

  await t.test('start, killed after the program started, which then ends: its exit is recorded', async () => {
    const id = ok(e, ['create', '--name', 's-ends', 'busybox', 'sh', '-c', 'sleep 0.3; exit 3']);
    // The program ends while start is stopped: its monitor's exit command waits for start's lease,
    // and takes it over when start is killed.
    await killAtStep(e, 'start:started', ['start', 's-ends'], 1500);
    assert.ok(
      await eventually(() => state(e, 's-ends') === 'exited 3 false', 5000),
      `the run's exit is recorded: ${state(e, 's-ends')}`,
    );
    await removeAndCheck(e, 's-ends', id);
  });

  await t.test(
    'a stop waiting for the lease of a start that dies takes over and stops the container',
    async () => {
      const id = ok(e, ['create', '--name', 's-wait', ...STUBBORN]);
      const start = spawn(SKIFF, ['start', 's-wait'], {
        env: { ...e.env, SKIFF_TEST_PAUSE: 'start:started' },
        stdio: 'ignore',
      });
      const startExited = new Promise((resolve) => start.once('exit', resolve));
      assert.ok(await eventually(() => processState(start.pid!) === 'T', 20_000), 'start paused');
      const stop = spawn(SKIFF, ['stop', '-t', '1', 's-wait'], { env: e.env, stdio: 'ignore' });
      const stopped = new Promise<number | null>((resolve) => stop.once('exit', resolve));
      await sleep(500); // stop is waiting for start's lease by now
      start.kill('SIGKILL');
      await startExited;
      assert.equal(await stopped, 0);
      // The started container was adopted by stop's takeover, then stopped: SIGKILL after 1 s.
      assert.equal(state(e, 's-wait'), 'exited 137 false');
      await removeAndCheck(e, 's-wait', id);
    },
  );

  await t.test('start, killed after delays', async () => {
    for (const delay of [20, 60, 120, 250]) {
      const name = `s-${delay}`;
      const id = ok(e, ['create', '--name', name, ...STUBBORN]);
      await killAfter(e, delay, ['start', name]);
      const status = truthful(e, name);
      assert.ok(['created', 'running', 'exited'].includes(status), status);
      if (status !== 'running') ok(e, ['start', name]);
      assert.equal(truthful(e, name), 'running');
      await removeAndCheck(e, name, id);
    }
  });

  await t.test('stop -t 5, killed after its SIGTERM: the container runs on', async () => {
    const id = ok(e, ['run', '-d', '--name', 'st-term', ...STUBBORN]);
    await killAtStep(e, 'stop:signalled', ['stop', '-t', '5', 'st-term']);
    assert.equal(truthful(e, 'st-term'), 'running');
    assert.equal(state(e, 'st-term'), 'running 0 true');
    // The lease of the dead stop does not block the next one.
    ok(e, ['stop', '-t', '0', 'st-term']);
    assert.equal(state(e, 'st-term'), 'exited 137 false');
    await removeAndCheck(e, 'st-term', id);
  });

  await t.test('stop -t 5, killed after its SIGKILL: exited 137', async () => {
    const id = ok(e, ['run', '-d', '--name', 'st-kill', '--stop-timeout', '0', ...STUBBORN]);
    await killAtStep(e, 'stop:killed', ['stop', 'st-kill']);
    assert.ok(await eventually(() => truthful(e, 'st-kill') === 'exited', 5000));
    assert.equal(state(e, 'st-kill'), 'exited 137 false');
    await removeAndCheck(e, 'st-kill', id);
  });

  await t.test('stop -t 5, killed after delays', async () => {
    for (const delay of [60, 120, 250]) {
      const name = `st-${delay}`;
      const id = ok(e, ['run', '-d', '--name', name, ...STUBBORN]);
      await killAfter(e, delay, ['stop', '-t', '5', name]);
      assert.equal(truthful(e, name), 'running');
      await removeAndCheck(e, name, id);
    }
  });

  for (const step of ['rm:killed', 'rm:removing']) {
    await t.test(`rm -f, killed at ${step}: the next command finishes the removal`, async () => {
      const name = `rm-${step.split(':')[1]}`;
      const id = ok(e, ['run', '-d', '--name', name, ...STUBBORN]);
      // The monitor's exit command comes to wait for the lease meanwhile; when rm dies, it takes the
      // lease over and must finish the removal itself: no stale lease is left for the next command.
      await killAtStep(e, step, ['rm', '-f', name], 1000);
      await eventually(() => !leftovers(e, id).some((l) => l.includes('cleanup')), 5000);
      // The next command either sees an exited container (its monitor's cleanup ran) or none.
      const ps = ok(e, ['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.State}} {{.Status}}']);
      if (step === 'rm:removing') assert.equal(ps, '', 'a removal under way is finished');
      else assert.match(ps, /^(exited Exited \(137\) .*)?$/);
      await removeAndCheck(e, name, id);
    });
  }

  await t.test('rm -f, killed after delays', async () => {
    for (const delay of [20, 60, 120, 250]) {
      const name = `rm-${delay}`;
      const id = ok(e, ['run', '-d', '--name', name, ...STUBBORN]);
      await killAfter(e, delay, ['rm', '-f', name]);
      if (idOf(e, name)) assert.match(truthful(e, name), /^(running|exited)$/);
      await removeAndCheck(e, name, id);
    }
  });

  await t.test('restart, killed between its stop and its start', async () => {
    const id = ok(e, ['run', '-d', '--name', 'rs-mid', ...STUBBORN]);
    await killAtStep(e, 'restart:stopped', ['restart', '-t', '0', 'rs-mid']);
    assert.equal(truthful(e, 'rs-mid'), 'exited');
    assert.equal(state(e, 'rs-mid'), 'exited 137 false');
    ok(e, ['start', 'rs-mid']);
    assert.equal(truthful(e, 'rs-mid'), 'running');
    await removeAndCheck(e, 'rs-mid', id);
  });

  await t.test('restart of an --rm container, killed mid-way: gone or true, never half', async () => {
    const id = ok(e, ['run', '-d', '--rm', '--name', 'rs-rm', ...STUBBORN]);
    await killAtStep(e, 'restart:stopped', ['restart', '-t', '0', 'rs-rm']);
    if (idOf(e, 'rs-rm')) assert.match(truthful(e, 'rs-rm'), /^(running|exited)$/);
    await removeAndCheck(e, 'rs-rm', id);
  });

  await t.test('restart, killed after delays', async () => {
    for (const delay of [60, 120, 250, 400]) {
      const name = `rs-${delay}`;
      const id = ok(e, ['run', '-d', '--name', name, ...STUBBORN]);
      await killAfter(e, delay, ['restart', '-t', '0', name]);
      assert.match(truthful(e, name), /^(running|exited)$/);
      await removeAndCheck(e, name, id);
    }
  });
});

test('an attached run killed with -9: the monitor records the exit and cleans up', async (t) => {
  const e = await recoveryEnv(t);

  /** `skiff run` attached to a program of ~1.5 s, killed `delay` ms after the program runs. */
  async function killRunWhileRunning(name: string, flags: string[], delay: number): Promise<string> {
    const args = ['run', ...flags, '--name', name, 'busybox', 'sh', '-c', 'sleep 1.5; exit 3'];
    const child = spawn(SKIFF, args, { env: e.env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const running = await eventually(
      () => idOf(e, name) !== undefined && state(e, name).startsWith('running'),
      10_000,
    );
    const id = idOf(e, name);
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    assert.ok(running && id, `${name} ran`);
    return id;
  }

  await t.test('without --rm: the exit code of the container, as if the CLI had stayed', async () => {
    const id = await killRunWhileRunning('att', [], 100);
    assert.ok(await eventually(() => state(e, 'att') === 'exited 3 false', 5000), state(e, 'att'));
    await removeAndCheck(e, 'att', id);
  });

  await t.test('with --rm: the container removes itself when it ends', async () => {
    for (const delay of [0, 300, 600]) {
      const name = `att-rm-${delay}`;
      const id = await killRunWhileRunning(name, ['--rm'], delay);
      assert.ok(await eventually(() => idOf(e, name) === undefined, 5000), `${name} removed itself`);
      await eventually(() => leftovers(e, id).length === 0, 5000);
      assert.deepEqual(leftovers(e, id), []);
    }
  });
});

test('processes killed from the host: the next ps tells the truth', async (t) => {
  const e = await recoveryEnv(t);

  await t.test("the container's process killed with -9: Exited (137), not OOM-killed", async () => {
    const id = ok(e, ['run', '-d', '--name', 'victim', ...STUBBORN]);
    const pid = Number(ok(e, ['inspect', '-f', '{{.State.Pid}}', 'victim']));
    assert.ok(pid > 0 && alive(pid));
    process.kill(pid, 'SIGKILL');
    assert.ok(await eventually(() => truthful(e, 'victim') === 'exited', 5000));
    assert.equal(ok(e, ['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', 'victim']), '137 false');
    assert.match(
      ok(e, ['ps', '-a', '--filter', 'name=victim', '--format', '{{.Status}}']),
      /^Exited \(137\) /,
    );
    await removeAndCheck(e, 'victim', id);
  });

  await t.test(
    'the monitor and the container both killed with -9: exited, and rm leaves nothing',
    async () => {
      const id = ok(e, ['run', '-d', '--name', 'both', ...STUBBORN]);
      const pid = Number(ok(e, ['inspect', '-f', '{{.State.Pid}}', 'both']));
      const monitor = Number(readFileSync(path.join(e.runroot, 'shims', id, 'monitor.pid'), 'utf8'));
      process.kill(monitor, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
      await eventually(() => !alive(pid) && !alive(monitor), 5000);
      assert.equal(truthful(e, 'both'), 'exited');
      // Nobody recorded the exit: the engine says so with a non-zero code rather than inventing 0.
      const code = Number(ok(e, ['inspect', '-f', '{{.State.ExitCode}}', 'both']));
      assert.notEqual(code, 0);
      assert.equal(e.skiff(['wait', 'both']).stdout.trim(), String(code));
      // The next start works: nothing of the dead run is in the way.
      ok(e, ['start', 'both']);
      assert.equal(truthful(e, 'both'), 'running');
      await removeAndCheck(e, 'both', id);
    },
  );
});
