// Global options stop at the command word; their values and the environment give the roots.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../../src/cli/command.ts';
import { parseFlags } from '../../../src/cli/flags.ts';
import { GLOBAL_FLAGS, globalsFrom, splitGlobals } from '../../../src/cli/globals.ts';

test('global options end at the first word that is not one of theirs', () => {
  assert.deepEqual(splitGlobals(['--root', '/r', 'images', '--root', 'x']), {
    globalArgs: ['--root', '/r'],
    rest: ['images', '--root', 'x'],
  });
  assert.deepEqual(splitGlobals(['--root=/r', '-D', '-l', 'warn', 'image', 'ls', '-q']), {
    globalArgs: ['--root=/r', '-D', '-l', 'warn'],
    rest: ['image', 'ls', '-q'],
  });
  assert.deepEqual(splitGlobals(['-lerror', 'rmi', 'x']), { globalArgs: ['-lerror'], rest: ['rmi', 'x'] });
  assert.deepEqual(splitGlobals(['--version']), { globalArgs: ['--version'], rest: [] });
});

test('roots come from the flags, else $SKIFF_ROOT / $SKIFF_RUNROOT, else the defaults', (t) => {
  const saved = { root: process.env.SKIFF_ROOT, runroot: process.env.SKIFF_RUNROOT };
  t.after(() => {
    for (const [k, v] of [
      ['SKIFF_ROOT', saved.root],
      ['SKIFF_RUNROOT', saved.runroot],
    ] as const)
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  delete process.env.SKIFF_ROOT;
  delete process.env.SKIFF_RUNROOT;
  assert.deepEqual(globalsFrom({}), { root: '/var/lib/skiff', runroot: '/run/skiff', logLevel: 'info' });
  process.env.SKIFF_ROOT = '/env/root';
  process.env.SKIFF_RUNROOT = '/env/run';
  assert.deepEqual(globalsFrom({}), { root: '/env/root', runroot: '/env/run', logLevel: 'info' });
  const { flags } = parseFlags(GLOBAL_FLAGS, ['--root', '/flag', '-D']);
  assert.deepEqual(globalsFrom(flags), { root: '/flag', runroot: '/env/run', logLevel: 'debug' });
  assert.throws(
    () => globalsFrom({ 'log-level': 'loud' }),
    (err: unknown) =>
      err instanceof StatusError &&
      err.status === 125 &&
      err.message === 'Unable to parse logging level: loud',
  );
});
