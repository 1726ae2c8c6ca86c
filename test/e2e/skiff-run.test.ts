// `skiff run` and friends driven like a user: real containers under a detached monitor, through the
// bundled CLI, against a temporary engine root. Each test checks what the user sees (output, exit
// codes, inspect) and that nothing of the container is left on the host afterwards.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  type EngineEnv,
  engineEnv,
  importBusybox,
  removeBridges,
  SKIFF,
  skiffWithRoot,
  terminalSession,
} from '../helpers/engine.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function inspect(e: EngineEnv, ref: string, format: string): string {
  const r = e.skiff(['inspect', '-f', format, ref]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** Mounts, cgroups and processes of this engine root that are still there. */
function leftovers(e: EngineEnv, id?: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(e.root)) found.push(`mount ${line.split(' ')[4]}`);
  if (id) {
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = path.join('/sys/fs/cgroup', controller, 'skiff', id);
      if (existsSync(dir)) found.push(`cgroup ${dir}`);
    }
  }
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(e.runroot) && !cmdline.includes('container\0cleanup'))
        found.push(`process ${pid} ${cmdline}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function noLeftovers(e: EngineEnv, id?: string): Promise<void> {
  // The monitor's cleanup command may still be finishing.
  for (let i = 0; i < 50 && leftovers(e, id).length > 0; i++) await sleep(100);
  assert.deepEqual(leftovers(e, id), []);
}

test('skiff run', async (t) => {
  const e = await engineEnv(t);

  await t.test('run --rm hello-world prints its greeting and leaves nothing', async () => {
    const r = e.skiff(['run', '--rm', 'hello-world']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Hello from skiff/);
    assert.equal(e.skiff(['ps', '-aq']).stdout, '');
    await noLeftovers(e);
  });

  await t.test('exit codes: the command, 127/126 for a missing or non-executable one, 125, signals', () => {
    assert.equal(e.skiff(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3']).status, 3);
    const missing = e.skiff(['run', '--rm', 'busybox', 'no-such-command']);
    assert.equal(missing.status, 127, missing.stderr);
    assert.match(missing.stderr, /no-such-command/);
    assert.equal(e.skiff(['run', '--rm', 'busybox', '/etc/passwd']).status, 126);
    const noImage = e.skiff(['run', '--rm', 'no-such-image:1']);
    assert.equal(noImage.status, 125);
    assert.match(noImage.stderr, /no-such-image/);
    // PID 1 of a pid namespace ignores signals it has no handler for: the signal goes to a child.
    // (and a following command keeps sh from exec'ing the last one in its place).
    assert.equal(
      e.skiff(['run', '--rm', 'busybox', 'sh', '-c', 'sh -c "kill -TERM \\$\\$"; exit $?']).status,
      143,
    );
    assert.equal(e.skiff(['ps', '-aq']).stdout, '');
  });

  await t.test('stdout and stderr stay apart; -i feeds stdin', () => {
    const r = e.skiff(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const cat = e.skiff(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'hello\n' });
    assert.equal(cat.stdout, 'hello\ndone\n');
  });

  await t.test('run -d, exec, stop, rm', async () => {
    const run = e.skiff(['run', '-d', '--name', 'web', 'busybox', 'sleep', '300']);
    assert.equal(run.status, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(inspect(e, 'web', '{{.State.Status}} {{.State.Running}}'), 'running true');
    const hostname = e.skiff(['exec', 'web', 'cat', '/etc/hostname']);
    assert.equal(hostname.stdout.trim(), id.slice(0, 12));
    assert.equal(e.skiff(['exec', 'web', 'sh', '-c', 'exit 4']).status, 4);
    assert.equal(e.skiff(['exec', '-i', 'web', 'cat'], { input: 'via exec\n' }).stdout, 'via exec\n');
    const stop = e.skiff(['stop', '-t', '2', 'web']);
    assert.equal(stop.status, 0, stop.stderr);
    // sleep as PID 1 ignores SIGTERM: stop's SIGKILL after the timeout ends it, as with docker.
    assert.equal(inspect(e, 'web', '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    assert.equal(e.skiff(['exec', 'web', 'true']).status, 1);
    assert.equal(e.skiff(['rm', 'web']).status, 0);
    await noLeftovers(e, id);
  });

  await t.test('run -it through a terminal: type a command, read the answer, leave with exit', async () => {
    const term = terminalSession(e, ['run', '--rm', '-it', 'busybox', 'sh']);
    await term.waitFor('#');
    term.type('echo answer-$((6*7)); tty\r');
    const output = await term.waitFor('answer-42');
    term.type('exit 5\r');
    assert.equal(await term.exited, 5);
    assert.match(output, /answer-42/);
    assert.match(output, /\/dev\/pts\/0/);
  });

  await t.test('--init reaps the zombies that a non-reaping PID 1 would collect', async () => {
    const zombies = (init: string[]) => {
      const name = `z${Math.random().toString(36).slice(2, 8)}`;
      const run = e.skiff([
        'run',
        '-d',
        '--name',
        name,
        ...init,
        'busybox',
        'sh',
        '-c',
        '(sleep 0.2 &); (sleep 0.2 &); (sleep 0.2 &); exec sleep 60',
      ]);
      assert.equal(run.status, 0, run.stderr);
      spawnSync('sleep', ['1.5']);
      const ps = e.skiff(['exec', name, 'ps', '-o', 'stat']);
      e.skiff(['rm', '-f', name]);
      return ps.stdout.split('\n').filter((l) => l.trim().startsWith('Z')).length;
    };
    assert.equal(zombies([]), 3);
    assert.equal(zombies(['--init']), 0);
  });

  await t.test('--memory: the OOM kill shows as exit 137 and OOMKilled', async () => {
    const r = e.skiff([
      'run',
      '--name',
      'oom',
      '--memory',
      '32m',
      '--memory-swap',
      '32m',
      'busybox',
      '/probe',
      'memhog',
      '200',
    ]);
    assert.equal(r.status, 137, r.stderr);
    assert.equal(inspect(e, 'oom', '{{.State.OOMKilled}} {{.State.ExitCode}}'), 'true 137');
    e.skiff(['rm', 'oom']);
  });

  await t.test(
    'the CLI killed during run -d: the next commands find a true state and rm -f cleans all',
    async () => {
      for (const delay of [30, 120, 250, 400]) {
        const name = `k${delay}`;
        const child = spawn(SKIFF, ['run', '-d', '--name', name, 'busybox', 'sleep', '300'], {
          env: e.env,
          stdio: 'ignore',
        });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        await sleep(delay);
        child.kill('SIGKILL');
        await exited;
        const ps = e.skiff(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
        assert.equal(ps.status, 0, ps.stderr);
        const rm = e.skiff(['rm', '-f', name]);
        assert.ok(rm.status === 0 || /No such container/.test(rm.stderr), rm.stderr);
      }
      await noLeftovers(e);
    },
  );

  await t.test('the monitor killed: the container runs on, stop and rm still work', async () => {
    const id = e.skiff(['run', '-d', '--name', 'orphan', 'busybox', 'sleep', '300']).stdout.trim();
    const monitorPid = Number(readFileSync(path.join(e.runroot, 'shims', id, 'monitor.pid'), 'utf8'));
    process.kill(monitorPid, 'SIGKILL');
    await sleep(200);
    assert.equal(inspect(e, 'orphan', '{{.State.Running}}'), 'true');
    assert.equal(e.skiff(['stop', '-t', '1', 'orphan']).status, 0);
    assert.equal(inspect(e, 'orphan', '{{.State.Running}}'), 'false');
    assert.equal(e.skiff(['rm', 'orphan']).status, 0);
    await noLeftovers(e, id);
  });

  await t.test('two concurrent rm -f of one container both end well', async () => {
    const id = e.skiff(['run', '-d', 'busybox', 'sleep', '300']).stdout.trim();
    const rm = () =>
      new Promise<number | null>((resolve) => {
        const child = spawn(SKIFF, ['rm', '-f', id], { env: e.env, stdio: 'ignore' });
        child.once('exit', resolve);
      });
    const codes = await Promise.all([rm(), rm()]);
    assert.ok(codes.includes(0), `exit codes ${codes}`);
    assert.equal(e.skiff(['ps', '-aq']).stdout, '');
    await noLeftovers(e, id);
  });

  await t.test(
    "export writes the container's files; an image in use is kept from rmi and prune",
    async () => {
      const id = e
        .skiff(['create', '--name', 'exp', 'busybox', 'sh', '-c', 'echo hi > /made-here'])
        .stdout.trim();
      assert.equal(e.skiff(['start', '-a', 'exp']).status, 0);
      const tar = spawnSync(SKIFF, ['export', 'exp'], { env: e.env, maxBuffer: 64 << 20 });
      assert.equal(tar.status, 0, String(tar.stderr));
      const list = spawnSync('tar', ['-t'], { input: tar.stdout, encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.match(list.stdout, /^\.\/made-here$/m);
      assert.match(list.stdout, /^\.\/bin\/busybox$/m);
      const rmi = e.skiff(['rmi', 'busybox']);
      assert.equal(rmi.status, 1);
      assert.match(rmi.stderr, new RegExp(`container ${id.slice(0, 12)} is using its referenced image`));
      assert.equal(e.skiff(['image', 'prune', '-a', '-f']).status, 0);
      assert.equal(e.skiff(['start', '-a', 'exp']).status, 0, 'the image layers are still there');
      e.skiff(['rm', 'exp']);
      await noLeftovers(e, id);
    },
  );
});

test('a run root deeper than a unix socket path holds still attaches (the monitor binds through an fd)', async (t) => {
  const base = mkdtempSync(path.join(tmpdir(), 'skiff-deep-'));
  const root = path.join(base, 'a-rather-long-directory-name-for-the-store', 'and-another-level-below-it');
  mkdirSync(root, { recursive: true });
  t.after(() => {
    const ids = skiffWithRoot(root, ['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) skiffWithRoot(root, ['rm', '-f', ...ids]);
    removeBridges(root);
    rmSync(base, { recursive: true, force: true });
  });
  await importBusybox(root);
  assert.ok(path.join(root, 'run', 'shims', 'x'.repeat(64), 'attach').length > 107);
  const r = skiffWithRoot(root, ['run', '--rm', 'busybox', 'echo', 'deep']);
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, 'deep\n', '']);
});
