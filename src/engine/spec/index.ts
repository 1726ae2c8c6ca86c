export {
  type BuildSpecInput,
  buildSpec,
  DEFAULT_NETWORK_NAME,
  DEFAULT_PATH_ENV,
  defaultHostname,
  INIT_ANNOTATION,
  isNamespacedSysctl,
  mergeTmpfsOptions,
  type NetworkKind,
  networkModeOf,
  networkNameOf,
  processArgs,
  replaceOrAppendEnv,
  type SpecHost,
  validateContainerConfig,
} from './build.ts';
export { hostCapabilities, normalizeCapabilities, tweakCapabilities } from './capabilities.ts';
export { devicesFromMapping, hostDevices } from './devices.ts';
export { type LogOptions, logOptions } from './log-config.ts';
export { type ImageRunConfig, mergeImageConfig } from './merge.ts';
export { ociResources, ociRlimits, rlimitType, validateHostConfig } from './resources.ts';
export {
  type DockerSeccompProfile,
  defaultSeccomp,
  dockerSeccompToOci,
  parseSeccompProfile,
  type SeccompHost,
} from './seccomp.ts';
export { parseSecurityOpts, type SecurityOptions } from './security-opt.ts';
export { parseGroup, parsePasswd, type ResolvedUser, resolveUser, resolveUserFrom } from './user.ts';
export { type DockerDefaults, dockerDefaults } from './vendored.ts';
export { createWorkingDir } from './workdir.ts';
