import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { REPO_ROOT } from '../../helpers/rootfs.ts';

// As shim-sanitizers.test.ts: this file runs every container through the ASan/UBSan build, here for
// the records of hooks.c and sched.c.
process.env.SKIFF_SHIM = path.join(REPO_ROOT, 'native', 'build', 'skiff-shim-asan');
process.env.ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1';
process.env.UBSAN_OPTIONS = 'halt_on_error=1:print_stacktrace=1';
execFileSync('make', ['-s', '-C', path.join(REPO_ROOT, 'native'), 'asan'], { stdio: 'inherit' });

const { runtime, cleanup } = makeRuntime();
after(cleanup);

test('hooks, ioprio, sched and personality run clean under the sanitizers', async (t) => {
  const bundle = makeBundle(['/probe', 'sched'], (spec) => {
    spec.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 3 };
    spec.process!.scheduler = { policy: 'SCHED_BATCH', nice: 2 };
    spec.linux!.personality = { domain: 'LINUX' };
    spec.hooks = {
      createRuntime: [{ path: '/bin/true' }],
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat >/dev/null'], env: ['A=1'], timeout: 5 }],
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat >/dev/null'] }],
    };
  });
  t.after(bundle.cleanup);
  const result = await runContainer(runtime, bundle);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /ioprio_class=2 ioprio_level=3 policy=3 priority=0 nice=2 personality=0/);
  assert.doesNotMatch(result.stderr, /Sanitizer|runtime error/);
});

test('a hook timeout under the sanitizers fails cleanly', async (t) => {
  const bundle = makeBundle(['/probe', 'pid'], (spec) => {
    spec.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] };
  });
  t.after(bundle.cleanup);
  await assert.rejects(
    runContainer(runtime, bundle),
    /createContainer hook did not finish within its timeout of 1 s/,
  );
});
