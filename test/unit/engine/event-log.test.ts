import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { EventLog, MAX_EVENTS, openEngineDb } from '../../../src/engine/index.ts';

function tempLog(t: { after: (fn: () => void) => void }): EventLog {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-events-'));
  const db = openEngineDb(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new EventLog(db);
}

test('events are recorded in Docker shape and listed in order', (t) => {
  const log = tempLog(t);
  const before = BigInt(Date.now()) * 1_000_000n;
  log.emit('container', 'create', 'abc', { image: 'busybox', name: 'x' });
  log.emit('container', 'die', 'abc', { exitCode: '3' });
  const events = log.list();
  assert.deepEqual(
    events.map((e) => [e.event.Type, e.event.Action, e.event.Actor.ID]),
    [
      ['container', 'create', 'abc'],
      ['container', 'die', 'abc'],
    ],
  );
  assert.equal(events[1]!.event.Actor.Attributes.exitCode, '3');
  assert.equal(events[0]!.event.scope, 'local');
  assert.ok(events[0]!.timeNanoExact >= before);
  assert.equal(events[0]!.event.time, Number(events[0]!.timeNanoExact / 1_000_000_000n));
  assert.ok(events[1]!.seq > events[0]!.seq);
});

test('since, until and afterSeq select events', (t) => {
  const log = tempLog(t);
  log.emit('volume', 'create', 'v1');
  const [first] = log.list();
  log.emit('volume', 'destroy', 'v1');
  const all = log.list();
  assert.equal(all.length, 2);
  assert.deepEqual(
    log.list({ afterSeq: first!.seq }).map((e) => e.event.Action),
    ['destroy'],
  );
  assert.deepEqual(
    log.list({ since: all[1]!.timeNanoExact }).map((e) => e.event.Action),
    ['destroy'],
  );
  assert.deepEqual(
    log.list({ until: first!.timeNanoExact }).map((e) => e.event.Action),
    ['create'],
  );
  assert.equal(log.lastSeq(), all[1]!.seq);
});

test('the log is bounded: the oldest events are dropped', (t) => {
  const log = tempLog(t);
  for (let i = 0; i < MAX_EVENTS + 250; i++) log.emit('image', 'tag', `i${i}`);
  const events = log.list();
  // Pruned every 100 events: between MAX_EVENTS and MAX_EVENTS + 100 are kept.
  assert.ok(events.length <= MAX_EVENTS + 100, `${events.length} events kept`);
  assert.ok(events.length >= MAX_EVENTS);
  assert.equal(events.at(-1)!.event.Actor.ID, `i${MAX_EVENTS + 249}`);
});
