// Everyday user paths through bin/skiff not covered elsewhere: exec's -u/-w/-e/--env-file/-d and
// its refusal on a stopped container; run's -u, -w, -e, --entrypoint, -h, --stop-signal and
// --stop-timeout (honoured by stop), and --log-opt max-size/max-file rotation with `logs` showing
// the tail. What is checked is what the user sees, from inside the container.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, engineEnv } from '../helpers/engine.ts';
import { eventually } from '../helpers/host.ts';

function ok(e: EngineEnv, args: string[]): string {
  const r = e.skiff(args);
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Processes of this engine root (monitors, exit commands). */
function processesOf(e: EngineEnv): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(e.runroot)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** An engine root whose containers are removed, and their monitors gone, before the root is. */
async function env(t: { after: (fn: () => void | Promise<void>) => void }): Promise<EngineEnv> {
  let e: EngineEnv | undefined;
  t.after(async () => {
    if (!e) return;
    const ids = e.skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) e.skiff(['rm', '-f', ...ids]);
    await eventually(() => processesOf(e!).length === 0, 5000);
  });
  e = await engineEnv(t);
  return e;
}

test('exec: -u, -w, -e, --env-file, -d, and a stopped container', async (t) => {
  const e = await env(t);
  ok(e, ['run', '-d', '--name', 'box', '-e', 'FROM_RUN=r', 'busybox', 'sleep', '300']);

  await t.test('-u by name, by uid:gid, and by uid alone', () => {
    assert.match(ok(e, ['exec', 'box', 'id']), /^uid=0\(root\) gid=0\(root\)/);
    assert.match(ok(e, ['exec', '-u', 'nobody', 'box', 'id']), /^uid=65534\(nobody\) gid=65534\(nogroup\)/);
    assert.match(ok(e, ['exec', '-u', '1000:65534', 'box', 'id']), /^uid=1000\(user\) gid=65534\(nogroup\)/);
    assert.match(ok(e, ['exec', '-u', 'user', 'box', 'id']), /^uid=1000\(user\) gid=1000\(user\)/);
    assert.match(ok(e, ['exec', '-u', '4242', 'box', 'id']), /^uid=4242 gid=0\(root\)/);
    const missing = e.skiff(['exec', '-u', 'nosuchuser', 'box', 'id']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /nosuchuser/);
  });

  await t.test('-w sets the working directory', () => {
    assert.equal(ok(e, ['exec', '-w', '/tmp', 'box', 'pwd']), '/tmp');
    assert.equal(ok(e, ['exec', 'box', 'pwd']), '/');
  });

  await t.test("-e and --env-file add to the container's environment", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-envfile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'env');
    writeFileSync(file, '# a comment\nFROM_FILE=f\n\nFROM_RUN=overridden\n');
    const out = ok(e, [
      'exec',
      '-e',
      'FROM_FLAG=x y',
      '--env-file',
      file,
      'box',
      'sh',
      '-c',
      'echo "$FROM_FLAG|$FROM_FILE|$FROM_RUN|$PATH"',
    ]);
    const [flag, fromFile, fromRun, pathVar] = out.split('|');
    assert.equal(flag, 'x y');
    assert.equal(fromFile, 'f');
    assert.equal(fromRun, 'overridden', 'exec -e wins over the container env');
    assert.match(pathVar!, /\/bin/);
    assert.equal(ok(e, ['exec', 'box', 'sh', '-c', 'echo $FROM_RUN']), 'r', 'and only for that exec');
  });

  await t.test('-d runs in the background: the file it writes appears', async () => {
    const started = Date.now();
    const r = e.skiff(['exec', '-d', 'box', 'sh', '-c', 'sleep 1; echo bg > /tmp/from-bg']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(Date.now() - started < 1000 + 900, 'exec -d did not wait for the command');
    assert.ok(
      await eventually(() => e.skiff(['exec', 'box', 'cat', '/tmp/from-bg']).stdout === 'bg\n', 5000),
      'the background command wrote its file',
    );
  });

  await t.test('exec into a stopped container fails with 1 and says why', () => {
    ok(e, ['stop', '-t', '0', 'box']);
    const r = e.skiff(['exec', 'box', 'true']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not running/);
    const none = e.skiff(['exec', 'nothing-here', 'true']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /No such container: nothing-here/);
  });
});

test('run: -u, -w, -e, --entrypoint, -h', async (t) => {
  const e = await env(t);
  const run = (...args: string[]) => ok(e, ['run', '--rm', ...args]);
  assert.match(run('-u', 'nobody', 'busybox', 'id'), /^uid=65534\(nobody\) gid=65534\(nogroup\)/);
  assert.match(run('-u', '1000:1000', 'busybox', 'id'), /^uid=1000\(user\) gid=1000\(user\)/);
  assert.equal(run('-w', '/tmp', 'busybox', 'pwd'), '/tmp');
  // A working directory that does not exist is made (as docker).
  assert.equal(run('-w', '/made/here', 'busybox', 'pwd'), '/made/here');
  assert.equal(run('-e', 'A=1', '-e', 'B=two words', 'busybox', 'sh', '-c', 'echo "$A:$B"'), '1:two words');
  assert.equal(run('--entrypoint', 'echo', 'busybox', 'from', 'entrypoint'), 'from entrypoint');
  assert.equal(run('--entrypoint', '/bin/pwd', '-w', '/etc', 'busybox'), '/etc');
  assert.equal(run('-h', 'myhost', 'busybox', 'hostname'), 'myhost');
  assert.equal(run('--hostname', 'other', 'busybox', 'cat', '/etc/hostname'), 'other');
  // With --network none (the default here) docker's /etc/hosts has no line for the hostname (it has
  // no address to give it), so it is not checked there.
  assert.equal(ok(e, ['run', '--rm', '-h', 'myhost', 'busybox', 'uname', '-n']), 'myhost');
  const bad = e.skiff(['run', '--rm', '-u', 'nosuchuser', 'busybox', 'id']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /nosuchuser/);
  assert.equal(ok(e, ['ps', '-aq']), '');
});

test('--stop-signal and --stop-timeout are honoured by stop', async (t) => {
  const e = await env(t);
  // USR1 as the stop signal: a trap for it exits 42; TERM would not end it (PID 1 ignores it).
  ok(e, [
    'run',
    '-d',
    '--name',
    'usr1',
    '--stop-signal',
    'SIGUSR1',
    'busybox',
    'sh',
    '-c',
    'trap "exit 42" USR1; while :; do sleep 0.1; done',
  ]);
  assert.equal(ok(e, ['inspect', '-f', '{{.Config.StopSignal}}', 'usr1']), 'SIGUSR1');
  const before = Date.now();
  assert.equal(ok(e, ['stop', 'usr1']), 'usr1');
  assert.ok(Date.now() - before < 5000, 'the stop signal ended it, no 10 s wait for SIGKILL');
  assert.equal(ok(e, ['inspect', '-f', '{{.State.ExitCode}}', 'usr1']), '42');

  // --stop-timeout 1: stop of a container that ignores the signal kills it after ~1 s, not 10.
  ok(e, ['run', '-d', '--name', 'slow', '--stop-timeout', '1', 'busybox', 'sleep', '300']);
  assert.equal(ok(e, ['inspect', '-f', '{{.Config.StopTimeout}}', 'slow']), '1');
  const t0 = Date.now();
  ok(e, ['stop', 'slow']);
  const took = Date.now() - t0;
  assert.ok(took >= 900 && took < 5000, `stop waited ${took} ms`);
  assert.equal(ok(e, ['inspect', '-f', '{{.State.ExitCode}}', 'slow']), '137');
  // stop -t overrides it.
  ok(e, ['start', 'slow']);
  const t1 = Date.now();
  ok(e, ['stop', '-t', '0', 'slow']);
  assert.ok(Date.now() - t1 < 900, 'stop -t 0 did not wait for the container');
  const badSignal = e.skiff(['run', '--rm', '--stop-signal', 'SIGNOPE', 'busybox', 'true']);
  assert.notEqual(badSignal.status, 0);
  assert.match(badSignal.stderr, /SIGNOPE/);
});

test('--log-opt max-size=1k max-file=2: at most 2 files of ~1k, and logs shows the tail', async (t) => {
  const e = await env(t);
  const id = ok(e, [
    'run',
    '-d',
    '--name',
    'chatty',
    '--log-opt',
    'max-size=1k',
    '--log-opt',
    'max-file=2',
    'busybox',
    'sh',
    '-c',
    'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done',
  ]);
  assert.equal(ok(e, ['wait', 'chatty']), '0');
  const dir = path.join(e.root, 'containers', id);
  const logs = readdirSync(dir).filter((f) => f.startsWith('ctr.log'));
  assert.ok(logs.length >= 1 && logs.length <= 2, `log files: ${logs}`);
  for (const f of logs) {
    const size = statSync(path.join(dir, f)).size;
    // One json line (~90 bytes) may pass the limit before the rotation.
    assert.ok(size <= 1024 + 200, `${f} is ${size} bytes`);
  }
  const shown = ok(e, ['logs', 'chatty']).split('\n');
  assert.equal(shown.at(-1), 'line-299', 'the newest line is kept');
  assert.ok(shown.length < 300, 'older lines were rotated away');
  // What is shown is a contiguous tail of the output, in order.
  const first = Number(shown[0]!.slice('line-'.length));
  assert.deepEqual(
    shown,
    Array.from({ length: 300 - first }, (_, i) => `line-${first + i}`),
  );
  assert.equal(ok(e, ['logs', '--tail', '3', 'chatty']), 'line-297\nline-298\nline-299');
});
