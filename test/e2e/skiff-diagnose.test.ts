// `skiff diagnose` through bin/skiff: each finding is made real in a container (a CPU-bound loop
// under --cpus 0.1, a memory hog, a process holding memory near its limit, zombies a PID 1 never
// reaps, fds near a low --ulimit nofile, processes blocked in D, pids near --pids-limit), and a
// healthy container has none. The JSON shape and the namespaces shared with the host are checked too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiagnoseReport } from '../../src/engine/index.ts';
import { type EngineEnv, engineEnv } from '../helpers/engine.ts';
import { eventually, processesMentioning } from '../helpers/host.ts';

let e: EngineEnv;
const cleanups: (() => void | Promise<void>)[] = [];

before(async () => {
  e = await engineEnv({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  // The containers go first and their monitors' cleanup commands end, so that nothing writes into
  // the root (a cleanup command would make its skiff.db anew) once engineEnv removes it.
  const ids = e.skiff(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) e.skiff(['rm', '-f', ...ids]);
  await eventually(() => processesMentioning(e.runroot).length === 0, 10_000);
  for (const fn of cleanups) await fn();
});

function ok(args: string[]): string {
  const r = e.skiff(args);
  assert.equal(r.status, 0, `skiff ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs a detached container; removed (with -f) at the end of the test. */
function run(t: { after: (fn: () => void) => void }, flags: string[], cmd: string[]): string {
  const id = ok(['run', '-d', ...flags, 'busybox', ...cmd]);
  t.after(() => {
    e.skiff(['rm', '-f', id]);
  });
  return id;
}

function diagnose(id: string, interval = '1s'): DiagnoseReport {
  return JSON.parse(ok(['diagnose', '--format', 'json', '--interval', interval, id])) as DiagnoseReport;
}

const codes = (r: DiagnoseReport) => r.findings.map((f) => f.code);

/** Polls a quick look (--interval 0) until check holds. */
async function until(id: string, check: (r: DiagnoseReport) => boolean, what: string): Promise<void> {
  assert.ok(await eventually(() => check(diagnose(id, '0')), 15_000), `timed out waiting for ${what}`);
}

describe('skiff diagnose', () => {
  test('a healthy container: no findings, "No problems found."', (t) => {
    const id = run(t, ['--memory', '64m', '--cpus', '1'], ['sleep', '1000']);
    const report = diagnose(id);
    assert.deepEqual(report.findings, []);
    assert.match(ok(['diagnose', '--interval', '500ms', id]), /No problems found\.$/);
  });

  test('JSON shape: process, 8 namespaces, cgroup limits, rootfs layers, limits', (t) => {
    const id = run(
      t,
      ['--memory', '64m', '--cpus', '0.5', '--pids-limit', '50', '--ulimit', 'nofile=100:200'],
      ['sh', '-c', 'sleep 1000 & exec sleep 1001'],
    );
    const r = diagnose(id, '500ms');
    assert.equal(r.schemaVersion, 1);
    assert.equal(r.id, id);
    assert.equal(r.state, 'running');
    assert.equal(r.intervalMs, 500);
    assert.equal(r.lastExit, null);
    // The process tree: the init (PID 1 inside) and its child.
    assert.ok(r.process);
    const init = r.process.processes[0]!;
    assert.equal(init.pid, r.process.pid);
    assert.equal(init.nsPid, 1);
    assert.deepEqual(init.args, ['sleep', '1001']);
    const child = r.process.processes.find((p) => p.args.join(' ') === 'sleep 1000');
    assert.ok(child, 'the child is listed');
    assert.equal(child.ppid, init.pid);
    assert.equal(child.depth, 1);
    assert.equal(r.process.states.S, 2);
    assert.equal(init.nofileLimit, 100);
    // Namespaces: all 8, each with an inode; the container's own pid and mnt namespaces.
    assert.deepEqual(
      r.namespaces.map((n) => n.type),
      ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'],
    );
    for (const ns of r.namespaces) assert.ok(ns.inode === null || ns.inode > 0);
    const byType = Object.fromEntries(r.namespaces.map((n) => [n.type, n]));
    assert.equal(byType.pid!.sharedWithHost, false);
    assert.equal(byType.mnt!.sharedWithHost, false);
    assert.equal(byType.net!.sharedWithHost, false, 'the default network is a namespace of its own');
    // Cgroup: the limits asked for, read back from the kernel's files.
    assert.ok(r.cgroup);
    assert.ok(
      Object.values(r.cgroup.paths).some((p) => p.includes(id)),
      'the cgroup path names the container',
    );
    assert.equal(r.cgroup.memory?.limit, 64 * 1024 * 1024);
    assert.equal(r.cgroup.cpu?.cpus, 0.5);
    assert.equal(r.cgroup.pids?.max, 50);
    assert.equal(r.cgroup.pids?.current, 2);
    assert.equal(r.cgroup.frozen, false);
    assert.ok(['cgroup', 'host', 'unavailable'].includes(r.cgroup.pressure.scope));
    // The root filesystem: the image's layer under the container's upper dir.
    assert.ok(r.rootfs);
    const image = JSON.parse(ok(['image', 'inspect', 'busybox'])) as { RootFS: { Layers: string[] } }[];
    assert.deepEqual(
      r.rootfs.layers.map((l) => l.diffId),
      image[0]!.RootFS.Layers,
    );
    assert.match(r.rootfs.upperDir ?? '', new RegExp(id));
    // Limits: usage against each limit.
    assert.equal(r.limits?.pids?.limit, 50);
    assert.equal(r.limits?.memory?.limit, 64 * 1024 * 1024);
    assert.equal(r.limits?.fds?.limit, 100);
  });

  test('--network host: the net namespace is reported shared with the host', (t) => {
    const id = run(t, ['--network', 'host'], ['sleep', '1000']);
    const r = diagnose(id, '0');
    const net = r.namespaces.find((n) => n.type === 'net')!;
    assert.equal(net.sharedWithHost, true);
    assert.match(ok(['diagnose', '--interval', '0', id]), /net\s+\d+\s+shared with the host/);
    assert.deepEqual(r.findings, [], 'a deliberate host network is no problem');
  });

  test('a CPU-bound loop under --cpus 0.1: CPU throttling', (t) => {
    const id = run(t, ['--cpus', '0.1'], ['sh', '-c', 'while :; do :; done']);
    const r = diagnose(id, '2s');
    const finding = r.findings.find((f) => f.code === 'cpu-throttled');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.match(
      finding.message,
      /^CPU throttled in \d+% of periods over the last 2 s: raise --cpus or look at bursts$/,
    );
    const window = r.cgroup!.cpu!.throttling.window;
    assert.ok(window.periods >= 5, `periods ${window.periods}`);
    assert.ok((window.ratio ?? 0) >= 0.25, `ratio ${window.ratio}`);
    assert.ok(finding.evidence.some((line) => line.startsWith('cpu.stat: nr_throttled')));
  });

  test('a memory hog under --memory: OOM kills since start, and the OOM-killed exit once stopped', async (t) => {
    const id = run(t, ['--memory', '32m'], ['sh', '-c', '/probe memhog 100; exec sleep 1000']);
    await until(id, (r) => (r.cgroup?.memory?.events.oomKill ?? 0) > 0, 'the OOM kill');
    const r = diagnose(id, '0');
    const finding = r.findings.find((f) => f.code === 'oom-kills');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.match(finding.message, /^\d+ OOM kills? since start/);
    // PID 1 itself killed: the container is not running, its last exit says OOM.
    const dead = run(t, ['--memory', '32m'], ['/probe', 'memhog', '100']);
    assert.equal(ok(['wait', dead]), '137');
    const stopped = diagnose(dead);
    assert.equal(stopped.process, null);
    assert.equal(stopped.lastExit?.exitCode, 137);
    assert.equal(stopped.lastExit?.oomKilled, true);
    assert.ok(stopped.rootfs, 'the root filesystem is reported for a stopped container');
    assert.deepEqual(codes(stopped), ['oom-killed']);
    assert.match(ok(['diagnose', dead]), /not running \(exited\); last exit: code 137, OOM killed/);
  });

  test('memory held at ~93% of --memory: memory near its limit', async (t) => {
    const id = run(t, ['--memory', '64m'], ['/probe', 'memhold', '59']);
    assert.ok(await eventually(() => ok(['logs', id]).includes('done'), 15_000), 'memhold allocated');
    const r = diagnose(id, '0');
    const finding = r.findings.find((f) => f.code === 'memory-near-limit');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.match(finding.message, /^memory at (9\d|100)% of limit/);
    assert.ok((r.limits?.memory?.ratio ?? 0) >= 0.9);
  });

  test('zombies a PID 1 never reaps; none with --init', async (t) => {
    // Orphans are reparented to PID 1, which by then is `sleep`: it never waits for them.
    const factory = ['sh', '-c', 'for i in 1 2 3 4 5; do (sleep 2 &); done; exec sleep 1000'];
    const id = run(t, [], factory);
    await until(id, (r) => r.process?.states.Z === 5, 'five zombies');
    const r = diagnose(id);
    const finding = r.findings.find((f) => f.code === 'zombies');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.equal(finding.message, '5 zombie processes: PID 1 does not reap children; run with --init');

    const reaped = run(t, ['--init'], factory);
    await until(reaped, (r) => r.process?.processes.length === 2, 'the orphans to end');
    const clean = diagnose(reaped);
    assert.equal(clean.process?.states.Z, undefined);
    assert.deepEqual(clean.findings, []);
  });

  test('fds near a low --ulimit nofile', async (t) => {
    const leak = 'i=3; while [ $i -lt 61 ]; do eval "exec $i</dev/null"; i=$((i+1)); done; exec sleep 1000';
    const id = run(t, ['--ulimit', 'nofile=64:64'], ['sh', '-c', leak]);
    await until(id, (r) => r.process?.processes[0]?.args[0] === 'sleep', 'the exec');
    const r = diagnose(id, '0');
    const finding = r.findings.find((f) => f.code === 'fds-near-limit');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.equal(finding.message, 'fds at 95% of the ulimit: raise --ulimit nofile or look for a leak');
    assert.equal(r.limits?.fds?.used, 61);
    assert.equal(r.limits?.fds?.limit, 64);
  });

  test('processes blocked in D state across the window', async (t) => {
    // A vfork parent waits uninterruptibly (D) until its child exits: 30 s here.
    const id = run(t, [], ['sh', '-c', '/probe dstate 30 & /probe dstate 30 & exec sleep 1000']);
    await until(id, (r) => r.process?.states.D === 2, 'two processes in D');
    const r = diagnose(id, '1500ms');
    const finding = r.findings.find((f) => f.code === 'd-state');
    assert.ok(finding, `findings: ${JSON.stringify(r.findings)}`);
    assert.match(finding.message, /^2 processes in D state for ≥ 1\.\d s: blocked on I\/O/);
  });

  test('pids near --pids-limit', async (t) => {
    const id = run(
      t,
      ['--pids-limit', '10'],
      ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 1000 & done; wait'],
    );
    await until(id, (r) => r.cgroup?.pids?.current === 9, 'nine processes');
    const r = diagnose(id, '0');
    assert.deepEqual(codes(r), ['pids-near-limit']);
    assert.equal(
      r.findings[0]!.message,
      'pids at 90% of pids.max: raise --pids-limit or look for a fork leak',
    );
  });

  test('bad input: an unknown container, a bad --format or --interval', () => {
    const missing = e.skiff(['diagnose', 'nosuch']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No such container: nosuch/);
    assert.equal(e.skiff(['diagnose', '--format', 'yaml', 'x']).status, 125);
    assert.match(e.skiff(['diagnose', '--interval', 'soon', 'x']).stderr, /--interval/);
  });
});
