// `skiff stats` through bin/skiff: the numbers come from the containers' cgroups and move with what
// the containers do (a busy loop, a memory hog, forks, direct writes, a CPU quota), in docker's table
// and JSON forms.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type EngineEnv, engineEnv, terminalSession } from '../helpers/engine.ts';
import { eventually } from '../helpers/host.ts';

interface Row {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
  Periods: string;
  Throttled: string;
  ThrottledPeriods: string;
  ThrottledTime: string;
}

/** `stats --no-stream --format json NAMES…`: one JSON object per line. */
function stats(s: EngineEnv, names: string[]): Map<string, Row> {
  const rows = s
    .ok(['stats', '--no-stream', '--format', 'json', ...names])
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  return new Map(rows.map((r) => [r.Name, r]));
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** `12.5MiB` → bytes. */
function binaryBytes(text: string): number {
  const m = /^([\d.]+)([A-Za-z]+)$/.exec(text.trim());
  assert.ok(m && UNITS[m[2]!] !== undefined, `a size: ${text}`);
  return Number(m[1]) * UNITS[m[2]!]!;
}
const DECIMAL: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
function decimalBytes(text: string): number {
  const m = /^([\d.]+)([A-Za-z]+)$/.exec(text.trim());
  assert.ok(m && DECIMAL[m[2]!] !== undefined, `a size: ${text}`);
  return Number(m[1]) * DECIMAL[m[2]!]!;
}
/** The number of `12.34%` (or of `12.34% (1.2s)`). */
const percent = (text: string) => Number(/^([\d.]+)%/.exec(text)?.[1] ?? Number.NaN);

test('stats --no-stream: CPU, memory, limit, pids and block I/O follow what the containers do', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'idle', '--network', 'none', '--memory', '64m', 'busybox', 'sleep', '600']);
  s.ok(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']);
  // 48 MiB in /dev/shm (tmpfs: charged to the container, not reclaimable as cache).
  s.ok([
    'run',
    '-d',
    '--name',
    'hog',
    'busybox',
    'sh',
    '-c',
    'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 && touch /tmp/filled; sleep 600',
  ]);
  s.ok([
    'run',
    '-d',
    '--name',
    'forks',
    'busybox',
    'sh',
    '-c',
    'for i in 1 2 3 4 5; do sleep 600 & done; wait',
  ]);
  assert.ok(
    await eventually(() => s.skiff(['exec', 'hog', 'test', '-f', '/tmp/filled']).status === 0, 20_000),
    'the hog filled its memory',
  );
  const r = stats(s, ['idle', 'busy', 'hog', 'forks']);

  const idle = r.get('idle')!;
  assert.equal(idle.Container, 'idle');
  assert.match(idle.ID, /^[a-f0-9]{12}$/);
  assert.ok(percent(idle.CPUPerc) < 20, `idle CPU ${idle.CPUPerc}`);
  const [idleUse, idleLimit] = idle.MemUsage.split(' / ');
  assert.equal(idleLimit, '64MiB', '--memory is the limit');
  assert.ok(binaryBytes(idleUse!) < 16 * 1024 ** 2, `idle memory ${idleUse}`);
  assert.equal(idle.PIDs, '1');
  assert.equal(idle.NetIO, '0B / 0B');
  assert.equal(idle.Throttled, '--', 'no CPU quota, no periods');

  const busy = r.get('busy')!;
  // Its share depends on what else the host runs: only that it shows, and above the sleeping one.
  assert.ok(percent(busy.CPUPerc) > 5, `a busy loop shows: ${busy.CPUPerc}`);
  assert.ok(percent(busy.CPUPerc) > percent(idle.CPUPerc));
  // Without --memory the limit is the host's memory.
  const hostKiB = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
  const busyLimit = binaryBytes(busy.MemUsage.split(' / ')[1]!);
  assert.ok(Math.abs(busyLimit - hostKiB * 1024) / (hostKiB * 1024) < 0.01, `host memory: ${busy.MemUsage}`);

  const hogUse = binaryBytes(r.get('hog')!.MemUsage.split(' / ')[0]!);
  assert.ok(hogUse > 40 * 1024 ** 2, `the hog's memory: ${r.get('hog')!.MemUsage}`);
  assert.ok(percent(r.get('hog')!.MemPerc) > percent(busy.MemPerc));

  assert.equal(r.get('forks')!.PIDs, '6', 'the shell and its five sleeps');

  // Direct writes reach the block layer: BLOCK I/O's write side grows.
  const before = decimalBytes(idle.BlockIO.split(' / ')[1]!);
  s.ok(['exec', 'idle', 'dd', 'if=/dev/zero', 'of=/written', 'bs=1M', 'count=8', 'oflag=direct']);
  const after = decimalBytes(stats(s, ['idle']).get('idle')!.BlockIO.split(' / ')[1]!);
  assert.ok(after - before >= 8e6, `block writes ${before} → ${after}`);
});

test('stats: throttling under --cpus 0.1 shows throttled periods', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'capped', '--cpus', '0.1', 'busybox', 'sh', '-c', 'while :; do :; done']);
  const row = stats(s, ['capped']).get('capped')!;
  assert.ok(Number(row.ThrottledPeriods) > 0, `nr_throttled: ${JSON.stringify(row)}`);
  assert.ok(Number(row.Periods) >= Number(row.ThrottledPeriods));
  assert.match(row.Throttled, /^\d+\.\d\d% \([\d.]+m?s\)$/);
  const ratio = (Number(row.ThrottledPeriods) / Number(row.Periods)) * 100;
  assert.ok(Math.abs(percent(row.Throttled) - ratio) < 0.01, `${row.Throttled} is ${ratio}%`);
  assert.ok(percent(row.CPUPerc) < 25, `and gets about 10% of a CPU: ${row.CPUPerc}`);
});

test('stats: the table, -a and a stopped container, --no-trunc, templates, unknown names', async (t) => {
  const s = await engineEnv(t);
  const id = s.ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '600']);
  s.ok(['create', '--name', 'down', 'busybox', 'true']);
  const table = s.ok(['stats', '--no-stream']).split('\n');
  assert.match(
    table[0]!,
    /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\s+THROTTLED$/,
  );
  assert.equal(table.length, 2, 'only the running container');
  assert.match(table[1]!, new RegExp(`^${id.slice(0, 12)}\\s+up\\s+\\d+\\.\\d\\d%\\s+`));
  const all = s.ok([
    'stats',
    '--no-stream',
    '-a',
    '--format',
    '{{.Name}}: {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}',
  ]);
  assert.deepEqual(all.split('\n').sort(), [
    'down: 0.00% 0B / 0B 0',
    `up: ${all
      .split('\n')
      .find((l) => l.startsWith('up: '))!
      .slice(4)}`,
  ]);
  assert.equal(s.ok(['stats', '--no-stream', '--no-trunc', '--format', '{{.ID}}', 'up']), id);
  assert.equal(
    s.ok(['container', 'stats', '--no-stream', '--format', '{{.Container}}', id.slice(0, 8)]),
    id.slice(0, 8),
  );
  const r = s.skiff(['stats', '--no-stream', 'nosuch']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /No such container: nosuch/);
  const bad = s.skiff(['stats', '--no-stream', '--format', '{{.Nope']);
  assert.equal(bad.status, 64);
});

test('stats without --no-stream prints a table every second until interrupted', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '600']);
  const child = s.spawnSkiff(['stats', '--format', '{{.Name}} {{.PIDs}}', 'up']);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.ok(await eventually(() => out.split('\n').filter((l) => l === 'up 1').length >= 2, 10_000), out);
  assert.ok(!out.includes('\u001b['), 'not a terminal: no screen control');
  child.kill('SIGINT');
  assert.equal(await exited, 0);
});

test('stats on a terminal clears the screen and redraws the table', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'up', 'busybox', 'sleep', '600']);
  const term = terminalSession(s, ['stats', '--format', "'table {{.Name}}\t{{.PIDs}}'", 'up']);
  const shown = await term.waitFor('\u001b[2J\u001b[HNAME      PIDS\r\nup        1');
  const redraws = () => shown.split('\u001b[2J\u001b[H').length - 1;
  assert.ok(redraws() >= 1, JSON.stringify(shown));
  const again = await term.waitFor('\u001b[2J\u001b[HNAME      PIDS\r\nup        1\r\n\u001b[2J');
  assert.ok(again.split('\u001b[2J\u001b[H').length - 1 >= 2, 'redrawn each second');
  term.type('\u0003');
  assert.equal(await term.exited, 0);
});

test('stats: NET I/O counts the traffic of a container on a network; none and host show none', async (t) => {
  const s = await engineEnv(t);
  s.ok(['run', '-d', '--name', 'talker', '--network', 'bridge', 'busybox', 'sleep', '600']);
  s.ok(['run', '-d', '--name', 'alone', '--network', 'none', 'busybox', 'sleep', '600']);
  s.ok(['run', '-d', '--name', 'hosted', '--network', 'host', 'busybox', 'sleep', '600']);
  const gateway = s.ok(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}', 'talker']);
  assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
  s.ok(['exec', 'talker', 'ping', '-c', '3', '-s', '1000', gateway]);
  const r = stats(s, ['talker', 'alone', 'hosted']);
  const [rx, tx] = r.get('talker')!.NetIO.split(' / ').map(decimalBytes);
  // Three 1028-byte echo requests out and three replies in (plus whatever the network said).
  assert.ok(rx! >= 3000 && tx! >= 3000, `talker: ${r.get('talker')!.NetIO}`);
  assert.equal(r.get('alone')!.NetIO, '0B / 0B', '--network none: loopback only');
  assert.equal(
    r.get('hosted')!.NetIO,
    '0B / 0B',
    "--network host: the host's traffic is not the container's",
  );
});
