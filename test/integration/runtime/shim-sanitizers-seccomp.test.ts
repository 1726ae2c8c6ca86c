import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { dockerSeccompToOci } from '../../../src/engine/index.ts';
import { makeBundle, makeRuntime, runContainer } from '../../helpers/bundle.ts';
import { REPO_ROOT, tempDir } from '../../helpers/rootfs.ts';

// As shim-sanitizers.test.ts, for seccomp-cache.c: a compiled filter written to the cache, read
// back, and a corrupt entry replaced, all through the ASan/UBSan build, LeakSanitizer included (the
// shim's parent frees the compiled programs before it returns from main).
const reports = tempDir('skiff-asan-reports-');
process.env.SKIFF_SHIM = path.join(REPO_ROOT, 'native', 'build', 'skiff-shim-asan');
process.env.ASAN_OPTIONS = `detect_leaks=1:abort_on_error=1:log_path=${reports.dir}/asan`;
process.env.UBSAN_OPTIONS = `halt_on_error=1:print_stacktrace=1:log_path=${reports.dir}/ubsan`;
execFileSync('make', ['-s', '-C', path.join(REPO_ROOT, 'native'), 'asan'], { stdio: 'inherit' });

const { runtime, root, cleanup } = makeRuntime();
after(() => {
  cleanup();
  reports.cleanup();
});

const sanitizerReports = () =>
  readdirSync(reports.dir)
    .map((f) => readFileSync(path.join(reports.dir, f), 'utf8'))
    .join('\n');

test("Docker's profile compiled, cached, read back and replaced runs clean under the sanitizers", async (t) => {
  const bundle = makeBundle(['/bin/sh', '-c', '/probe syscall keyctl; /probe syscall unshare'], (spec) => {
    const profile = JSON.parse(readFileSync(path.join(REPO_ROOT, 'specs', 'seccomp-default.json'), 'utf8'));
    spec.linux!.seccomp = dockerSeccompToOci(profile, { bounding: spec.process!.capabilities!.bounding! });
  });
  t.after(bundle.cleanup);
  const cache = path.join(root, '.seccomp-cache');
  for (const run of ['compiled', 'cached', 'corrupt']) {
    if (run === 'corrupt') {
      const [file] = readdirSync(cache);
      writeFileSync(path.join(cache, file!), readFileSync(path.join(cache, file!)).subarray(0, 100));
    }
    const result = await runContainer(runtime, bundle);
    assert.equal(result.status, 0, `${run}: ${result.stderr}`);
    assert.equal(result.stdout, 'EPERM\nEPERM\n', run);
    assert.equal(readdirSync(cache).length, 1, run);
  }
  assert.equal(sanitizerReports(), '');
});
