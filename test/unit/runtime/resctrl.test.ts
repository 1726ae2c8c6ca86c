import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planIntelRdt, schemataMatch } from '../../../src/runtime/resctrl.ts';

test('intelRdt: the group is closID, else the container id; the lines are L3, MB, then schemata', () => {
  assert.deepEqual(
    planIntelRdt({ closID: 'gold', l3CacheSchema: 'L3:0=ff;1=ff', memBwSchema: 'MB:0=50' }, 'c1'),
    {
      group: 'gold',
      lines: ['L3:0=ff;1=ff', 'MB:0=50'],
    },
  );
  assert.deepEqual(planIntelRdt({ schemata: ['L3CODE:0=f', 'L3DATA:0=f0'] }, 'c1'), {
    group: 'c1',
    lines: ['L3CODE:0=f', 'L3DATA:0=f0'],
  });
});

test('intelRdt: bad group names, malformed lines and monitoring are refused naming the field', () => {
  assert.throws(() => planIntelRdt({ closID: '../x' }, 'c'), /linux\.intelRdt\.closID "\.\.\/x"/);
  assert.throws(() => planIntelRdt({ closID: 'info' }, 'c'), /not a usable resctrl group name/);
  assert.throws(() => planIntelRdt({ l3CacheSchema: 'nonsense' }, 'c'), /schemata line "nonsense"/);
  assert.throws(() => planIntelRdt({ enableMonitoring: true }, 'c'), /enableMonitoring/);
});

test('an existing group matches when it already holds every line, spaces aside', () => {
  const current = 'MB:0=  50;1=100\n    L3:0=ff;1=ff\n';
  assert.ok(schemataMatch(current, ['L3:0=ff;1=ff', 'MB:0=50;1=100']));
  assert.ok(!schemataMatch(current, ['L3:0=f;1=ff']));
});
