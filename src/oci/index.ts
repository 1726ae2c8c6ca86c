export type { ConfigIssue } from './config-issue.ts';
export { type DefaultSpecOptions, defaultSpec } from './default-spec.ts';
export type * from './runtime-spec.ts';
export { RLIMIT_TYPES } from './semantics.ts';
export { type OciStateInput, ociState } from './state.ts';
export { checkSpec, parseSpec, validateSpec } from './validate.ts';
export { OCI_RUNTIME_SPEC_VERSION } from './version.ts';
