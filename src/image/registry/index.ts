/** image/registry: pulling from and pushing to OCI Distribution registries; login. */
export { mergeScopes, parseChallenge, RegistryClient, RegistryError } from './client.ts';
export {
  DEFAULT_CERTS_DIRS,
  DEFAULT_REGISTRIES_CONFIG,
  parseRegistriesConfig,
  type RegistriesConfig,
  registriesConfig,
  registriesConfigPath,
} from './config.ts';
export {
  type Credentials,
  credentialHelperFor,
  credentialsFor,
  dockerConfigPath,
  readDockerConfig,
} from './credentials.ts';
export { type Endpoint, endpointFor, isLoopback, mirrorsFor } from './endpoint.ts';
export {
  authKey,
  checkLogin,
  DOCKER_HUB_KEY,
  loginDomain,
  removeLogin,
  saveLogin,
} from './login.ts';
export {
  humanSize,
  jsonMessageLine,
  type ProgressMode,
  PullProgressWriter,
  progressString,
} from './progress.ts';
export {
  type PullOptions,
  type PullResult,
  type PullStatus,
  pullImage,
  pullStatusLine,
  pullSummaryLines,
} from './pull.ts';
export {
  type PushOptions,
  type PushResult,
  pushHeaderLine,
  pushImage,
  pushSummaryLine,
} from './push.ts';
export {
  backoffMs,
  isTransientNetworkError,
  parseRetryAfter,
  Retrier,
  type RetryPolicy,
  retryableStatus,
  retryPolicy,
} from './retry.ts';
export { fromFirstSource } from './sources.ts';
export { type ListTagsOptions, listTags, listTagsAt, nextPage } from './tags.ts';
export { certsFilesFor, dispatcherFor } from './transport.ts';
export { chunkSettings } from './upload.ts';
