import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { AttachClient, FrameDecoder, FrameType, readExitFile } from '../../../src/engine/index.ts';
import { INIT_ANNOTATION } from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, uniqueId } from '../../helpers/bundle.ts';
import { eventually } from '../../helpers/host.ts';
import { createMonitored, logLines, monitorGone } from '../../helpers/monitor.ts';
import { REPO_ROOT, tempDir } from '../../helpers/rootfs.ts';

const { runtime, root, cleanup } = makeRuntime();
after(cleanup);

const MiB = 1024 * 1024;
/** Go's RFC3339Nano in UTC: the fraction without trailing zeros, or none. */
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

function collect(client: AttachClient): { stdout: () => string; stderr: () => string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  client.on('stdout', (b) => out.push(b));
  client.on('stderr', (b) => err.push(b));
  return { stdout: () => Buffer.concat(out).toString(), stderr: () => Buffer.concat(err).toString() };
}

test('output reaches the json-file log and an attached client, stdout and stderr apart', async (t) => {
  const before = Date.now();
  const c = await createMonitored(runtime, t, [
    '/bin/sh',
    '-c',
    'echo out; echo err >&2; printf "<&> \\377 \\"q\\"\\tx\\n"; printf partial',
  ]);
  const client = await AttachClient.connect(c.dir);
  const seen = collect(client);
  await runtime.start(c.id);
  const exit = await client.exit;
  assert.equal(exit.exitCode, 0);
  assert.equal(seen.stdout(), 'out\n<&> \ufffd "q"\tx\npartial');
  assert.equal(seen.stderr(), 'err\n');

  const raw = readFileSync(c.log, 'utf8');
  // Go's encoding/json: HTML characters and invalid UTF-8 escaped as Docker writes them.
  assert.ok(
    raw.includes('{"log":"\\u003c\\u0026\\u003e \\ufffd \\"q\\"\\tx\\n","stream":"stdout","time":"'),
    raw,
  );
  const lines = logLines(c.log);
  assert.deepEqual(
    lines.map((l) => [l.stream, l.log]).sort(),
    [
      ['stderr', 'err\n'],
      ['stdout', '<&> \ufffd "q"\tx\n'],
      ['stdout', 'out\n'],
      ['stdout', 'partial'],
    ].sort(),
  );
  for (const line of lines) {
    assert.match(line.time, RFC3339_NANO);
    const when = Date.parse(line.time);
    assert.ok(when >= before - 1000 && when <= Date.now() + 1000, line.time);
  }
  assert.ok(await monitorGone(c.monitorPid), 'the monitor exits after the container');
  assert.equal(existsSync(path.join(c.dir, 'attach')), false);
});

test('a line longer than 16 KiB is cut into partial messages', async (t) => {
  const c = await createMonitored(runtime, t, [
    '/bin/sh',
    '-c',
    'head -c 40000 /dev/zero | tr "\\0" a; echo',
  ]);
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  const parts = logLines(c.log).map((l) => l.log);
  assert.deepEqual(
    parts.map((p) => p.length),
    [16384, 16384, 40000 - 2 * 16384 + 1],
  );
  assert.ok(parts[2]!.endsWith('a\n') && !parts[0]!.includes('\n'));
});

test('stdin with --stdin: a client writes, then closes it', async (t) => {
  const c = await createMonitored(
    runtime,
    t,
    ['/bin/sh', '-c', 'read line; echo "got:$line"; cat; echo end'],
    {
      monitor: { stdin: true },
    },
  );
  const client = await AttachClient.connect(c.dir);
  const seen = collect(client);
  await runtime.start(c.id);
  client.writeStdin('hello\n');
  client.writeStdin('more ');
  client.writeStdin('data');
  client.closeStdin();
  assert.equal((await client.exit).exitCode, 0);
  assert.equal(seen.stdout(), 'got:hello\nmore dataend\n');
});

test('without --stdin the container reads /dev/null', async (t) => {
  const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'cat; readlink /proc/self/fd/0; echo done']);
  const client = await AttachClient.connect(c.dir);
  const seen = collect(client);
  // Nobody's input: dropped, and it does not stall the monitor.
  client.writeStdin('ignored\n'.repeat(100_000));
  client.closeStdin();
  await runtime.start(c.id);
  assert.equal((await client.exit).exitCode, 0);
  assert.equal(seen.stdout(), '/dev/null\ndone\n');
});

test('a terminal: a client types a command, reads the answer, and resizes the pty', async (t) => {
  const c = await createMonitored(runtime, t, ['/bin/sh'], {
    edit: (spec) => {
      spec.process!.terminal = true;
      spec.process!.consoleSize = { height: 24, width: 80 };
    },
    monitor: { stdin: true },
  });
  const client = await AttachClient.connect(c.dir);
  const seen = collect(client);
  await runtime.start(c.id);
  client.writeStdin('stty size; echo "is a tty: $(/probe isatty 0 2>&1 || tty)"\n');
  assert.ok(await eventually(() => seen.stdout().includes('24 80'), 5000), seen.stdout());
  client.resize(33, 101);
  client.writeStdin('stty size; exit 7\n');
  const exit = await client.exit;
  assert.equal(exit.exitCode, 7);
  assert.match(seen.stdout(), /33 101/);
  assert.equal(seen.stderr(), '');
  const lines = logLines(c.log);
  assert.ok(lines.length > 0 && lines.every((l) => l.stream === 'stdout'));
  assert.match(lines.map((l) => l.log).join(''), /33 101\r\n/);
});

test('a terminal: closing stdin is ^D, the end of input for the program', async (t) => {
  const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'cat >/dev/null; echo "cat saw EOF"'], {
    edit: (spec) => {
      spec.process!.terminal = true;
    },
    monitor: { stdin: true },
  });
  const client = await AttachClient.connect(c.dir);
  const seen = collect(client);
  await runtime.start(c.id);
  client.writeStdin('some input\n');
  client.closeStdin();
  assert.equal((await client.exit).exitCode, 0);
  assert.match(seen.stdout(), /cat saw EOF\r\n$/);
});

test('two clients at once both get all output and the exit', async (t) => {
  const c = await createMonitored(runtime, t, [
    '/bin/sh',
    '-c',
    'for i in 1 2 3; do echo line$i; done; exit 5',
  ]);
  const a = await AttachClient.connect(c.dir);
  const b = await AttachClient.connect(c.dir);
  const seenA = collect(a);
  const seenB = collect(b);
  await runtime.start(c.id);
  const [ea, eb] = await Promise.all([a.exit, b.exit]);
  assert.equal(ea.exitCode, 5);
  assert.deepEqual(ea, eb);
  assert.equal(seenA.stdout(), 'line1\nline2\nline3\n');
  assert.equal(seenB.stdout(), 'line1\nline2\nline3\n');
  // The exit record on disk is what the clients were told.
  assert.deepEqual(await readExitFile(c.dir), ea);
});

test('a client that does not read is dropped; the container and the log go on', async (t) => {
  const c = await createMonitored(runtime, t, [
    '/bin/sh',
    '-c',
    'head -c 12000000 /dev/zero | tr "\\0" "x"; echo; echo tail',
  ]);
  // A raw connection that never reads: the monitor must neither wait for it nor hold the container.
  const slow = net.createConnection(path.join(c.dir, 'attach'));
  await once(slow, 'connect');
  slow.pause();
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid), 'the monitor finished without the slow client');
  const received: Buffer[] = [];
  slow.on('data', (b: Buffer) => received.push(b));
  slow.resume();
  await once(slow, 'close');
  const frames = new FrameDecoder().push(Buffer.concat(received));
  assert.ok(!frames.some((f) => f.type === FrameType.exit), 'a dropped client gets no EXIT');
  assert.ok(Buffer.concat(received).length < 12_000_000);
  const exit = await readExitFile(c.dir);
  assert.equal(exit?.exitCode, 0);
  const lines = logLines(c.log);
  assert.equal(lines.at(-1)!.log, 'tail\n');
  assert.equal(
    lines.reduce((n, l) => n + l.log.length, 0),
    12000000 + 1 + 5,
  );
});

test('the log rotates by size: FILE, FILE.1 … FILE.(N-1)', async (t) => {
  const c = await createMonitored(
    runtime,
    t,
    ['/bin/sh', '-c', 'for i in $(seq 1 40); do echo "message number $i"; done'],
    {
      monitor: { logMaxSize: 400, logMaxFiles: 3 },
    },
  );
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  const files = readdirSync(c.dir)
    .filter((f) => f.startsWith('ctr.log'))
    .sort();
  assert.deepEqual(files, ['ctr.log', 'ctr.log.1', 'ctr.log.2']);
  for (const f of files) assert.ok(statSync(path.join(c.dir, f)).size <= 400, f);
  const newest = logLines(c.log).map((l) => l.log);
  assert.equal(newest.at(-1), 'message number 40\n');
  // Contiguous: FILE.1 ends right before FILE begins.
  const older = logLines(`${c.log}.1`).map((l) => l.log);
  const last = Number(older.at(-1)!.match(/\d+/)![0]);
  assert.equal(newest[0], `message number ${last + 1}\n`);
});

test('max-files 1 truncates the log in place', async (t) => {
  const c = await createMonitored(
    runtime,
    t,
    ['/bin/sh', '-c', 'for i in $(seq 1 40); do echo "message number $i"; done'],
    {
      monitor: { logMaxSize: 300, logMaxFiles: 1 },
    },
  );
  await runtime.start(c.id);
  assert.ok(await monitorGone(c.monitorPid));
  assert.deepEqual(
    readdirSync(c.dir).filter((f) => f.startsWith('ctr.log')),
    ['ctr.log'],
  );
  assert.ok(statSync(c.log).size <= 300);
  assert.equal(logLines(c.log).at(-1)!.log, 'message number 40\n');
});

test('the exit record: a code, a signal, an OOM kill', async (t) => {
  await t.test('exit code', async (t) => {
    const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'exit 42']);
    await runtime.start(c.id);
    assert.ok(await monitorGone(c.monitorPid));
    const exit = await readExitFile(c.dir);
    assert.equal(exit?.exitCode, 42);
    assert.equal(exit?.signal, 0);
    assert.equal(exit?.oomKilled, false);
    assert.match(exit!.finishedAt, RFC3339_NANO);
  });
  await t.test('killed by a signal', async (t) => {
    const c = await createMonitored(runtime, t, ['/bin/sleep', '100']);
    const client = await AttachClient.connect(c.dir);
    await runtime.start(c.id);
    await runtime.kill(c.id, 'SIGKILL');
    const exit = await client.exit;
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.signal, 9);
    assert.equal(exit.oomKilled, false);
  });
  await t.test('OOM-killed under a tiny memory limit', async (t) => {
    const c = await createMonitored(runtime, t, ['/probe', 'memhog', '256'], {
      edit: (spec) => {
        spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 32 * MiB, swap: 32 * MiB } };
      },
    });
    const client = await AttachClient.connect(c.dir);
    await runtime.start(c.id);
    const exit = await client.exit;
    assert.equal(exit.exitCode, 137);
    assert.equal(exit.oomKilled, true);
  });
});

test('the exit command runs when nobody claims the cleanup', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'ran');
  const c = await createMonitored(runtime, t, ['/bin/true'], {
    monitor: { exitCommand: ['/bin/sh', '-c', 'echo "$0 $1" > "$2"', 'cleanup', 'arg', mark] },
  });
  await runtime.start(c.id);
  // `>` creates the file before echo writes: wait for the content.
  const content = () => (existsSync(mark) ? readFileSync(mark, 'utf8') : '');
  assert.ok(
    await eventually(() => content() === 'cleanup arg\n', 5000),
    `the exit command ran: ${content()}`,
  );
});

test('after CLAIM-CLEANUP and CLEANUP-DONE the exit command does not run; on EOF it does', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  for (const ending of ['done', 'eof'] as const) {
    const mark = path.join(marks, ending);
    const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'sleep 0.2'], {
      monitor: { exitCommand: ['/bin/sh', '-c', 'touch "$0"', mark] },
    });
    const client = await AttachClient.connect(c.dir);
    client.claimCleanup();
    await runtime.start(c.id);
    assert.equal((await client.exit).exitCode, 0);
    // The monitor waits for the claiming client.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(existsSync(path.join(c.dir, 'exit')));
    assert.equal(await monitorGone(c.monitorPid, 100), false, 'the monitor waits for the claimant');
    if (ending === 'done') client.cleanupDone();
    else client.close();
    assert.ok(await monitorGone(c.monitorPid));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(existsSync(mark), ending === 'eof', `exit command after ${ending}`);
  }
});

test('a create that fails records no exit and runs no exit command', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'ran');
  const bundle = makeBundle(['/no/such/program']);
  const { dir, cleanup: rmDir } = tempDir('skiff-monitor-');
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
    rmDir();
  });
  await assert.rejects(
    runtime.create({ id, bundle: bundle.dir, monitor: { dir, exitCommand: ['/bin/touch', mark] } }),
    /exec `\/no\/such\/program`: ENOENT/,
  );
  const monitorPid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8'));
  assert.ok(await monitorGone(monitorPid));
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(existsSync(path.join(dir, 'exit')), false);
  assert.equal(existsSync(mark), false);
  await assert.rejects(runtime.state(id), /does not exist|not found/i);
});

test('the container and its monitor outlive the process that called Runtime.create', async (t) => {
  const { dir, cleanup: rmDir } = tempDir('skiff-creator-');
  t.after(rmDir);
  const script = path.join(dir, 'create.ts');
  const bundle = makeBundle(['/bin/sh', '-c', 'echo started; sleep 100']);
  const id = uniqueId();
  t.after(async () => {
    await runtime.delete(id, { force: true }).catch(() => {});
    bundle.cleanup();
  });
  // Runtime.create in a process of its own, which exits right after.
  writeFileSync(
    script,
    `import { Runtime } from ${JSON.stringify(path.join(REPO_ROOT, 'src/runtime/index.ts'))};
const runtime = new Runtime({ root: ${JSON.stringify(root)} });
await runtime.create({ id: ${JSON.stringify(id)}, bundle: ${JSON.stringify(bundle.dir)}, monitor: { dir: ${JSON.stringify(dir)}, logFile: ${JSON.stringify(path.join(dir, 'log'))} } });
console.log('created');
`,
  );
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, 'created\n');
  const monitorPid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8'));
  assert.equal((await runtime.state(id)).status, 'created');
  const client = await AttachClient.connect(dir);
  const seen = collect(client);
  await runtime.start(id);
  assert.ok(await eventually(() => seen.stdout() === 'started\n'));
  assert.equal((await runtime.state(id)).status, 'running');
  // Idle: the monitor's resident set, against conmon's ≈ 1.95 MB here.
  const rss = Number(readFileSync(`/proc/${monitorPid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)![1]);
  t.diagnostic(`idle monitor VmRSS: ${rss} kB`);
  await runtime.kill(id, 'SIGKILL');
  assert.equal((await client.exit).exitCode, 137);
  assert.ok(await monitorGone(monitorPid));
});

test('reaper (--init): zombies are reaped, signals forwarded, the status passed on', async (t) => {
  const init = (spec: { annotations?: Record<string, string> }) => {
    spec.annotations = { ...spec.annotations, [INIT_ANNOTATION]: 'true' };
  };
  // Orphans reparent to PID 1; `sleep` as PID 1 never reaps them, the reaper does.
  const orphans = ['/bin/sh', '-c', '(sleep 0.1 &); (sleep 0.1 &); (sleep 0.1 &); exec sleep 100'];
  // Zombies among PID 1 and its children, seen from the host (a child may vanish while we look).
  const statOf = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  };
  const zombiesOf = async (id: string) => {
    const pid = (await runtime.state(id)).pid!;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    const all = [pid, ...children.filter(Boolean).map(Number)];
    return all.filter((p) => /^\d+ \(.*\) Z/.test(statOf(p))).length;
  };

  await t.test('without it, orphans stay zombies', async (t) => {
    const c = await createMonitored(runtime, t, orphans);
    await runtime.start(c.id);
    assert.ok(await eventually(async () => (await zombiesOf(c.id)) === 3, 3000));
  });
  await t.test('with it, they are reaped', async (t) => {
    const c = await createMonitored(runtime, t, orphans, { edit: init });
    await runtime.start(c.id);
    const pid = (await runtime.state(c.id)).pid!;
    const children = () => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    const cmdline = (child: string | undefined) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    };
    // Once the program is `sleep 100` the three orphans are children of PID 1 (the reaper); then they
    // must be gone: only the program is left, and no zombie.
    assert.ok(
      await eventually(async () => {
        const left = children();
        return left.length === 1 && cmdline(left[0]) === 'sleep\x00100\x00' && (await zombiesOf(c.id)) === 0;
      }, 5000),
      `children of the reaper: ${children()}`,
    );
  });
  await t.test('signals are forwarded to the program', async (t) => {
    const c = await createMonitored(
      runtime,
      t,
      ['/bin/sh', '-c', 'trap "echo got TERM; exit 42" TERM; echo ready; while true; do sleep 0.05; done'],
      { edit: init },
    );
    const client = await AttachClient.connect(c.dir);
    const seen = collect(client);
    await runtime.start(c.id);
    assert.ok(await eventually(() => seen.stdout() === 'ready\n'));
    await runtime.kill(c.id, 'SIGTERM');
    assert.equal((await client.exit).exitCode, 42);
    assert.equal(seen.stdout(), 'ready\ngot TERM\n');
  });
  await t.test('a program killed by a signal: 128 + signal', async (t) => {
    const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'kill -USR1 $$'], { edit: init });
    const client = await AttachClient.connect(c.dir);
    await runtime.start(c.id);
    const exit = await client.exit;
    assert.equal(exit.exitCode, 128 + 10);
    assert.equal(exit.signal, 0, 'the reaper exited with that code');
  });
});

test('the timer runs its command after each interval, never two at once, and stops at the exit', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'runs');
  const c = await createMonitored(runtime, t, ['/bin/sleep', '100'], {
    monitor: {
      timer: {
        intervalMs: 50,
        command: ['/bin/sh', '-c', 'echo "start $1" >> "$0"; sleep 0.2; echo end >> "$0"', mark, 'arg'],
      },
    },
  });
  await runtime.start(c.id);
  const lines = () => (existsSync(mark) ? readFileSync(mark, 'utf8').split('\n').filter(Boolean) : []);
  assert.ok(await eventually(() => lines().filter((l) => l === 'end').length >= 3, 10_000), lines().join());
  await runtime.kill(c.id, 'SIGKILL');
  assert.ok(await monitorGone(c.monitorPid));
  const starts = lines().filter((l) => l.startsWith('start')).length;
  // A run in progress at the exit finishes; none starts after it.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const all = lines();
  assert.equal(all.filter((l) => l.startsWith('start')).length, starts, 'no run after the exit');
  for (let i = 0; i < all.length; i++)
    assert.equal(all[i], i % 2 === 0 ? 'start arg' : 'end', `runs never overlap: ${all.join(' | ')}`);
});

test('the timer uses the start interval while the start period is longer away than the interval', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'runs');
  // dockerd's getInterval(): the start interval while more than an interval of the start period is
  // left (here its first second), then a run at the period's end (5 s), then every interval.
  const c = await createMonitored(runtime, t, ['/bin/sleep', '100'], {
    monitor: {
      timer: {
        intervalMs: 4000,
        startIntervalMs: 50,
        startPeriodMs: 5000,
        command: ['/bin/sh', '-c', 'echo run >> "$0"', mark],
      },
    },
  });
  const began = Date.now();
  await runtime.start(c.id);
  const runs = () => (existsSync(mark) ? readFileSync(mark, 'utf8').split('\n').filter(Boolean).length : 0);
  assert.ok(await eventually(() => runs() >= 3, 5000), 'runs at the start interval');
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, began + 1500 - Date.now())));
  const settled = runs();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(runs(), settled, 'the next run waits for the end of the start period');
  await runtime.kill(c.id, 'SIGKILL');
  assert.ok(await monitorGone(c.monitorPid));
});
