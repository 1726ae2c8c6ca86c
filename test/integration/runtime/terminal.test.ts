import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeBundle, makeRuntime, uniqueId } from '../../helpers/bundle.ts';
import { SKIFF_RUNTIME, skiffRuntime } from '../../helpers/cli.ts';
import { startConsoleReceiver } from '../../helpers/console.ts';

test('process.terminal: an interactive shell on the container pty, sized by consoleSize', async (t) => {
  const bundle = makeBundle(['/bin/sh'], (spec) => {
    spec.process!.terminal = true;
    spec.process!.consoleSize = { height: 33, width: 111 };
  });
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const receiver = await startConsoleReceiver(path.join(bundle.dir, 'console.sock'));
  t.after(() => receiver.kill());
  receiver.type('tty; stty size; /probe isatty 0; /probe isatty 2; read x; echo "got:$x"\nhello\nexit 7\n');
  const status = await runtime.run({
    id: uniqueId(),
    bundle: bundle.dir,
    foreground: true,
    consoleSocket: receiver.socket,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const output = await receiver.output;
  assert.equal(status, 7, output);
  assert.match(output, /^got:hello\r$/m, 'the shell read our line through the pty');
  assert.match(output, /^\/dev\/pts\/\d+\r$/m, 'stdin is a pty of the container');
  assert.match(output, /^33 111\r$/m, 'consoleSize is the terminal size');
  assert.equal(output.match(/^yes\r$/gm)?.length, 2, 'stdin and stderr are terminals');
  assert.equal(await receiver.payload, '/dev/ptmx', "runc's payload: the master's name");
});

test('process.terminal: the pty is the controlling terminal, /dev/console is it, and no fd leaks', async (t) => {
  const bundle = makeBundle(
    [
      '/bin/sh',
      '-c',
      'ls -l /proc/self/fd/; cat /proc/self/stat | cut -d" " -f7; stat -c %t,%T /dev/console $(tty)',
    ],
    (spec) => {
      spec.process!.terminal = true;
    },
  );
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  const receiver = await startConsoleReceiver(path.join(bundle.dir, 'console.sock'));
  t.after(() => receiver.kill());
  const status = await runtime.run({
    id: uniqueId(),
    bundle: bundle.dir,
    foreground: true,
    consoleSocket: receiver.socket,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const output = (await receiver.output).replaceAll('\r', '');
  assert.equal(status, 0, output);
  const fds = [...output.matchAll(/ (\d+) -> /g)].map((m) => m[1]);
  // ls itself opens the directory as fd 3: nothing but that and the three terminal fds.
  assert.deepEqual(
    fds.filter((fd) => fd !== '3'),
    ['0', '1', '2'],
    output,
  );
  assert.doesNotMatch(
    output,
    /socket:|ptmx/,
    'neither the console socket nor the master reach the container',
  );
  const ttyNr = Number(/^(\d+)$/m.exec(output)?.[1]);
  assert.ok(ttyNr > 0, `the shell has a controlling terminal (tty_nr ${ttyNr})`);
  const [console, pty] = output.trim().split('\n').slice(-2);
  assert.equal(console, pty, '/dev/console is the pty slave');
});

test('process.terminal without a console socket, or a socket without a terminal, is a clear error', async (t) => {
  const bundle = makeBundle(['/bin/true'], (spec) => {
    spec.process!.terminal = true;
  });
  const { runtime, cleanup } = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    cleanup();
  });
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: bundle.dir }),
    /process.terminal is true: pass --console-socket/,
  );
  bundle.spec.process!.terminal = false;
  bundle.save();
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: bundle.dir, consoleSocket: path.join(bundle.dir, 'x.sock') }),
    /--console-socket: config.json: process.terminal is false/,
  );
  bundle.spec.process!.terminal = true;
  bundle.save();
  // A socket nobody listens on: the shim's connect fails, naming the path and errno.
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: bundle.dir, consoleSocket: path.join(bundle.dir, 'none.sock') }),
    /console-socket `.*none\.sock`.*ENOENT/,
  );
  assert.deepEqual(await runtime.list(), [], 'failed creates leave nothing');
});

test('socket activation: LISTEN_FDS fds are passed first, then --preserve-fds, and the process is told', (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', 'env | grep ^LISTEN_ | sort; cat <&3; cat <&4; /probe fds']);
  const root = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    root.cleanup();
  });
  writeFileSync(path.join(bundle.dir, 'listen'), 'from the listen fd\n');
  writeFileSync(path.join(bundle.dir, 'preserved'), 'from the preserved fd\n');
  const out = path.join(bundle.dir, 'out');
  const outFd = openSync(out, 'w');
  t.after(() => closeSync(outFd));
  // LISTEN_PID must name the runtime itself (go-systemd's activation.Files): `exec` keeps the pid.
  const run = spawnSync(
    'sh',
    [
      '-c',
      'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --root "$1" run --preserve-fds 1 -b "$2" "$3" 3<listen 4<preserved',
      SKIFF_RUNTIME,
      root.root,
      bundle.dir,
      uniqueId(),
    ],
    { cwd: bundle.dir, stdio: ['ignore', outFd, 'pipe'], encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  const output = readFileSync(out, 'utf8');
  assert.match(output, /^LISTEN_FDS=1\nLISTEN_PID=1\n/m);
  assert.match(output, /from the listen fd\nfrom the preserved fd\n/);
  assert.match(output, /^3 .*\/listen$/m);
  assert.match(output, /^4 .*\/preserved$/m);
  assert.doesNotMatch(output, /^5 /m, 'nothing else is passed');
});

test('run in the foreground without a console socket: the runtime relays the terminal itself (CLI)', (t) => {
  const bundle = makeBundle(['/bin/sh'], (spec) => {
    spec.process!.terminal = true;
  });
  const root = makeRuntime();
  t.after(() => {
    bundle.cleanup();
    root.cleanup();
  });
  const result = skiffRuntime(['--root', root.root, 'run', '-b', bundle.dir, uniqueId()], {
    input: 'tty; /probe isatty 1; read x; echo "got:$x"\nrelayed\nexit 6\n',
  });
  assert.equal(result.status, 6, result.stderr);
  assert.match(result.stdout, /^\/dev\/pts\/\d+\r$/m);
  assert.match(result.stdout, /^yes\r$/m);
  assert.match(result.stdout, /^got:relayed\r$/m);
  const detached = skiffRuntime(['--root', root.root, 'run', '-d', '-b', bundle.dir, uniqueId()]);
  assert.equal(detached.status, 1);
  assert.match(detached.stderr, /cannot allocate tty if runc will detach without setting console socket/);
});
