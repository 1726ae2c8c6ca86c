import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../../src/oci/index.ts';
import { encodePlan, INIT_ANNOTATION } from '../../../../src/runtime/plan/index.ts';
import { compileForTest } from '../../../helpers/plan.ts';

function spec(annotations?: Record<string, string>): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'] },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    ...(annotations ? { annotations } : {}),
  };
}

const compile = (s: Spec) => compileForTest(s);

test('run.skiff.init=true puts a `reaper` right before `exec`', () => {
  const plan = compile(spec({ [INIT_ANNOTATION]: 'true' }));
  const names = plan.steps.map((s) => s.op);
  assert.equal(names.at(-1), 'exec');
  assert.equal(names.at(-2), 'reaper');
  assert.equal(names.filter((n) => n === 'reaper').length, 1);
  assert.ok(
    encodePlan(plan)
      .toString()
      .endsWith(['reaper', '0', 'exec', '3', '/bin/sh', '-c', 'true', ''].join('\0')),
  );
});

test('no reaper without the annotation, or with another value', () => {
  for (const s of [spec(), spec({ [INIT_ANNOTATION]: 'false' }), spec({ other: 'true' })]) {
    assert.equal(
      compile(s).steps.some((step) => step.op === 'reaper'),
      false,
    );
  }
});
