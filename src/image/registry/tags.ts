/**
 * The tags of a repository: `GET /v2/<name>/tags/list`, following the `Link: <…>; rel="next"` header
 * of a registry that pages the list (the distribution spec's pagination, `n` and `last`).
 */
import { invalidArgument, SkiffError } from '../../common/index.ts';
import { familiarName, type Reference } from '../reference.ts';
import { type RegistryClient, RegistryError } from './client.ts';
import { fromFirstSource } from './sources.ts';

export interface ListTagsOptions {
  /** Path of the docker config file (default $DOCKER_CONFIG or ~/.docker/config.json). */
  readonly dockerConfig?: string;
  /** Tags asked for per page (`n`); default the registry's own page size. */
  readonly pageSize?: number;
}

/** Every tag of ref's repository, in the registry's order (mirrors first, as a pull). */
export async function listTags(ref: Reference, options: ListTagsOptions = {}): Promise<string[]> {
  try {
    const { value } = await fromFirstSource(ref, options.dockerConfig, (client) =>
      listTagsAt(client, options.pageSize),
    );
    return value;
  } catch (err) {
    if (err instanceof RegistryError && err.status === 404)
      throw new SkiffError('NotFound', `repository ${familiarName(ref)} not found: ${err.message}`, {
        cause: err,
      });
    throw err;
  }
}

/** The tags at one registry, page after page. */
export async function listTagsAt(client: RegistryClient, pageSize?: number): Promise<string[]> {
  let url: string | undefined =
    `${client.endpoint.base}/v2/${client.repository}/tags/list${pageSize ? `?n=${pageSize}` : ''}`;
  const seen = new Set<string>();
  const tags: string[] = [];
  while (url !== undefined) {
    if (seen.has(url)) throw invalidArgument(`${client.endpoint.domain}: the tags list pages loop at ${url}`);
    seen.add(url);
    const response = await client.request('GET', url);
    const body = (await response.json().catch(() => undefined)) as { tags?: unknown } | undefined;
    if (!body || (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags)))
      throw invalidArgument(
        `${client.endpoint.domain}: the tags list of ${client.repository} is not {tags: [...]}`,
      );
    for (const tag of (body.tags as unknown[] | null | undefined) ?? [])
      if (typeof tag === 'string') tags.push(tag);
    url = nextPage(response.headers.get('link'), url);
  }
  return tags;
}

/** The `rel="next"` target of a Link header, resolved against the page it came with. */
export function nextPage(link: string | null, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match && /;\s*rel="?next"?/i.test(match[2]!)) return new URL(match[1]!, base).toString();
  }
  return undefined;
}
