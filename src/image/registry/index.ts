/** image/registry: pulling from and pushing to OCI Distribution registries; login. */
export { parseChallenge, RegistryClient, RegistryError } from './client.ts';
export { type Credentials, credentialsFor, dockerConfigPath } from './credentials.ts';
export { type Endpoint, endpointFor, isLoopback } from './endpoint.ts';
export {
  authKey,
  checkLogin,
  DOCKER_HUB_KEY,
  loginDomain,
  removeLogin,
  saveLogin,
} from './login.ts';
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
export { chunkSettings } from './upload.ts';
