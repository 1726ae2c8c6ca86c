// `skiff system service` through bin/skiff: with a service listening on the store's run root, the
// CLI's native front hands it the command and relays the terminal; what it declines (or everything,
// once it is gone) runs in the CLI's own process. The service's log names each command it ran.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, SKIFF, terminalSession } from '../helpers/engine.ts';
import { eventually } from '../helpers/host.ts';
import { startRegistry } from '../helpers/registry.ts';

interface Running {
  child: ChildProcess;
  /** The service's own output: its start line and one line per command it ran. */
  log(): string;
  /** How many commands it ran so far (its log read first: the sync spawns block our reading of it). */
  served(): Promise<number>;
  exited: Promise<number | null>;
}

async function startService(s: EngineEnv, t: { after: (fn: () => unknown) => void }, args: string[] = []) {
  const child = spawn(SKIFF, ['system', 'service', ...args], {
    env: s.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.after(() => {
    child.kill('SIGKILL');
  });
  // Its line, not the socket: one a killed service left behind may be there already.
  assert.ok(await eventually(() => log.includes('listening on'), 10_000), `the service listens: ${log}`);
  const running: Running = {
    child,
    log: () => log,
    served: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return log.split('\n').filter((l) => l.startsWith('session ')).length;
    },
    exited,
  };
  return running;
}

test('a served run relays stdout, stderr and the exit status, and leaves no container behind', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  const r = s.skiff([
    'run',
    '--rm',
    '--network',
    'none',
    'busybox',
    'sh',
    '-c',
    'echo out; echo err >&2; exit 3',
  ]);
  assert.equal(r.status, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(await service.served(), 1);
  assert.match(service.log(), /^session 1: container run$/m);
  assert.equal(s.ok(['ps', '-aq']), '', '--rm removed it');
  // Errors are the CLI's own, with its exit codes.
  const bad = s.skiff(['run', '--rm', '--nosuchflag', 'busybox']);
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /unknown flag: --nosuchflag/);
  const missing = s.skiff(['inspect', 'nosuch']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /No such object: nosuch/);
});

test('standard input is relayed with -i, and left unread without it', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  assert.equal(
    s.skiff(['run', '--rm', '-i', '--network', 'none', 'busybox', 'cat'], { input: 'piped\n' }).stdout,
    'piped\n',
  );
  // Without -i the CLI must not swallow the input meant for what follows it in a script.
  const script = `${SKIFF} run --rm --network none busybox true; cat`;
  const r = spawnSync('sh', ['-c', script], { env: s.env, input: 'for cat\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'for cat\n');
  assert.equal(await service.served(), 2);
});

test('commands the service does not run, another environment and another store run in the CLI itself', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  s.ok(['run', '-d', '--name', 'up', '--network', 'none', 'busybox', 'sleep', '600']);
  const before = await service.served();
  assert.equal(s.ok(['exec', 'up', 'echo', 'from exec']), 'from exec');
  assert.equal(await service.served(), before, 'exec is not served');
  const other = spawnSync(SKIFF, ['ps', '--format', '{{.Names}}'], {
    env: { ...s.env, DOCKER_CONFIG: path.join(s.root, 'elsewhere') },
    encoding: 'utf8',
  });
  assert.equal(other.stdout, 'up\n');
  assert.equal(await service.served(), before, 'a client with another DOCKER_CONFIG is not served');
  const elsewhere = spawnSync(SKIFF, ['--root', path.join(s.root, 'other'), 'ps', '-q'], {
    env: s.env,
    encoding: 'utf8',
  });
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  assert.equal(elsewhere.stdout, '', 'another store, read by the CLI itself');
  assert.equal(await service.served(), before);
  assert.equal(s.ok(['ps', '--format', '{{.Names}}']), 'up');
  assert.equal(await service.served(), before + 1);
});

test('concurrent clients each get their own command, output and container', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  const runs = Array.from({ length: 4 }, (_, i) => {
    const child = s.spawnSkiff([
      'run',
      '--rm',
      '--network',
      'none',
      'busybox',
      'sh',
      '-c',
      `echo n${i}; exit ${i}`,
    ]);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    return new Promise<[string, number | null]>((resolve) =>
      child.once('exit', (code) => resolve([out, code])),
    );
  });
  const results = await Promise.all(runs);
  results.forEach(([out, code], i) => {
    assert.equal(out, `n${i}\n`);
    assert.equal(code, i);
  });
  assert.equal(await service.served(), 4);
  assert.equal(s.ok(['ps', '-aq']), '');
});

test('signals: a handled one reaches the container (sig-proxy), another ends the client; the container lives on', async (t) => {
  const s = await engineEnv(t);
  await startService(s, t);
  const trap = s.spawnSkiff([
    'run',
    '--rm',
    '--network',
    'none',
    'busybox',
    'sh',
    '-c',
    'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done',
  ]);
  let out = '';
  trap.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const trapExit = new Promise<number | null>((resolve) => trap.once('exit', resolve));
  assert.ok(await eventually(() => out.includes('ready'), 10_000), out);
  trap.kill('SIGINT');
  assert.equal(await trapExit, 5);
  assert.equal(out, 'ready\ngot INT\n');

  // With -t there is no sig-proxy: SIGTERM ends the client as it would end the CLI (143); the
  // container runs on, and its --rm still happens when it exits.
  const tty = s.spawnSkiff([
    'run',
    '--rm',
    '-t',
    '--name',
    'tty',
    '--network',
    'none',
    'busybox',
    'sleep',
    '2',
  ]);
  const ttyExit = new Promise<number | null>((resolve) => tty.once('exit', resolve));
  assert.ok(await eventually(() => s.ok(['ps', '--format', '{{.Names}}']) === 'tty', 10_000));
  tty.kill('SIGTERM');
  assert.equal(await ttyExit, 143);
  assert.equal(s.ok(['ps', '--format', '{{.Names}}']), 'tty', 'still running');
  assert.ok(await eventually(() => s.ok(['ps', '-aq']) === '', 15_000), 'removed once it exited');
});

test('a client killed outright leaves the command to finish in the service', async (t) => {
  const s = await engineEnv(t);
  await startService(s, t);
  const child = s.spawnSkiff([
    'run',
    '--rm',
    '--name',
    'orphan',
    '--network',
    'none',
    'busybox',
    'sleep',
    '2',
  ]);
  assert.ok(await eventually(() => s.ok(['ps', '--format', '{{.Names}}']) === 'orphan', 10_000));
  child.kill('SIGKILL');
  assert.ok(
    await eventually(() => s.ok(['ps', '-aq']) === '', 15_000),
    'run --rm completed without its client',
  );
});

test('a terminal: -it gets raw input and a tty through the service', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  const term = terminalSession(s, [
    'run',
    '--rm',
    '-it',
    '--network',
    'none',
    'busybox',
    'sh',
    '-c',
    "'tty; read x; echo got $x'",
  ]);
  await term.waitFor('/dev/pts/0');
  term.type('hello\r');
  const shown = await term.waitFor('got hello');
  assert.match(shown, /got hello/);
  assert.equal(await term.exited, 0);
  // The terminal's size is the container's before its program runs.
  const sized = spawnSync(
    'script',
    ['-qfec', `stty rows 30 cols 100; exec ${SKIFF} run --rm -t --network none busybox stty -a`, '/dev/null'],
    { env: s.env, encoding: 'utf8', input: '' },
  );
  assert.match(sized.stdout, /rows 30; columns 100;/);
  assert.equal(await service.served(), 2);
});

test('the service: SIGTERM stops it and removes its socket; a dead one is replaced; --time ends an idle one', async (t) => {
  const s = await engineEnv(t);
  const socket = path.join(s.runroot, 'skiff.sock');
  const first = await startService(s, t);
  const twice = s.skiff(['system', 'service']);
  assert.equal(twice.status, 1);
  assert.match(twice.stderr, /a service already listens on .*skiff\.sock/);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  assert.ok(!existsSync(socket), 'socket removed');
  assert.equal(s.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'local']), 'local');

  const second = await startService(s, t);
  second.child.kill('SIGKILL');
  await second.exited;
  assert.ok(existsSync(socket), 'a killed service leaves its socket');
  assert.equal(
    s.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'still']),
    'still',
    'a dead socket is passed over',
  );

  const third = await startService(s, t, ['--time', '1']);
  assert.equal(s.ok(['ps', '-q']), '');
  assert.equal(await third.served(), 1);
  assert.equal(await third.exited, 0, 'left after a second idle');
  assert.ok(!existsSync(socket));
  const bad = s.skiff(['system', 'service', '--time', 'soon']);
  assert.equal(bad.status, 125);
  assert.match(bad.stderr, /invalid --time soon/);
});

test('a client speaking nonsense is dropped, and the service serves the next one', async (t) => {
  const s = await engineEnv(t);
  const service = await startService(s, t);
  const socket = path.join(s.runroot, 'skiff.sock');
  for (const junk of [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    Buffer.from([1, 0, 0, 0, 0, 0, 0, 2, 0x2f, 0]), // a hello of one field
    Buffer.from([9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), // a frame of 4 GiB announced
  ]) {
    const closed = await new Promise<boolean>((resolve) => {
      const c = connect(socket, () => c.write(junk));
      c.on('error', () => resolve(true));
      c.on('close', () => resolve(true));
      c.setTimeout(5000, () => {
        c.destroy();
        resolve(false);
      });
    });
    assert.ok(closed, `dropped: ${junk.toString('hex')}`);
  }
  assert.equal(s.ok(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'fine']), 'fine');
  assert.equal(await service.served(), 1);
});

test('push and pull are served: an image goes to a registry and comes back, with docker progress', async (t) => {
  const registry = await startRegistry(t);
  const s = await engineEnv(t);
  const service = await startService(s, t);
  const ref = `${registry.host}/served/busybox:1`;
  s.ok(['tag', 'busybox', ref]);
  const pushed = s.skiff(['push', ref]);
  assert.equal(pushed.status, 0, pushed.stderr);
  assert.match(pushed.stdout, /digest: sha256:[0-9a-f]{64}/);
  s.ok(['rmi', ref]);
  const pulled = s.skiff(['pull', ref]);
  assert.equal(pulled.status, 0, pulled.stderr);
  assert.match(pulled.stdout, /Pull complete/);
  assert.match(pulled.stdout, new RegExp(`Downloaded newer image for ${ref.replace(/[.]/g, '\\.')}`));
  assert.equal(s.ok(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled']), 'pulled');
  const missing = s.skiff(['pull', `${registry.host}/served/nosuch:1`]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /manifest unknown/);
  assert.equal(await service.served(), 6, service.log());
});
