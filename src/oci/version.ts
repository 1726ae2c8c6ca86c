/**
 * The version of the OCI Runtime Specification skiff implements: the newest version of the schemas
 * its config validator is generated from (specs/oci-runtime-schema, runtime-spec v1.3.0).
 * Written into the configs `skiff-runtime spec` creates and into the state it reports.
 */
export const OCI_RUNTIME_SPEC_VERSION = '1.3.0';
