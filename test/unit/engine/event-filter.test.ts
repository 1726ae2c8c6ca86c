// Docker's event filters (src/engine/events/filter.ts) and the CLI's rendering of an event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventLine, parseEventTime } from '../../../src/cli/commands/system/events.ts';
import { containerEventAttributes, type EngineEvent, parseEventFilters } from '../../../src/engine/index.ts';

function event(
  Type: EngineEvent['Type'],
  Action: string,
  ID: string,
  Attributes: Record<string, string>,
): EngineEvent {
  return { Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 1, timeNano: 1e9 };
}

const create = event('container', 'create', 'abcdef0123', {
  image: 'busybox:latest',
  name: 'web',
  tier: 'front',
});
const die = event('container', 'die', 'fedcba9876', { image: 'alpine', name: 'db', exitCode: '1' });
const exec = event('container', 'exec_start: sh -c true', 'abcdef0123', { image: 'busybox', name: 'web' });
const volume = event('volume', 'create', 'data', { driver: 'local' });
const tag = event('image', 'tag', 'sha256:1234', { name: 'busybox:v1' });
const all = [create, die, exec, volume, tag];
const pick = (filters: string[]) => all.filter(parseEventFilters(filters));

test('values of one key OR, keys AND', () => {
  assert.deepEqual(pick(['container=web', 'container=db']), [create, die, exec]);
  assert.deepEqual(pick(['container=web', 'event=create']), [create]);
  assert.deepEqual(pick(['type=volume', 'type=image']), [volume, tag]);
  assert.deepEqual(pick([]), all);
});

test('container by name or ID prefix; volume by name; only events of that type', () => {
  assert.deepEqual(pick(['container=fedc']), [die]);
  assert.deepEqual(pick(['volume=data']), [volume]);
  assert.deepEqual(pick(['container=data']), []);
});

test('event: exact, except docker prefix-matches exec_create, exec_start and health_status', () => {
  assert.deepEqual(pick(['event=exec_start']), [exec]);
  assert.deepEqual(pick(['event=exec_start: sh -c true']), [exec]);
  assert.deepEqual(pick(['event=cre']), []);
});

test('image: the image of container events, the name or ID of image events, with or without tag', () => {
  assert.deepEqual(pick(['image=busybox']), [create, exec, tag]);
  assert.deepEqual(pick(['image=busybox:v1']), [tag]);
  assert.deepEqual(pick(['image=sha256:1234']), [tag]);
});

test('label: every label filter must match the attributes (as moby)', () => {
  assert.deepEqual(pick(['label=tier']), [create]);
  assert.deepEqual(pick(['label=tier=front', 'label=name=web']), [create]);
  assert.deepEqual(pick(['label=tier=front', 'label=name=db']), []);
});

test('bad filters are refused with docker words', () => {
  assert.throws(() => parseEventFilters(['colour=red']), /invalid filter 'colour'/);
  assert.throws(() => parseEventFilters(['container']), /bad format of filter \(expected name=value\)/);
});

test('container attributes: the event own, labels over them, then image and name', () => {
  const c = { name: 'web', image: 'busybox', config: { Labels: { exitCode: 'label', name: 'label' } } };
  assert.deepEqual(containerEventAttributes(c, { exitCode: '3', signal: '9' }), {
    exitCode: 'label',
    signal: '9',
    image: 'busybox',
    name: 'web',
  });
  assert.deepEqual(containerEventAttributes({ name: 'x', image: '', config: {} }), { name: 'x' });
});

test('--since/--until values: Unix seconds exact to the nanosecond, RFC 3339, durations', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  assert.equal(parseEventTime('1795000000.123456789', now), 1795000000123456789n);
  assert.equal(parseEventTime('1795000000', now), 1795000000000000000n);
  assert.equal(
    parseEventTime('2026-11-23T11:00:00.000000001Z', now),
    BigInt(Date.parse('2026-11-23T11:00:00Z')) * 1_000_000n + 1n,
  );
  assert.equal(parseEventTime('10m', now), BigInt(now.getTime() - 600_000) * 1_000_000n);
  assert.equal(parseEventTime('1h30m', now), BigInt(now.getTime() - 5_400_000) * 1_000_000n);
  assert.throws(() => parseEventTime('soon', now), /failed to parse value as time or duration/);
});

test('the default line: time, type, action, ID, sorted attributes', () => {
  const ns = BigInt(Date.parse('2026-11-23T17:10:00Z')) * 1_000_000n + 123456789n;
  const line = eventLine(create, ns);
  assert.match(line, /^\S+ container create abcdef0123 \(image=busybox:latest, name=web, tier=front\)\n$/);
  if (new Date().getTimezoneOffset() === 0) assert.ok(line.startsWith('2026-11-23T17:10:00.123456789Z '));
  assert.equal(
    eventLine(event('volume', 'prune', '', {}), ns)
      .split(' ')
      .slice(1)
      .join(' '),
    'volume prune \n',
  );
});
