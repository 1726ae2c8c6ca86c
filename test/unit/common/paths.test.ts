import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databasePath, runRoot, skiffRoot } from '../../../src/common/index.ts';

test('skiffRoot and runRoot come from SKIFF_ROOT and SKIFF_RUNROOT, with the documented defaults', () => {
  const saved = { root: process.env.SKIFF_ROOT, run: process.env.SKIFF_RUNROOT };
  try {
    delete process.env.SKIFF_ROOT;
    delete process.env.SKIFF_RUNROOT;
    assert.equal(skiffRoot(), '/var/lib/skiff');
    assert.equal(runRoot(), '/run/skiff');
    assert.equal(databasePath(), '/var/lib/skiff/skiff.db');
    process.env.SKIFF_ROOT = '/tmp/r';
    process.env.SKIFF_RUNROOT = '/tmp/run';
    assert.equal(skiffRoot(), '/tmp/r');
    assert.equal(runRoot(), '/tmp/run');
    assert.equal(databasePath(), '/tmp/r/skiff.db');
  } finally {
    for (const [key, value] of [
      ['SKIFF_ROOT', saved.root],
      ['SKIFF_RUNROOT', saved.run],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  }
});
