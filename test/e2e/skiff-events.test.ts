// `skiff events` through bin/skiff against a temporary engine root: the events docker emits for a
// container's life (create, attach, start, kill, oom, die, stop, destroy, exec_*, rename), images and
// volumes, read back across CLI invocations with --since/--until/--filter/--format, followed live,
// and `rename` and `container prune` with their events.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type EngineEnv, leakCheckedEngineEnv } from '../helpers/engine.ts';
import { eventually, processesMentioning } from '../helpers/host.ts';

interface Event {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

interface Store extends EngineEnv {
  /** `skiff events ARGS --until 0s --format '{{json .}}'`, parsed. */
  events(args: string[]): Event[];
}

async function store(t: { after: (fn: () => void | Promise<void>) => void }): Promise<Store> {
  const e = await leakCheckedEngineEnv(t);
  const events = (args: string[]) =>
    e
      .ok(['events', '--since', '1h', '--until', '0s', ...args, '--format', '{{json .}}'])
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);
  return { ...e, events };
}

const actions = (events: Event[]) => events.map((e) => e.Action);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Unix seconds with nine decimals, as docker accepts for --since/--until. */
const unixNow = () => {
  const ns = BigInt(Date.now()) * 1_000_000n;
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
};

test('run -d, stop, rm: create, start, kill (15), die (143), stop, destroy, with docker attributes', async (t) => {
  const s = await store(t);
  const id = s.ok([
    'run',
    '-d',
    '--name',
    'ev-web',
    '--label',
    'tier=front',
    'busybox',
    'sh',
    '-c',
    'trap "exit 143" TERM; while :; do sleep 0.1; done',
  ]);
  s.ok(['stop', 'ev-web']);
  s.ok(['rm', 'ev-web']);
  const events = s.events(['--filter', `container=${id}`]);
  assert.deepEqual(actions(events), ['create', 'start', 'kill', 'die', 'stop', 'destroy']);
  for (const e of events) {
    assert.equal(e.Type, 'container');
    assert.equal(e.Actor.ID, id);
    assert.equal(e.scope, 'local');
    assert.equal(e.Actor.Attributes.image, 'busybox');
    assert.equal(e.Actor.Attributes.name, 'ev-web');
    assert.equal(e.Actor.Attributes.tier, 'front', 'the labels are attributes, as docker');
    // docker's deprecated fields, still filled for container events
    assert.equal(e.status, e.Action);
    assert.equal(e.id, id);
    assert.equal(e.from, 'busybox');
  }
  assert.equal(events[2]!.Actor.Attributes.signal, '15');
  assert.equal(events[3]!.Actor.Attributes.exitCode, '143');
  assert.ok(
    events.every((e, i) => i === 0 || e.timeNano >= events[i - 1]!.timeNano),
    'in order',
  );

  // docker's default line: RFC3339NanoFixed, type, action, id, then the attributes sorted by key.
  const lines = s.ok(['events', '--since', '1h', '--until', '0s', '--filter', 'event=die']).split('\n');
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container die ${id} \\(execDuration=\\d+, exitCode=143, image=busybox, name=ev-web, tier=front\\)$`,
    ),
  );
});

test('restart: kill, die, stop, start, restart; die once per exit while ps races the cleanup', async (t) => {
  const s = await store(t);
  const id = s.ok([
    'run',
    '-d',
    '--name',
    'ev-again',
    'busybox',
    'sh',
    '-c',
    'trap "exit 143" TERM; while :; do sleep 0.1; done',
  ]);
  s.ok(['restart', '-t', '5', 'ev-again']);
  assert.deepEqual(actions(s.events(['--filter', `container=${id}`])), [
    'create',
    'start',
    'kill',
    'die',
    'stop',
    'start',
    'restart',
  ]);
  // The exit is recorded by whoever comes first (the monitor's cleanup, or a ps that finds the
  // monitor gone): the die event is emitted once, with the record.
  s.ok(['run', '-d', '--name', 'ev-race', 'busybox', 'sh', '-c', 'sleep 0.3; exit 7']);
  const racers = Array.from({ length: 4 }, () => s.spawnSkiff(['ps', '-a']));
  for (let i = 0; i < 10; i++) s.skiff(['inspect', 'ev-race']);
  await Promise.all(racers.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  assert.equal(s.ok(['wait', 'ev-race']), '7');
  assert.ok(
    await eventually(
      () => processesMentioning(s.runroot).filter((p) => p.includes(' container cleanup ')).length === 0,
      10_000,
    ),
  );
  const dies = s.events(['--filter', 'container=ev-race', '--filter', 'event=die']);
  assert.equal(dies.length, 1, JSON.stringify(dies));
  assert.equal(dies[0]!.Actor.Attributes.exitCode, '7');
});

test('an attached run: create, attach, start, die with its exit code, destroy for --rm', async (t) => {
  const s = await store(t);
  const r = s.skiff(['run', '--rm', '--name', 'ev-once', 'busybox', 'sh', '-c', 'exit 3']);
  assert.equal(r.status, 3);
  const events = s.events(['--filter', 'container=ev-once']);
  assert.deepEqual(actions(events), ['create', 'attach', 'start', 'die', 'destroy']);
  assert.equal(events[3]!.Actor.Attributes.exitCode, '3');
});

test('a container killed for memory: oom, then die 137', async (t) => {
  const s = await store(t);
  const r = s.skiff([
    'run',
    '--name',
    'ev-oom',
    '-m',
    '8m',
    '--memory-swap',
    '8m',
    'busybox',
    'sh',
    '-c',
    'tail /dev/zero',
  ]);
  assert.equal(r.status, 137, r.stderr);
  const events = s.events(['--filter', 'container=ev-oom', '--filter', 'event=oom', '--filter', 'event=die']);
  assert.deepEqual(actions(events), ['oom', 'die']);
  assert.equal(events[1]!.Actor.Attributes.exitCode, '137');
});

test('--since and --until: durations, RFC 3339 and Unix seconds, across CLI invocations', async (t) => {
  const s = await store(t);
  s.ok(['create', '--name', 'ev-first', 'busybox', 'true']);
  await sleep(20);
  const between = unixNow();
  const betweenIso = new Date(Date.now()).toISOString();
  await sleep(20);
  s.ok(['create', '--name', 'ev-second', 'busybox', 'true']);
  const names = (args: string[]) =>
    s.events(['--filter', 'event=create', ...args]).map((e) => e.Actor.Attributes.name);
  assert.deepEqual(names([]), ['ev-first', 'ev-second']);
  // --until given before the defaults of the helper: the last flag wins, so pass it through events
  const until = (value: string) =>
    s
      .ok([
        'events',
        '--since',
        '1h',
        '--until',
        value,
        '--filter',
        'event=create',
        '--format',
        '{{.Actor.Attributes.name}}',
      ])
      .split('\n')
      .filter(Boolean);
  const since = (value: string) =>
    s
      .ok([
        'events',
        '--since',
        value,
        '--until',
        '0s',
        '--filter',
        'event=create',
        '--format',
        '{{.Actor.Attributes.name}}',
      ])
      .split('\n')
      .filter(Boolean);
  assert.deepEqual(until(between), ['ev-first']);
  assert.deepEqual(since(between), ['ev-second']);
  assert.deepEqual(until(betweenIso), ['ev-first']);
  assert.deepEqual(since(betweenIso), ['ev-second']);
  assert.deepEqual(since('10m'), ['ev-first', 'ev-second']);
  assert.deepEqual(until('10m'), [], 'ten minutes ago nothing had happened yet');
  const bad = s.skiff(['events', '--since', 'yesterday-ish', '--until', '0s']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Error response from daemon: .*yesterday-ish/);
});

test('--filter: one key ORs its values, keys AND; types, labels, images, volumes; bad filters', async (t) => {
  const s = await store(t);
  s.ok(['volume', 'create', 'ev-vol']);
  s.ok(['run', '--name', 'ev-a', '--label', 'app=one', '-v', 'ev-vol:/data', 'busybox', 'true']);
  s.ok(['run', '--name', 'ev-b', '--label', 'app=two', 'busybox', 'true']);
  s.ok(['rm', 'ev-a']);
  s.ok(['volume', 'rm', 'ev-vol']);
  const pick = (args: string[]) =>
    s.events(args).map((e) => `${e.Actor.Attributes.name ?? e.Actor.ID} ${e.Action}`);
  assert.deepEqual(
    pick(['--filter', 'container=ev-a', '--filter', 'container=ev-b', '--filter', 'event=die']),
    ['ev-a die', 'ev-b die'],
  );
  assert.deepEqual(pick(['--filter', 'label=app=two', '--filter', 'event=start']), ['ev-b start']);
  assert.deepEqual(pick(['--filter', 'label=app', '--filter', 'event=create']), [
    'ev-a create',
    'ev-b create',
  ]);
  assert.deepEqual(pick(['--filter', 'type=volume']), ['ev-vol create', 'ev-vol destroy']);
  assert.deepEqual(pick(['--filter', 'volume=ev-vol', '--filter', 'event=destroy']), ['ev-vol destroy']);
  assert.deepEqual(
    pick(['--filter', 'image=busybox', '--filter', 'event=destroy']),
    ['ev-a destroy'],
    'image= matches the image of container events',
  );
  const volumeEvent = s.events(['--filter', 'type=volume'])[0]!;
  assert.equal(volumeEvent.Actor.Attributes.driver, 'local');
  assert.equal(volumeEvent.status, undefined, 'no deprecated fields for volume events, as docker');
  const bad = s.skiff(['events', '--until', '0s', '--filter', 'colour=red']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /invalid filter 'colour'/);
  const malformed = s.skiff(['events', '--until', '0s', '--filter', 'container']);
  assert.match(malformed.stderr, /bad format of filter \(expected name=value\)/);
});

test('--format: Go templates over docker events.Message', async (t) => {
  const s = await store(t);
  const id = s.ok(['create', '--name', 'ev-fmt', 'busybox', 'true']);
  const out = s.ok([
    'events',
    '--since',
    '1h',
    '--until',
    '0s',
    '--format',
    '{{.Type}}|{{.Action}}|{{.ID}}|{{.Status}}|{{.From}}|{{.Scope}}|{{.Actor.Attributes.name}}|{{index .Actor.Attributes "image"}}',
  ]);
  assert.equal(out, `container|create|${id}|create|busybox|local|ev-fmt|busybox`);
  const time = s.ok(['events', '--since', '1h', '--until', '0s', '--format', '{{.Time}} {{.TimeNano}}']);
  const [secs, nanos] = time.split(' ').map(Number) as [number, number];
  assert.ok(Math.abs(nanos / 1e9 - secs) < 1, time);
  const bad = s.skiff(['events', '--since', '1h', '--until', '0s', '--format', '{{.Nope}}']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /can't evaluate field Nope in type events.Message/);
});

test('without --until: follows new events until interrupted', async (t) => {
  const s = await store(t);
  const follower = s.spawnSkiff(['events', '--filter', 'container=ev-live', '--format', '{{.Action}}']);
  let out = '';
  follower.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const ended = new Promise((resolve) => follower.once('exit', resolve));
  t.after(() => follower.kill('SIGKILL'));
  s.ok(['create', '--name', 'ev-live', 'busybox', 'true']);
  s.ok(['start', 'ev-live']);
  s.ok(['rm', '-f', 'ev-live']);
  assert.ok(await eventually(() => out.includes('destroy'), 10_000), `followed: ${out}`);
  assert.deepEqual(out.trim().split('\n').slice(0, 1), ['create']);
  assert.ok(out.includes('start'));
  assert.equal(follower.exitCode, null, 'still following');
  // Its reader gone, the next event ends it (docker's CLI dies of SIGPIPE): no poller is left behind.
  follower.stdout!.destroy();
  s.ok(['create', '--name', 'ev-live', 'busybox', 'true']);
  assert.ok(await eventually(() => follower.exitCode !== null, 10_000), 'ended once nobody reads');
  await ended;
});

test('exec: exec_create and exec_start carry the command, exec_die the exit code', async (t) => {
  const s = await store(t);
  s.ok(['run', '-d', '--name', 'ev-exec', 'busybox', 'sleep', '60']);
  const r = s.skiff(['exec', 'ev-exec', 'sh', '-c', 'exit 4']);
  assert.equal(r.status, 4);
  const events = s.events([
    '--filter',
    'container=ev-exec',
    '--filter',
    'event=exec_create',
    '--filter',
    'event=exec_start',
    '--filter',
    'event=exec_die',
  ]);
  assert.deepEqual(actions(events), ['exec_create: sh -c exit 4', 'exec_start: sh -c exit 4', 'exec_die']);
  const execId = events[0]!.Actor.Attributes.execID!;
  assert.match(execId, /^[a-f0-9]{64}$/);
  assert.ok(events.every((e) => e.Actor.Attributes.execID === execId));
  assert.equal(events[2]!.Actor.Attributes.exitCode, '4');
  s.ok(['rm', '-f', 'ev-exec']);
});

test('images: tag, untag, import, delete', async (t) => {
  const s = await store(t);
  const imageId = s.ok(['inspect', '-f', '{{.Id}}', 'busybox']);
  s.ok(['tag', 'busybox', 'ev-copy:v1']);
  s.ok(['rmi', 'ev-copy:v1']);
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-ev-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'hello'), 'hi\n');
  execFileSync('tar', ['-cf', path.join(dir, 'root.tar'), '-C', dir, 'hello']);
  const imported = s.ok(['import', path.join(dir, 'root.tar'), 'ev-imp:1']);
  s.ok(['rmi', 'ev-imp:1']);
  const events = s.events(['--filter', 'type=image']);
  assert.deepEqual(
    events.map((e) => `${e.Action} ${e.Actor.ID} ${e.Actor.Attributes.name}`),
    [
      `tag ${imageId} ev-copy:v1`,
      `untag ${imageId} ${imageId}`,
      `import ${imported} ${imported}`,
      // one untag per reference removed: the tag and the digest reference, as docker
      `untag ${imported} ${imported}`,
      `untag ${imported} ${imported}`,
      `delete ${imported} ${imported}`,
    ],
  );
  assert.deepEqual(actions(s.events(['--filter', 'image=ev-copy:v1'])), ['tag']);
});

test('rename: the new name everywhere, a rename event with the old one; docker refusals', async (t) => {
  const s = await store(t);
  const id = s.ok(['run', '-d', '--name', 'ev-old', 'busybox', 'sleep', '60']);
  s.ok(['create', '--name', 'ev-taken', 'busybox', 'true']);
  assert.equal(s.ok(['rename', 'ev-old', 'ev-new']), '');
  assert.equal(s.ok(['inspect', '-f', '{{.Name}} {{.State.Status}}', id]), '/ev-new running');
  const renamed = s.events(['--filter', 'event=rename']);
  assert.equal(renamed.length, 1);
  assert.equal(renamed[0]!.Actor.Attributes.oldName, '/ev-old');
  assert.equal(renamed[0]!.Actor.Attributes.name, 'ev-new');
  // later events carry the new name
  s.ok(['rm', '-f', 'ev-new']);
  assert.equal(s.events(['--filter', 'event=destroy'])[0]!.Actor.Attributes.name, 'ev-new');

  const taken = s.skiff(['rename', 'ev-taken', 'ev-taken']);
  assert.match(taken.stderr, /Renaming a container with the same name as its current name/);
  const missing = s.skiff(['rename', 'ev-nope', 'ev-other']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /No such container: ev-nope/);
  s.ok(['create', '--name', 'ev-busy', 'busybox', 'true']);
  const conflict = s.skiff(['rename', 'ev-busy', 'ev-taken']);
  assert.match(conflict.stderr, /Conflict\. The container name "\/ev-taken" is already in use/);
  const invalid = s.skiff(['rename', 'ev-busy', 'no spaces']);
  assert.match(invalid.stderr, /Invalid container name/);
});

test('container prune: stopped containers go (filters until and label), running ones stay', async (t) => {
  const s = await store(t);
  const running = s.ok(['run', '-d', '--name', 'ev-running', 'busybox', 'sleep', '60']);
  const exited = s.ok([
    'run',
    '-d',
    '--name',
    'ev-exited',
    '--label',
    'keep=no',
    'busybox',
    'sh',
    '-c',
    'echo x > /file',
  ]);
  s.ok(['wait', 'ev-exited']);
  const kept = s.ok(['create', '--name', 'ev-kept', '--label', 'keep=yes', 'busybox', 'true']);

  const declined = s.skiff(['container', 'prune'], { input: 'n\n' });
  assert.equal(declined.status, 0);
  assert.match(
    declined.stdout,
    /^WARNING! This will remove all stopped containers\.\nAre you sure you want to continue\? \[y\/N\] $/,
  );
  assert.match(s.ok(['ps', '-a', '--format', '{{.Names}}']), /ev-exited/);

  const before = s.ok(['container', 'prune', '-f', '--filter', 'until=1h']);
  assert.equal(before, 'Total reclaimed space: 0B', 'nothing was created an hour ago');

  const pruned = s.ok(['container', 'prune', '-f', '--filter', 'label!=keep=yes']);
  assert.match(
    pruned,
    new RegExp(`^Deleted Containers:\\n${exited}\\n\\nTotal reclaimed space: \\d+(\\.\\d+)?k?B$`),
  );
  const left = s.ok(['ps', '-aq', '--no-trunc']).split('\n').sort();
  assert.deepEqual(left, [running, kept].sort());
  const events = s.events(['--filter', 'event=destroy', '--filter', 'event=prune']);
  assert.deepEqual(
    events.map((e) => e.Action),
    ['prune', 'destroy', 'prune'],
  );
  assert.equal(events[1]!.Actor.ID, exited);
  const bad = s.skiff(['container', 'prune', '-f', '--filter', 'colour=red']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid filter 'colour'/);
});
