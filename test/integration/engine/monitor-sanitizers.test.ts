import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { AttachClient } from '../../../src/engine/index.ts';
import { CREATE_CWD_ANNOTATION } from '../../../src/runtime/index.ts';
import { makeBundle, makeRuntime, uniqueId } from '../../helpers/bundle.ts';
import { eventually } from '../../helpers/host.ts';
import { createMonitored, logLines, monitorGone } from '../../helpers/monitor.ts';
import { REPO_ROOT, tempDir } from '../../helpers/rootfs.ts';

// This file runs in its own process: every shim here, the monitor included, is the ASan/UBSan build.
// The monitor's stderr is /dev/null, so the sanitizers write their reports into files (log_path).
const ASAN_SHIM = path.join(REPO_ROOT, 'native', 'build', 'skiff-shim-asan');
const reports = tempDir('skiff-asan-reports-');
process.env.SKIFF_SHIM = ASAN_SHIM;
process.env.ASAN_OPTIONS = `detect_leaks=1:abort_on_error=1:log_path=${reports.dir}/asan`;
process.env.UBSAN_OPTIONS = `halt_on_error=1:print_stacktrace=1:log_path=${reports.dir}/ubsan`;
execFileSync('make', ['-s', '-C', path.join(REPO_ROOT, 'native'), 'asan'], { stdio: 'inherit' });

const { runtime, cleanup } = makeRuntime();
after(() => {
  cleanup();
  reports.cleanup();
});

function sanitizerReports(): string {
  return readdirSync(reports.dir)
    .map((f) => readFileSync(path.join(reports.dir, f), 'utf8'))
    .join('\n');
}

test('the monitor runs clean under AddressSanitizer, LeakSanitizer and UBSan', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'ran');
  const c = await createMonitored(
    runtime,
    t,
    [
      '/bin/sh',
      '-c',
      'read a; echo "in:$a"; echo err >&2; for i in $(seq 1 30); do echo "line $i"; done; exit 3',
    ],
    { monitor: { stdin: true, logMaxSize: 500, logMaxFiles: 2, exitCommand: ['/bin/touch', mark] } },
  );
  const a = await AttachClient.connect(c.dir);
  const b = await AttachClient.connect(c.dir);
  const out: Buffer[] = [];
  a.on('stdout', (d) => out.push(d));
  await runtime.start(c.id);
  a.writeStdin('x\n');
  b.close();
  assert.equal((await a.exit).exitCode, 3);
  assert.match(Buffer.concat(out).toString(), /^in:x\nline 1\n[\s\S]*line 30\n$/);
  assert.ok(await monitorGone(c.monitorPid));
  assert.ok(await eventually(() => existsSync(mark)), 'the exit command ran');
  assert.equal(logLines(c.log).at(-1)!.log, 'line 30\n');
  assert.equal(sanitizerReports(), '');
});

test('the monitor with a terminal runs clean under the sanitizers', async (t) => {
  const c = await createMonitored(runtime, t, ['/bin/sh'], {
    edit: (spec) => {
      spec.process!.terminal = true;
    },
    monitor: { stdin: true },
  });
  const client = await AttachClient.connect(c.dir);
  const out: Buffer[] = [];
  client.on('stdout', (d) => out.push(d));
  await runtime.start(c.id);
  client.resize(40, 120);
  client.writeStdin('stty size; exit 4\n');
  assert.equal((await client.exit).exitCode, 4);
  assert.match(Buffer.concat(out).toString(), /40 120/);
  assert.ok(await monitorGone(c.monitorPid));
  assert.equal(sanitizerReports(), '');
});

test('host-mount, mkdir-cwd and --unmount run clean under the sanitizers, and so does a create they undo', async (t) => {
  const bundle = makeBundle(['/bin/pwd'], (spec) => {
    spec.root = { path: 'merged', readonly: false };
    spec.process!.cwd = '/made/here';
    spec.annotations = { [CREATE_CWD_ANNOTATION]: 'true' };
  });
  const merged = path.join(bundle.dir, 'merged');
  mkdirSync(merged);
  const { dir, cleanup: rmDir } = tempDir('skiff-monitor-');
  t.after(() => {
    for (let i = 0; i < 5 && readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${merged} `); i++)
      spawnSync('umount', ['-l', merged]);
    bundle.cleanup();
    rmDir();
  });
  const isMounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${merged} `);
  const rootfsMounts = [{ type: 'bind', source: bundle.rootfs, options: ['rbind', 'rw'] }];
  const id = uniqueId();
  t.after(() => runtime.delete(id, { force: true }).catch(() => {}));
  await runtime.create({
    id,
    bundle: bundle.dir,
    monitor: { dir, logFile: path.join(dir, 'log'), unmount: merged },
    rootfsMounts,
  });
  assert.ok(isMounted());
  const monitorPid = Number(readFileSync(path.join(dir, 'monitor.pid'), 'utf8'));
  await runtime.start(id);
  assert.ok(await monitorGone(monitorPid));
  assert.equal(logLines(path.join(dir, 'log'))[0]?.log, '/made/here\n');
  assert.equal(isMounted(), false);

  bundle.spec.process!.args = ['/no-such-program'];
  bundle.save();
  await assert.rejects(
    runtime.create({ id: uniqueId(), bundle: bundle.dir, monitor: { dir }, rootfsMounts }),
    /no-such-program/,
  );
  assert.equal(isMounted(), false);
  assert.equal(sanitizerReports(), '');
});

test('the monitor with a timer runs clean under the sanitizers', async (t) => {
  const { dir: marks, cleanup: rmMarks } = tempDir('skiff-marks-');
  t.after(rmMarks);
  const mark = path.join(marks, 'runs');
  const c = await createMonitored(runtime, t, ['/bin/sh', '-c', 'sleep 1; exit 5'], {
    monitor: {
      timer: {
        intervalMs: 50,
        startIntervalMs: 20,
        startPeriodMs: 300,
        command: ['/bin/sh', '-c', 'echo run >> "$0"', mark],
      },
    },
  });
  const client = await AttachClient.connect(c.dir);
  await runtime.start(c.id);
  assert.equal((await client.exit).exitCode, 5);
  assert.ok(await monitorGone(c.monitorPid));
  assert.ok(existsSync(mark) && readFileSync(mark, 'utf8').split('\n').length > 3, 'the timer ran');
  assert.equal(sanitizerReports(), '');
});
