import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Process } from '../../../src/oci/index.ts';
import type { Runtime } from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, type TestBundle, uniqueId } from '../../helpers/bundle.ts';
import { SKIFF_RUNTIME, skiffRuntime, skiffRuntimeToFiles } from '../../helpers/cli.ts';
import { startConsoleReceiver } from '../../helpers/console.ts';
import { eventually } from '../../helpers/host.ts';

const { runtime, root, cleanup } = makeRuntime();
after(cleanup);

const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];

/** A running container (its init sleeps) that the test's exec'd processes join. */
async function runningContainer(
  t: { after: (fn: () => unknown) => void },
  edit?: (spec: NonNullable<TestBundle['spec']>) => void,
  prepare?: (bundle: TestBundle) => void,
): Promise<{ id: string; pid: number; bundle: TestBundle }> {
  const bundle = makeBundle(['/probe', 'sleep', '60'], (spec) => {
    spec.hostname = 'exec-target';
    spec.process!.env = ['PATH=/bin', 'FROM_CONFIG=yes'];
    edit?.(spec);
  });
  prepare?.(bundle);
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  const { record } = await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  await runtime.start(id);
  return { id, pid: record.pid!, bundle };
}

/** Runs a process in the container in the foreground; returns its status and output. */
async function exec(
  rt: Runtime,
  bundle: TestBundle,
  id: string,
  proc: Process,
): Promise<{ status: number; stdout: string; stderr: string }> {
  const name = uniqueId('exec');
  const out = path.join(bundle.dir, `${name}.out`);
  const err = path.join(bundle.dir, `${name}.err`);
  const outFd = openSync(out, 'w');
  const errFd = openSync(err, 'w');
  try {
    const run = await rt.exec(id, proc, { stdio: ['ignore', outFd, errFd] });
    const status = await run.exit!;
    return { status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
}

test("exec joins every namespace and cgroup of the init, in the container's pid namespace", async (t) => {
  const { id, pid, bundle } = await runningContainer(t);
  const proc = await runtime.execProcessFor(id, {
    args: [
      '/bin/sh',
      '-c',
      '/probe ns; /probe hostname; grep -E "^(PPid|NSpid):" /proc/$$/status; cat /proc/self/cgroup; /probe fds',
    ],
  });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 0, result.stderr);
  for (const ns of NAMESPACES) {
    const init = readlinkSync(`/proc/${pid}/ns/${ns}`);
    assert.match(
      result.stdout,
      new RegExp(`^${ns} ${init.replace(/[[\]]/g, '\\$&')}$`, 'm'),
      `${ns} namespace`,
    );
  }
  assert.match(result.stdout, /^exec-target /m, "the container's hostname");
  assert.match(result.stdout, /^PPid:\t0$/m, 'its parent is outside the pid namespace');
  const nspid = Number(/^NSpid:\t(\d+)$/m.exec(result.stdout)?.[1]);
  assert.ok(nspid > 1, `a pid inside the container (NSpid ${nspid}), not the init's`);
  const initCgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  for (const line of initCgroups.trim().split('\n')) {
    assert.ok(result.stdout.includes(`${line}\n`), `same cgroup as the init: ${line}`);
  }
  // /probe fds lists its own fds: 0-2 and the directory it reads, nothing of the runtime's.
  const fds = [...result.stdout.matchAll(/^(\d+) /gm)].map((m) => m[1]);
  assert.deepEqual(fds.slice(0, 3), ['0', '1', '2']);
  assert.ok(fds.length <= 4, `no fd of the runtime leaks in: ${fds.join(',')}`);
});

test("exec sees the container's mounts, not the host's", async (t) => {
  const { id, pid, bundle } = await runningContainer(t);
  const proc = await runtime.execProcessFor(id, { args: ['/probe', 'mountinfo'] });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 0, result.stderr);
  const mountIds = (text: string) =>
    text
      .split('\n')
      .map((l) => l.split(' ')[0])
      .join(',');
  assert.equal(mountIds(result.stdout), mountIds(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')));
});

test('exec overrides env, cwd, user and additional gids; its exit code is returned', async (t) => {
  const { id, bundle } = await runningContainer(t);
  const proc = await runtime.execProcessFor(id, {
    args: ['/bin/sh', '-c', 'echo "$FROM_CONFIG $EXTRA"; pwd; /probe id; exit 5'],
    env: ['EXTRA=added'],
    cwd: '/tmp',
    user: { uid: 1000, gid: 1000 },
    additionalGids: [10, 20],
  });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 5, result.stderr);
  const [env, cwd, ids] = result.stdout.trim().split('\n');
  assert.equal(env, 'yes added');
  assert.equal(cwd, '/tmp');
  assert.match(ids!, /^uid=1000 gid=1000 .*groups=10,20$/);
});

test('an exec killed by a signal exits with 128 + the signal', async (t) => {
  const { id, bundle } = await runningContainer(t);
  const proc = await runtime.execProcessFor(id, { args: ['/bin/sh', '-c', 'kill -KILL $$'] });
  assert.equal((await exec(runtime, bundle, id, proc)).status, 137);
});

test('exec -d returns at once and writes the pid file (CLI)', async (t) => {
  const { id, bundle } = await runningContainer(t);
  const pidFile = path.join(bundle.dir, 'exec.pid');
  const started = Date.now();
  const result = skiffRuntimeToFiles([
    '--root',
    root,
    'exec',
    '-d',
    '--pid-file',
    pidFile,
    id,
    '/probe',
    'sleep',
    '30',
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.ok(Date.now() - started < 20_000, 'it did not wait for the process');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(pid > 0);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  assert.equal(cmdline, '/probe\0sleep\x0030\0');
  const { pid: initPid } = await runtime.state(id);
  assert.equal(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${initPid}/ns/pid`));
  process.kill(pid, 'SIGKILL');
});

test('exec through the CLI: command options after the id belong to the command; exit code', async (t) => {
  const { id } = await runningContainer(t);
  const result = skiffRuntimeToFiles([
    '--root',
    root,
    'exec',
    '--env',
    'A=1',
    '-u',
    '1000',
    id,
    'sh',
    '-c',
    'echo "$A $(id -u)"; exit 9',
  ]);
  assert.equal(result.status, 9, result.stderr);
  assert.equal(result.stdout, '1 1000\n');
});

test('exec into a stopped or unknown container is a clear error', async (t) => {
  const { id, bundle } = await runningContainer(t);
  const proc = await runtime.execProcessFor(id, { args: ['/bin/true'] });
  await runtime.kill(id, 'SIGKILL');
  assert.ok(await eventually(async () => (await runtime.state(id)).status === 'stopped'));
  await assert.rejects(runtime.exec(id, proc), /cannot exec in container ".*": it is stopped/);
  await assert.rejects(
    runtime.exec('no-such-container', proc),
    /container "no-such-container" does not exist/,
  );
  const cli = skiffRuntimeToFiles(['--root', root, 'exec', 'no-such-container', '/bin/true']);
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /no-such-container\\?" does not exist/);
  void bundle;
});

test('exec with a terminal: the pty comes through the console socket', async (t) => {
  const { id, bundle } = await runningContainer(t);
  const receiver = await startConsoleReceiver(path.join(bundle.dir, 'exec-console.sock'));
  t.after(() => receiver.kill());
  receiver.type('tty; stty size; read x; echo "got:$x"\nworld\nexit 4\n');
  const proc = await runtime.execProcessFor(id, {
    args: ['/bin/sh'],
    terminal: true,
    consoleSize: { height: 40, width: 100 },
  });
  const run = await runtime.exec(id, proc, {
    consoleSocket: receiver.socket,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  assert.equal(await run.exit, 4);
  const output = await receiver.output;
  assert.match(output, /^got:world\r$/m);
  assert.match(output, /^\/dev\/pts\/\d+\r$/m);
  assert.match(output, /^40 100\r$/m);
  const noSocket = await runtime.execProcessFor(id, { args: ['/bin/sh'], terminal: true });
  await assert.rejects(
    runtime.exec(id, noSocket, { detach: true }),
    /process.terminal is true: pass --console-socket/,
  );
});

test('exec into a container with its own user namespace joins it first', async (t) => {
  const { id, pid, bundle } = await runningContainer(
    t,
    (spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 300000, size: 65536 }];
      spec.mounts = spec.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    },
    (b) => execFileSync('chown', ['-R', '200000:300000', b.rootfs]),
  );
  const proc = await runtime.execProcessFor(id, {
    args: ['/bin/sh', '-c', 'cat /proc/self/uid_map; /probe id; /probe ns'],
  });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^\s*0\s+200000\s+65536$/m);
  assert.match(result.stdout, /^uid=0 gid=0/m);
  assert.match(
    result.stdout,
    new RegExp(`^user ${readlinkSync(`/proc/${pid}/ns/user`).replace(/[[\]]/g, '\\$&')}$`, 'm'),
  );
});

test('exec -t in the foreground without a console socket: the runtime relays the terminal (CLI)', async (t) => {
  const { id } = await runningContainer(t);
  const result = skiffRuntime(['--root', root, 'exec', '-t', id, 'sh'], {
    input: 'tty; read x; echo "got:$x"\nthere\nexit 3\n',
  });
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stdout, /^\/dev\/pts\/\d+\r$/m);
  assert.match(result.stdout, /^got:there\r$/m);
});

test('exec into a created container works (as runc); a missing program is a clear error', async (t) => {
  const bundle = makeBundle(['/probe', 'sleep', '60']);
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  await runtime.create({ id, bundle: bundle.dir, stdio: ['ignore', 'ignore', 'ignore'] });
  assert.equal((await runtime.state(id)).status, 'created');
  const proc = await runtime.execProcessFor(id, { args: ['/probe', 'pid'] });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 0, result.stderr);
  assert.equal((await runtime.state(id)).status, 'created', 'the init still waits for start');
  const missing = await runtime.execProcessFor(id, { args: ['/no/such/program'] });
  await assert.rejects(
    runtime.exec(id, missing),
    /exec `\/no\/such\/program`: ENOENT \(No such file or directory\)/,
  );
});

test('exec --preserve-fds passes fds 3… to the process (CLI)', async (t) => {
  const { id, bundle } = await runningContainer(t);
  writeFileSync(path.join(bundle.dir, 'passed'), 'through fd 3\n');
  const out = path.join(bundle.dir, 'preserve.out');
  const outFd = openSync(out, 'w');
  t.after(() => closeSync(outFd));
  const result = spawnSync(
    'sh',
    [
      '-c',
      'exec "$0" --root "$1" exec --preserve-fds 1 "$2" sh -c "cat <&3; /probe fds" 3<passed',
      SKIFF_RUNTIME,
      root,
      id,
    ],
    { cwd: bundle.dir, stdio: ['ignore', outFd, 'pipe'], encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  const output = readFileSync(out, 'utf8');
  assert.match(output, /^through fd 3$/m);
  assert.match(output, /^3 .*\/passed$/m);
  assert.doesNotMatch(output, /^4 /m);
});

test('exec joins new time and cgroup namespaces too: the cgroup is its root, as for the init', async (t) => {
  const { id, pid, bundle } = await runningContainer(t, (spec) => {
    spec.linux!.namespaces!.push({ type: 'time' }, { type: 'cgroup' });
    spec.linux!.timeOffsets = { monotonic: { secs: 864000 } };
  });
  const proc = await runtime.execProcessFor(id, {
    args: ['/bin/sh', '-c', '/probe ns; cat /proc/self/cgroup'],
  });
  const result = await exec(runtime, bundle, id, proc);
  assert.equal(result.status, 0, result.stderr);
  for (const ns of ['time', 'cgroup']) {
    assert.ok(result.stdout.includes(`${ns} ${readlinkSync(`/proc/${pid}/ns/${ns}`)}\n`), `${ns} namespace`);
  }
  assert.match(result.stdout, /^\d+:memory:\/$/m, "the container's cgroup is / in its cgroup namespace");
});

test("exec runs under the container's seccomp filter and capabilities; --cap and --no-new-privs add to them", async (t) => {
  const { id, bundle } = await runningContainer(t, (spec) => {
    spec.process!.noNewPrivileges = false;
    spec.process!.capabilities = {
      bounding: ['CAP_KILL', 'CAP_CHOWN'],
      effective: ['CAP_KILL'],
      permitted: ['CAP_KILL'],
    };
    spec.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
    };
  });
  const look = [
    '/bin/sh',
    '-c',
    'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; /probe syscall keyctl',
  ];
  const plain = await exec(runtime, bundle, id, await runtime.execProcessFor(id, { args: look }));
  assert.equal(plain.status, 0, plain.stderr);
  // CAP_KILL is bit 5, CAP_CHOWN bit 0; uid 0 regains its bounding set at execve, as under runc.
  assert.match(plain.stdout, /^CapEff:\s+0000000000000021$/m);
  assert.match(plain.stdout, /^CapBnd:\s+0000000000000021$/m);
  assert.match(plain.stdout, /^NoNewPrivs:\s+0$/m);
  assert.match(plain.stdout, /^Seccomp:\s+2$/m, 'the container filter applies to the exec');
  assert.match(plain.stdout, /^EACCES$/m, 'keyctl fails with the configured errno');

  const more = await exec(
    runtime,
    bundle,
    id,
    await runtime.execProcessFor(id, { args: look, capabilities: ['CAP_SETUID'], noNewPrivileges: true }),
  );
  assert.equal(more.status, 0, more.stderr);
  // CAP_SETUID (bit 7) is added to the bounding, effective and permitted sets; with no_new_privs
  // execve cannot raise root's set past the permitted one (KILL + SETUID).
  assert.match(more.stdout, /^CapEff:\s+00000000000000a0$/m);
  assert.match(more.stdout, /^CapBnd:\s+00000000000000a1$/m);
  assert.match(more.stdout, /^NoNewPrivs:\s+1$/m);
});
