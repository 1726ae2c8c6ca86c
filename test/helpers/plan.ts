import type { Spec } from '../../src/oci/index.ts';
import { type CompileInput, compilePlan } from '../../src/runtime/plan/index.ts';

/**
 * compilePlan with the inputs a plan test does not look at filled in: no cgroups, every bind source a
 * directory. `more` adds or overrides inputs.
 */
export function compileForTest(spec: Spec, more: Partial<CompileInput> = {}) {
  return compilePlan({
    spec,
    bundle: '/b',
    fifo: '/f',
    preserveFds: 0,
    noPivot: false,
    cgroupProcs: [],
    cgroupViews: [],
    isDirectory: () => true,
    ...more,
  });
}
