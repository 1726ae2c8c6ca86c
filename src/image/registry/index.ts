/** image/registry: pulling from OCI Distribution registries. */
export { parseChallenge, RegistryClient, RegistryError } from './client.ts';
export { type Credentials, credentialsFor, dockerConfigPath } from './credentials.ts';
export { type Endpoint, endpointFor, isLoopback } from './endpoint.ts';
export {
  type PullOptions,
  type PullResult,
  type PullStatus,
  pullImage,
  pullStatusLine,
  pullSummaryLines,
} from './pull.ts';
