import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import { compileExecPlan, encodePlan } from '../../../../src/runtime/plan/index.ts';
import { compileForTest } from '../../../helpers/plan.ts';

function spec(withFilter: boolean): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['/bin/true'], env: ['PATH=/bin'] },
    linux: {
      namespaces: [{ type: 'mount' }],
      ...(withFilter
        ? {
            seccomp: {
              defaultAction: 'SCMP_ACT_ALLOW',
              syscalls: [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }],
            },
          }
        : {}),
    },
  };
}

const create = (s: Spec, seccompCache?: string) => compileForTest(s, { seccompCache });

const exec = (s: Spec, seccompCache?: string) =>
  compileExecPlan({
    spec: s,
    process: s.process!,
    initPid: 1,
    cgroupProcs: [],
    preserveFds: 0,
    seccompCache,
  });

test('seccomp-cache: named in create and exec plans that have a filter, as a set-up record', () => {
  for (const plan of [
    create(spec(true), '/run/skiff/.seccomp-cache'),
    exec(spec(true), '/run/skiff/.seccomp-cache'),
  ]) {
    assert.equal(plan.setup.seccompCache, '/run/skiff/.seccomp-cache');
    const text = encodePlan(plan).toString();
    assert.ok(text.includes('\0seccomp-cache\x001\0/run/skiff/.seccomp-cache\0'), text);
    // A set-up record: before the first step.
    assert.ok(text.indexOf('seccomp-cache') < text.indexOf('\0seccomp\0'));
  }
});

test('seccomp-cache: left out without a filter or without a directory', () => {
  for (const plan of [
    create(spec(false), '/run/skiff/.seccomp-cache'),
    exec(spec(false), '/run/skiff/.seccomp-cache'),
    create(spec(true)),
    exec(spec(true)),
  ]) {
    assert.equal('seccompCache' in plan.setup, false);
    assert.ok(!encodePlan(plan).toString().includes('seccomp-cache'));
  }
});
