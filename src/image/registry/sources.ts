/**
 * Where a pull reads from: each mirror the registries config names for the reference's registry, in
 * order, then the registry itself (docker's registry-mirrors, podman's mirrors). The first place
 * that answers serves the whole pull; a mirror that fails in any way (down, refusing, lacking the
 * image, serving bytes that do not verify) is passed over. Content is verified by digest wherever
 * it comes from.
 */
import { SkiffError } from '../../common/index.ts';
import type { Reference } from '../reference.ts';
import { RegistryClient } from './client.ts';
import { credentialsFor } from './credentials.ts';
import { type Endpoint, endpointFor, mirrorsFor } from './endpoint.ts';

export interface Answer<T> {
  /** The client of the place that answered (its endpoint says which). */
  readonly client: RegistryClient;
  readonly value: T;
}

/** fn at the first of ref's mirrors that answers, else at the registry itself. */
export async function fromFirstSource<T>(
  ref: Reference,
  dockerConfig: string | undefined,
  fn: (client: RegistryClient) => Promise<T>,
): Promise<Answer<T>> {
  const passed: string[] = [];
  for (const mirror of mirrorsFor(ref.domain)) {
    try {
      const client = await clientAt(mirror, ref.path, dockerConfig);
      return { client, value: await fn(client) };
    } catch (err) {
      passed.push(`${mirror.base}: ${(err as Error).message}`);
    }
  }
  const client = await clientAt(endpointFor(ref.domain), ref.path, dockerConfig);
  try {
    return { client, value: await fn(client) };
  } catch (err) {
    if (passed.length === 0 || !(err instanceof SkiffError)) throw err;
    // The registry's own refusal is the answer; what the mirrors said helps to see why they did not.
    throw new SkiffError(err.kind, `${err.message} (mirrors tried first: ${passed.join('; ')})`, {
      cause: err,
    });
  }
}

async function clientAt(
  endpoint: Endpoint,
  repository: string,
  dockerConfig: string | undefined,
): Promise<RegistryClient> {
  const path = endpoint.prefix ? `${endpoint.prefix}/${repository}` : repository;
  return new RegistryClient(endpoint, path, await credentialsFor(endpoint.domain, dockerConfig));
}
