import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { REPO_ROOT } from '../../helpers/rootfs.ts';

// This file runs in its own process: every container here goes through the ASan/UBSan build.
const ASAN_SHIM = path.join(REPO_ROOT, 'native', 'build', 'skiff-shim-asan');
process.env.SKIFF_SHIM = ASAN_SHIM;
process.env.ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1';
process.env.UBSAN_OPTIONS = 'halt_on_error=1:print_stacktrace=1';

// Build it here too (make keeps it up to date), so that this file also runs on its own.
execFileSync('make', ['-s', '-C', path.join(REPO_ROOT, 'native'), 'asan'], { stdio: 'inherit' });

const { runtime, cleanup } = makeRuntime();
after(cleanup);

test('the shim runs clean under AddressSanitizer and UBSan', async (t) => {
  assert.ok(existsSync(ASAN_SHIM), 'make -C native asan builds the sanitized shim');
  const bundle = makeBundle(['/bin/sh', '-c', 'echo ok; /probe pid'], (spec) => {
    spec.hostname = 'asan';
    spec.linux!.sysctl = { 'kernel.shmmax': '65536' };
    spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^ok\n1 0$/m);
  assert.doesNotMatch(result.stderr, /Sanitizer|runtime error/);
});

test('the sanitized shim reports errors cleanly too', async (t) => {
  const bundle = makeBundle(['/probe', 'pid'], (spec) => {
    spec.mounts!.push({ destination: '/broken', type: 'no-such-fstype', source: 'none' });
  });
  t.after(bundle.cleanup);
  await assert.rejects(runContainer(runtime, bundle), /mount `\/broken`: ENODEV \(No such device\)/);
});
