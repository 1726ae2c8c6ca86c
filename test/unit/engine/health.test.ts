// Health checks' rules (dockerd's daemon/health.go): the probe from Config.Healthcheck, the
// transitions of State.Health, the records per run, and the Go durations the flags use.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { formatGoDuration, parseGoDuration } from '../../../src/common/index.ts';
import { ContainerRecords } from '../../../src/engine/containers/records.ts';
import {
  applyResult,
  healthSuffix,
  probeOf,
  probeOutput,
  probeSchedule,
  startingState,
  validateHealthcheck,
} from '../../../src/engine/health/index.ts';
import {
  type Container,
  type HealthResult,
  type HealthState,
  HealthStore,
  openEngineDb,
} from '../../../src/engine/index.ts';
import { applyChanges } from '../../../src/image/archive/changes.ts';

test('Go durations: parsed and printed as time.ParseDuration and Duration.String', () => {
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('300ms'), 300e6);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('-2s'), -2e9);
  assert.equal(parseGoDuration('10us'), 10e3);
  assert.throws(() => parseGoDuration('soon'), /time: invalid duration "soon"/);
  assert.throws(() => parseGoDuration('5'), /time: invalid duration "5"|missing unit/);
  assert.throws(() => parseGoDuration('5d'), /unknown unit "d"/);
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(200e6), '200ms');
  assert.equal(formatGoDuration(30e9), '30s');
  assert.equal(formatGoDuration(90e9), '1m30s');
  assert.equal(formatGoDuration(3600e9 + 1.5e9), '1h0m1.5s');
  assert.equal(formatGoDuration(1500), '1.5µs');
});

test('the probe: CMD as is, CMD-SHELL through /bin/sh -c (or Shell), NONE and empty tests none', () => {
  assert.deepEqual(probeOf({ Healthcheck: { Test: ['CMD', 'curl', '-f', 'x'] } })?.argv, ['curl', '-f', 'x']);
  assert.deepEqual(probeOf({ Healthcheck: { Test: ['CMD-SHELL', 'test -f /ok'] } })?.argv, [
    '/bin/sh',
    '-c',
    'test -f /ok',
  ]);
  assert.deepEqual(
    probeOf({ Shell: ['/bin/bash', '-ec'], Healthcheck: { Test: ['CMD-SHELL', 'x'] } })?.argv,
    ['/bin/bash', '-ec', 'x'],
  );
  assert.equal(probeOf({ Healthcheck: { Test: ['NONE'] } }), undefined);
  assert.equal(probeOf({ Healthcheck: { Test: [] } }), undefined);
  assert.equal(probeOf({ Healthcheck: { Test: ['HTTP', 'x'] } }), undefined);
  assert.equal(probeOf({}), undefined);
  // dockerd's defaults for what is 0.
  const p = probeOf({ Healthcheck: { Test: ['CMD', 'true'] } })!;
  assert.deepEqual(
    [p.intervalNs, p.timeoutNs, p.startPeriodNs, p.startIntervalNs, p.retries],
    [30e9, 30e9, 0, 5e9, 3],
  );
  assert.deepEqual(probeSchedule(p), { intervalMs: 30_000, startIntervalMs: 5000, startPeriodMs: 0 });
  const q = probeOf({
    Healthcheck: { Test: ['CMD', 'true'], Interval: 1.5e6, StartPeriod: 60e9, Retries: 1 },
  })!;
  assert.deepEqual(probeSchedule(q), { intervalMs: 2, startIntervalMs: 5000, startPeriodMs: 60_000 });
  assert.equal(q.retries, 1);
});

test("the daemon's checks of Healthcheck values", () => {
  validateHealthcheck({ Test: ['CMD', 'true'], Interval: 1e6, Timeout: 0 });
  assert.throws(
    () => validateHealthcheck({ Interval: 999_999 }),
    /Interval in Healthcheck cannot be less than 1ms/,
  );
  assert.throws(() => validateHealthcheck({ StartInterval: 5 }), /StartInterval in Healthcheck/);
  assert.throws(() => validateHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
});

const STARTED = '2026-11-23T10:00:00.000Z';
const at = (seconds: number, exitCode: number): HealthResult => {
  const t = new Date(Date.parse(STARTED) + seconds * 1000).toISOString();
  return { Start: t, End: t, ExitCode: exitCode, Output: '' };
};

test('transitions: starting → unhealthy after the retries → healthy on a success', () => {
  const probe = { retries: 2, startPeriodNs: 0 };
  let s: HealthState = startingState();
  s = applyResult(s, at(1, 1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['starting', 1]);
  s = applyResult(s, at(2, 1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['unhealthy', 2]);
  s = applyResult(s, at(3, 0), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 0]);
  s = applyResult(s, at(4, 1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['healthy', 1], 'healthy until the retries are reached');
  s = applyResult(s, at(5, -1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['unhealthy', 2]);
});

test('transitions: failures within the start period do not count while starting; the log keeps 5', () => {
  const probe = { retries: 1, startPeriodNs: 10e9 };
  let s: HealthState = startingState();
  for (let i = 0; i < 7; i++) s = applyResult(s, at(i, 1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak, s.Log.length], ['starting', 0, 5]);
  assert.equal(s.Log[0]!.Start, at(2, 1).Start, 'oldest first, the oldest dropped');
  s = applyResult(s, at(11, 1), probe, STARTED);
  assert.deepEqual([s.Status, s.FailingStreak], ['unhealthy', 1], 'after the start period they count');
  // Once healthy, a failure within the start period counts (dockerd: only while starting).
  let h = applyResult(startingState(), at(1, 0), probe, STARTED);
  h = applyResult(h, at(2, 1), probe, STARTED);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1]);
});

test('the output: the first 4096 bytes, "..." when there was more; the STATUS suffix', () => {
  assert.equal(probeOutput(Buffer.from('ok\n'), 3), 'ok\n');
  const long = Buffer.alloc(5000, 'a');
  assert.equal(probeOutput(long, 5000), `${'a'.repeat(4096)}...`);
  assert.equal(healthSuffix('starting'), ' (health: starting)');
  assert.equal(healthSuffix('healthy'), ' (healthy)');
  assert.equal(healthSuffix('unhealthy'), ' (unhealthy)');
  assert.equal(healthSuffix(undefined), '');
});

test('records: per run; a new run reads as starting with the log kept; removed with the container', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-health-'));
  const db = openEngineDb(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const records = new ContainerRecords(db);
  const store = new HealthStore(db);
  const c: Container = {
    id: 'a'.repeat(64),
    name: 'web',
    image: 'busybox',
    imageId: 'sha256:x',
    created: STARTED,
    state: 'created',
    oomKilled: false,
    restartCount: 0,
    config: { Healthcheck: { Test: ['CMD', 'true'], Retries: 1 } },
    hostConfig: {},
    mounts: [],
  };
  records.insert(c);
  assert.equal(store.get(c), undefined, 'no State.Health before the first start');
  c.state = 'running';
  c.startedAt = STARTED;
  assert.deepEqual(store.get(c), { Status: 'starting', FailingStreak: 0, Log: [] });
  const probe = probeOf(c.config)!;
  const first = store.record(c, probe, at(1, 1))!;
  assert.equal(first.before.Status, 'starting');
  assert.deepEqual([first.after.Status, first.after.FailingStreak], ['unhealthy', 1]);
  assert.equal(store.get(c)?.Status, 'unhealthy');
  // A restart: the next run has no result yet.
  c.startedAt = '2026-11-23T11:00:00.000Z';
  assert.deepEqual(store.get(c), { Status: 'starting', FailingStreak: 0, Log: [at(1, 1)] });
  assert.equal(store.record(c, probe, at(3601, 0))?.after.Status, 'healthy');
  assert.equal(store.get(c)?.Log.length, 2);
  assert.equal(store.get({ ...c, config: { Healthcheck: { Test: ['NONE'] } } }), undefined);
  records.delete(c.id);
  const left = db.prepare('SELECT COUNT(*) AS n FROM container_health').get() as { n: number };
  assert.equal(left.n, 0);
});

test('import --change HEALTHCHECK: options, exec and shell forms, NONE', () => {
  assert.deepEqual(
    applyChanges({}, [
      'HEALTHCHECK --interval=5s --timeout=1s --start-period=1m --start-interval=2s --retries=4 CMD curl -f x',
    ]).Healthcheck,
    {
      Test: ['CMD-SHELL', 'curl -f x'],
      Interval: 5e9,
      Timeout: 1e9,
      StartPeriod: 60e9,
      StartInterval: 2e9,
      Retries: 4,
    },
  );
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK CMD ["/bin/check", "-q"]']).Healthcheck, {
    Test: ['CMD', '/bin/check', '-q'],
  });
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.throws(() => applyChanges({}, ['HEALTHCHECK --interval=soon CMD true']), /invalid duration "soon"/);
  assert.throws(
    () => applyChanges({}, ['HEALTHCHECK --bogus=1 CMD true']),
    /unknown HEALTHCHECK option --bogus/,
  );
  assert.throws(() => applyChanges({}, ['HEALTHCHECK true']), /HEALTHCHECK takes CMD or NONE/);
});
