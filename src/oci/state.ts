/** The state of a container as the OCI runtime spec defines it (state-schema.json). */
import { isAbsolute } from 'node:path';
import { invalidArgument } from '../common/index.ts';
import type { ContainerStatus, State } from './runtime-spec.ts';
import { OCI_RUNTIME_SPEC_VERSION } from './version.ts';

export interface OciStateInput {
  id: string;
  status: ContainerStatus;
  /** The container process's pid on the host; required while the container is created or running. */
  pid?: number;
  /** The absolute path of the bundle directory. */
  bundle: string;
  annotations?: Record<string, string>;
}

/**
 * Builds the state object that `state` prints, in the spec's key order. Refuses what the spec forbids:
 * a relative bundle path, a missing pid while the container has a process.
 */
export function ociState(input: OciStateInput): State {
  if (input.id === '') throw invalidArgument('OCI state: the container id must not be empty');
  if (!isAbsolute(input.bundle)) {
    throw invalidArgument(
      `OCI state of ${input.id}: bundle ${JSON.stringify(input.bundle)} must be an absolute path`,
    );
  }
  const needsPid = input.status === 'created' || input.status === 'running';
  if (needsPid && !(input.pid !== undefined && Number.isInteger(input.pid) && input.pid > 0)) {
    throw invalidArgument(
      `OCI state of ${input.id}: a ${input.status} container must have the pid of its process, got ${input.pid}`,
    );
  }
  return {
    ociVersion: OCI_RUNTIME_SPEC_VERSION,
    id: input.id,
    status: input.status,
    ...(input.pid !== undefined ? { pid: input.pid } : {}),
    bundle: input.bundle,
    ...(input.annotations !== undefined ? { annotations: { ...input.annotations } } : {}),
  };
}
