import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { IMAGE, podmanHarness } from '../helpers/podman.ts';

test('podman run --rm through skiff-runtime', (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const result = podman([
    'run',
    '--rm',
    IMAGE,
    '/bin/sh',
    '-c',
    'echo "hello from $(hostname) as pid $$"; exit 4',
  ]);
  assert.equal(result.status, 4, result.stderr);
  assert.match(result.stdout, /^hello from [0-9a-f]{12} as pid 1$/m);
  const left = podman(['ps', '--all', '--quiet']);
  assert.equal(left.stdout.trim(), '', 'the container was removed');
});

test('podman run --detach, logs, stop and rm through skiff-runtime', (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const run = podman([
    'run',
    '--detach',
    '--name',
    'sleeper',
    IMAGE,
    '/bin/sh',
    '-c',
    'echo started; exec sleep 60',
  ]);
  assert.equal(run.status, 0, run.stderr);
  const inspect = podman(['inspect', '--format', '{{.State.Status}}', 'sleeper']);
  assert.equal(inspect.stdout.trim(), 'running');
  assert.equal(podman(['stop', '--time', '1', 'sleeper']).status, 0);
  assert.match(podman(['logs', 'sleeper']).stdout, /started/);
  assert.equal(podman(['rm', 'sleeper']).status, 0);
});

test('podman passes capabilities, seccomp and no-new-privileges, and skiff-runtime applies them', (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const status = (...options: string[]) => {
    const result = podman([
      'run',
      '--rm',
      ...options,
      IMAGE,
      '/bin/sh',
      '-c',
      'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status',
    ]);
    assert.equal(result.status, 0, result.stderr);
    return Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/:\s+/)),
    );
  };
  const host = readFileSync('/proc/self/status', 'utf8').match(/^CapBnd:\s+(\w+)$/m)![1];
  const defaults = status();
  assert.equal(defaults.Seccomp, '2', "podman's default seccomp profile is loaded");
  assert.equal(defaults.NoNewPrivs, '0');
  assert.notEqual(defaults.CapBnd, host, 'the bounding set is podman’s, not the host’s');
  assert.equal(defaults.CapEff, defaults.CapBnd);
  const locked = status('--cap-drop', 'all', '--security-opt', 'no-new-privileges');
  assert.deepEqual(
    [locked.CapEff, locked.CapBnd, locked.NoNewPrivs],
    ['0000000000000000', '0000000000000000', '1'],
  );
  assert.equal(status('--security-opt', 'seccomp=unconfined').Seccomp, '0');
  // Docker's profile refuses unshare without CAP_SYS_ADMIN.
  const unshare = podman(['run', '--rm', IMAGE, 'unshare', '--uts', 'true']);
  assert.notEqual(unshare.status, 0);
  assert.match(unshare.stderr, /Operation not permitted/);
});

test('podman exec into a running container through skiff-runtime: output and exit code', (t) => {
  const { podman, cleanup } = podmanHarness();
  t.after(cleanup);
  const run = podman(['run', '--detach', '--name', 'target', '--hostname', 'inside', IMAGE, 'sleep', '60']);
  assert.equal(run.status, 0, run.stderr);
  const exec = podman([
    'exec',
    '--env',
    'GREETING=hi',
    'target',
    'sh',
    '-c',
    'echo "$GREETING from $(hostname)"; exit 6',
  ]);
  assert.equal(exec.status, 6, exec.stderr);
  assert.equal(exec.stdout, 'hi from inside\n');
  const pid = podman(['exec', 'target', 'sh', '-c', 'echo $$']);
  assert.equal(pid.status, 0, pid.stderr);
  assert.notEqual(pid.stdout.trim(), '1', 'an exec is not the init');
  assert.equal(podman(['rm', '--force', '--time', '0', 'target']).status, 0);
});

test('podman run -it through skiff-runtime: a shell on the container terminal answers', (t) => {
  const { cleanup, command } = podmanHarness();
  t.after(cleanup);
  // `script` gives podman a terminal of its own; what we type goes through conmon to the pty master
  // that skiff-runtime sent over the console socket.
  const typed = 'tty; echo "got:$((6*7))"\nexit 3\n';
  const result = spawnSync(
    'sh',
    ['-c', `(sleep 2; printf '%s' "$TYPED"; sleep 5) | script -qec "$CMD" /dev/null`],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        TYPED: typed,
        CMD: command(['run', '--rm', '-it', IMAGE, 'sh']),
      },
      timeout: 120_000,
    },
  );
  assert.match(result.stdout, /got:42/, result.stderr);
  assert.match(result.stdout, /^\/dev\/pts\/0\r?$/m, 'the shell has the container pty');
  assert.equal(result.status, 3, result.stdout);
});

test('podman exec -it through skiff-runtime: the exec gets a terminal of its own', (t) => {
  const { podman, cleanup, command } = podmanHarness();
  t.after(cleanup);
  const run = podman(['run', '--detach', '--name', 'target', IMAGE, 'sleep', '60']);
  assert.equal(run.status, 0, run.stderr);
  const typed = 'tty; echo "pid:$$ got:$((6*7))"\nexit 2\n';
  const result = spawnSync(
    'sh',
    ['-c', `(sleep 2; printf '%s' "$TYPED"; sleep 5) | script -qec "$CMD" /dev/null`],
    {
      encoding: 'utf8',
      env: { ...process.env, TYPED: typed, CMD: command(['exec', '-it', 'target', 'sh']) },
      timeout: 120_000,
    },
  );
  assert.match(result.stdout, /got:42/, result.stderr);
  assert.match(result.stdout, /^\/dev\/pts\/\d+\r?$/m, 'the exec has a pty of the container');
  assert.doesNotMatch(result.stdout, /pid:1 /, 'the exec is not the init');
  assert.equal(result.status, 2, result.stdout);
  assert.equal(podman(['rm', '--force', '--time', '0', 'target']).status, 0);
});
