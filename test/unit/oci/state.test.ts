import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../src/common/index.ts';
import { validateState } from '../../../src/oci/generated/validate-state.js';
import { OCI_RUNTIME_SPEC_VERSION, ociState } from '../../../src/oci/index.ts';

test("a running container: the spec's fields in the spec's order, valid under state-schema.json", () => {
  const state = ociState({
    id: 'c1',
    status: 'running',
    pid: 4242,
    bundle: '/var/lib/skiff/containers/c1',
    annotations: { 'org.example/a': 'b' },
  });
  assert.equal(
    JSON.stringify(state),
    JSON.stringify({
      ociVersion: OCI_RUNTIME_SPEC_VERSION,
      id: 'c1',
      status: 'running',
      pid: 4242,
      bundle: '/var/lib/skiff/containers/c1',
      annotations: { 'org.example/a': 'b' },
    }),
  );
  assert.ok(validateState(state), JSON.stringify(validateState.errors));
});

test('a stopped container needs no pid; optional fields are left out', () => {
  const state = ociState({ id: 'c1', status: 'stopped', bundle: '/b' });
  assert.deepEqual(Object.keys(state), ['ociVersion', 'id', 'status', 'bundle']);
  assert.ok(validateState(state));
});

test('refuses what the spec forbids', () => {
  const refused = (f: () => unknown, message: RegExp) =>
    assert.throws(
      f,
      (err: unknown) =>
        err instanceof SkiffError && err.kind === 'InvalidArgument' && message.test(err.message),
    );
  refused(
    () => ociState({ id: 'c1', status: 'created', bundle: '/b' }),
    /a created container must have the pid/,
  );
  refused(() => ociState({ id: 'c1', status: 'running', pid: 0, bundle: '/b' }), /must have the pid/);
  refused(
    () => ociState({ id: 'c1', status: 'running', pid: 1, bundle: 'b' }),
    /bundle "b" must be an absolute path/,
  );
  refused(() => ociState({ id: '', status: 'stopped', bundle: '/b' }), /id must not be empty/);
});
