// Health checks through bin/skiff: the --health-* flags and the image's HEALTHCHECK, run by the
// container's monitor on its timer (`container healthcheck`), the status in ps and inspect, the
// health filter, and the health_status events in the engine's event log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../src/engine/index.ts';
import { type EngineEnv, engineEnv, importBusybox } from '../helpers/engine.ts';
import { eventually, processesMentioning } from '../helpers/host.ts';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

function health(s: EngineEnv, ref: string): Health | undefined {
  const state = JSON.parse(s.ok(['inspect', '-f', '{{json .State}}', ref])) as { Health?: Health };
  return state.Health;
}

const status = (s: EngineEnv, ref: string) =>
  s.ok(['ps', '-a', '--filter', `name=^${ref}$`, '--format', '{{.Status}}']);

/** The health_status events of container `id`, from the engine's event log. */
async function healthEvents(
  s: EngineEnv,
  id: string,
): Promise<{ action: string; attributes: Record<string, string> }[]> {
  const engine = await Engine.open({ root: s.root, runroot: s.runroot });
  try {
    return engine.events
      .list()
      .filter((e) => e.event.Actor.ID === id && e.event.Action.startsWith('health_status'))
      .map((e) => ({ action: e.event.Action, attributes: e.event.Actor.Attributes }));
  } finally {
    engine.close();
  }
}

test('health: starting, then unhealthy after the retries, then healthy once the check passes', async (t) => {
  const s = await engineEnv(t);
  const id = s.ok([
    'run',
    '-d',
    '--name',
    'web',
    '--label',
    'tier=front',
    '--health-cmd',
    'echo checking; test -f /tmp/ok',
    '--health-interval',
    '300ms',
    '--health-retries',
    '2',
    'busybox',
    'sleep',
    '300',
  ]);
  assert.match(status(s, 'web'), /^Up .* \(health: starting\)$/);
  const config = JSON.parse(s.ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'web']));
  assert.deepEqual(config, {
    Test: ['CMD-SHELL', 'echo checking; test -f /tmp/ok'],
    Interval: 300_000_000,
    Timeout: 0,
    StartPeriod: 0,
    StartInterval: 0,
    Retries: 2,
  });

  assert.ok(await eventually(() => health(s, 'web')?.Status === 'unhealthy', 20_000), 'unhealthy');
  const sick = health(s, 'web')!;
  assert.ok(sick.FailingStreak >= 2, `streak ${sick.FailingStreak}`);
  assert.equal(sick.Log.at(-1)!.ExitCode, 1);
  assert.equal(sick.Log.at(-1)!.Output, 'checking\n');
  assert.match(status(s, 'web'), /^Up .* \(unhealthy\)$/);
  assert.equal(s.ok(['ps', '-q', '--filter', 'health=unhealthy']), id.slice(0, 12));
  assert.equal(s.ok(['ps', '-q', '--filter', 'health=healthy']), '');

  s.ok(['exec', 'web', 'touch', '/tmp/ok']);
  assert.ok(await eventually(() => health(s, 'web')?.Status === 'healthy', 20_000), 'healthy');
  const well = health(s, 'web')!;
  assert.equal(well.FailingStreak, 0);
  assert.equal(well.Log.at(-1)!.ExitCode, 0);
  assert.ok(well.Log.length <= 5, 'at most the last 5 results are kept');
  for (const r of well.Log) assert.ok(Date.parse(r.Start) <= Date.parse(r.End));
  assert.match(status(s, 'web'), /^Up .* \(healthy\)$/);
  assert.equal(s.ok(['ps', '-q', '--filter', 'health=healthy']), id.slice(0, 12));

  // dockerd logs health_status on every change of status, with the container's labels, image and name.
  const events = await healthEvents(s, id);
  assert.deepEqual(
    events.map((e) => e.action),
    ['health_status: unhealthy', 'health_status: healthy'],
  );
  assert.deepEqual(events[0]!.attributes, { tier: 'front', image: 'busybox', name: 'web' });

  // A stopped container keeps its last health in inspect, and ps shows none.
  s.ok(['stop', '-t', '0', 'web']);
  assert.equal(health(s, 'web')?.Status, 'healthy');
  assert.match(status(s, 'web'), /^Exited \(137\)/);
  const r = s.skiff(['ps', '--filter', 'health=bogus']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Unrecognised filter value for health: bogus/);
});

test('health: a check that outlives its timeout is killed and counts as a failure', async (t) => {
  const s = await engineEnv(t);
  s.ok([
    'run',
    '-d',
    '--name',
    'slow',
    '--health-cmd',
    'echo begun; sleep 31',
    '--health-timeout',
    '200ms',
    '--health-interval',
    '200ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '300',
  ]);
  assert.ok(await eventually(() => health(s, 'slow')?.Status === 'unhealthy', 20_000), 'unhealthy');
  const result = health(s, 'slow')!.Log[0]!;
  assert.equal(result.ExitCode, -1);
  assert.equal(result.Output, 'Health check exceeded timeout (200ms): begun\n');
  assert.ok(Date.parse(result.End) - Date.parse(result.Start) < 10_000, 'killed, not waited for');
  // Killed at its timeout: at most the check in progress is there, never the earlier ones.
  const sleeps = s
    .ok(['exec', 'slow', 'ps', '-o', 'args'])
    .split('\n')
    .filter((l) => l.includes('sleep 31'));
  assert.ok(sleeps.length <= 1, `the timed-out checks do not live on in the container: ${sleeps.join(', ')}`);
});

test('health: failures within the start period do not count', async (t) => {
  const s = await engineEnv(t);
  s.ok([
    'run',
    '-d',
    '--name',
    'warming',
    '--health-cmd',
    'false',
    '--health-interval',
    '200ms',
    '--health-start-period',
    '1h',
    '--health-start-interval',
    '100ms',
    '--health-retries',
    '1',
    'busybox',
    'sleep',
    '300',
  ]);
  assert.ok(await eventually(() => (health(s, 'warming')?.Log.length ?? 0) >= 3, 20_000), 'checks ran');
  const h = health(s, 'warming')!;
  assert.equal(h.Status, 'starting');
  assert.equal(h.FailingStreak, 0);
  assert.deepEqual(await healthEvents(s, s.ok(['inspect', '-f', '{{.Id}}', 'warming'])), []);
});

test("health: the image's HEALTHCHECK is honoured, flags override parts of it, --no-healthcheck disables it", async (t) => {
  const s = await engineEnv(t);
  await importBusybox(s.root, 'checked:latest', [
    'HEALTHCHECK --interval=250ms --retries=1 CMD ["/bin/sh", "-c", "test -f /etc/passwd"]',
  ]);
  const image = JSON.parse(s.ok(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'checked']));
  assert.deepEqual(image, {
    Test: ['CMD', '/bin/sh', '-c', 'test -f /etc/passwd'],
    Interval: 250_000_000,
    Retries: 1,
  });

  s.ok(['run', '-d', '--name', 'fromimage', 'checked', 'sleep', '300']);
  assert.ok(await eventually(() => health(s, 'fromimage')?.Status === 'healthy', 20_000), 'healthy');

  // --health-cmd replaces the image's test; its interval and retries stay.
  s.ok(['run', '-d', '--name', 'overridden', '--health-cmd', 'exit 3', 'checked', 'sleep', '300']);
  const config = JSON.parse(s.ok(['inspect', '-f', '{{json .Config.Healthcheck}}', 'overridden']));
  assert.deepEqual(config.Test, ['CMD-SHELL', 'exit 3']);
  assert.equal(config.Interval, 250_000_000);
  assert.ok(await eventually(() => health(s, 'overridden')?.Status === 'unhealthy', 20_000), 'unhealthy');
  assert.equal(health(s, 'overridden')!.Log[0]!.ExitCode, 3);

  s.ok(['run', '-d', '--name', 'unchecked', '--no-healthcheck', 'checked', 'sleep', '300']);
  // As dockerd's merge: the image's other values stay under the user's NONE.
  assert.deepEqual(JSON.parse(s.ok(['inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'unchecked'])), [
    'NONE',
  ]);
  assert.equal(health(s, 'unchecked'), undefined, 'no State.Health');
  assert.match(status(s, 'unchecked'), /^Up [^(]*$/);
  assert.equal(s.ok(['ps', '-q', '--filter', 'health=none', '--filter', 'name=unchecked']).length, 12);
  // No timer for it: no healthcheck process is ever started.
  const id = s.ok(['inspect', '-f', '{{.Id}}', 'unchecked']);
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.deepEqual(processesMentioning(`healthcheck ${id}`), []);
  assert.equal(s.skiff(['run', '--no-healthcheck', '--health-retries', '2', 'checked', 'true']).status, 125);
});

test('health: bad flag values are refused as docker refuses them', async (t) => {
  const s = await engineEnv(t);
  let r = s.skiff(['create', '--health-interval', 'soon', 'busybox']);
  assert.equal(r.status, 125);
  assert.match(
    r.stderr,
    /invalid argument "soon" for "--health-interval" flag: time: invalid duration "soon"/,
  );
  r = s.skiff(['create', '--health-timeout', '-1s', '--health-cmd', 'true', 'busybox']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /--health-timeout cannot be negative/);
  r = s.skiff(['create', '--health-interval', '10us', '--health-cmd', 'true', 'busybox']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Interval in Healthcheck cannot be less than 1ms/);
  r = s.skiff(['create', '--no-healthcheck', '--health-cmd', 'true', 'busybox']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /--no-healthcheck conflicts with --health-\* options/);
});
