import type { Spec } from '../../oci/index.ts';
import type { PlanSetup } from './types.ts';

/**
 * The `seccomp-cache` record: the shim keeps each compiled filter there (libseccomp needs ~18 ms for
 * Docker's profile; a cached program loads at once). Only a plan with a filter names the directory.
 */
export function seccompCacheSetup(spec: Spec, dir: string | undefined): Pick<PlanSetup, 'seccompCache'> {
  return dir !== undefined && spec.linux?.seccomp ? { seccompCache: dir } : {};
}
