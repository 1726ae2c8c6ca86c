/**
 * An OCI Distribution client for one repository: GETs of manifests and blobs over Node's fetch, with
 * anonymous access, HTTP Basic and Bearer tokens (from the WWW-Authenticate challenge of a 401, as
 * docker's does), and the registry's own error messages. Blob redirects are followed by fetch, which
 * drops the Authorization header when the redirect leaves the registry's origin.
 */
import { SkiffError } from '../../common/index.ts';
import type { Credentials } from './credentials.ts';
import type { Endpoint } from './endpoint.ts';
import { Retrier, withAttempts } from './retry.ts';

export interface RegistryErrorDetail {
  readonly code: string;
  readonly message: string;
}

/** A registry's refusal: HTTP status plus its `errors` list (distribution's error envelope). */
export class RegistryError extends SkiffError {
  readonly status: number;
  readonly errors: RegistryErrorDetail[];
  constructor(kind: SkiffError['kind'], message: string, status: number, errors: RegistryErrorDetail[]) {
    super(kind, message);
    this.status = status;
    this.errors = errors;
  }
}

/** Headers, and the body as a factory: a challenged request is sent again. */
interface RequestOptions {
  headers?: Record<string, string>;
  body?: () => Uint8Array | ReadableStream<Uint8Array>;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Record<string, string>;
}

export class RegistryClient {
  readonly endpoint: Endpoint;
  readonly repository: string;
  private readonly credentials: Credentials | undefined;
  private authorization: string | undefined;
  /** The token scopes asked for (`repository:NAME:pull,push` to push); default the challenge's. */
  private readonly scope: string | readonly string[] | undefined;
  /** Retries of 5xx, 429 and broken connections (retry.ts). */
  readonly retrier = new Retrier();

  constructor(
    endpoint: Endpoint,
    repository: string,
    credentials?: Credentials,
    scope?: string | readonly string[],
  ) {
    this.endpoint = endpoint;
    this.repository = repository;
    this.credentials = credentials;
    this.scope = scope;
  }

  /** GET (or HEAD) of a path under /v2/<repository>/, authenticating when challenged. */
  async get(subpath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
    return this.request(method, `${this.endpoint.base}/v2/${this.repository}/${subpath}`, { headers });
  }

  /**
   * Any request to the registry, authenticating when challenged. body is a factory because a
   * challenged request is sent again, and a stream can be read only once.
   */
  async request(method: string, url: string, init: RequestOptions = {}): Promise<Response> {
    let response = await this.retrier.send(method, () => this.send(url, method, init));
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      await response.body?.cancel();
      if (!challenge) throw await this.failure(response, url, method);
      this.authorization = await this.authorize(challenge);
      response = await this.retrier.send(method, () => this.send(url, method, init));
    }
    if (!response.ok) throw withAttempts(await this.failure(response, url, method), response);
    return response;
  }

  private async send(url: string, method: string, init: RequestOptions): Promise<Response> {
    const all = { ...init.headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
    const body = init.body?.();
    try {
      return await fetch(url, {
        method,
        headers: all,
        redirect: 'follow',
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      throw connectionError(this.endpoint.domain, method, url, err);
    }
  }

  /** The Authorization header answering a challenge. */
  private async authorize(challenge: Challenge): Promise<string> {
    const basic = this.credentials
      ? `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`
      : undefined;
    if (challenge.scheme === 'basic') {
      if (!basic)
        throw new RegistryError(
          'FailedPrecondition',
          `unauthorized: ${this.endpoint.domain} requires credentials (none for it in the docker config file; \`docker login ${this.endpoint.domain}\` writes them)`,
          401,
          [],
        );
      return basic;
    }
    if (challenge.scheme === 'bearer') return `Bearer ${await this.token(challenge, basic)}`;
    throw new RegistryError(
      'FailedPrecondition',
      `unauthorized: ${this.endpoint.domain} asks for ${challenge.scheme} authentication, which skiff does not speak`,
      401,
      [],
    );
  }

  /** A token from the challenge's realm for pulling this repository (anonymous without credentials). */
  private async token(challenge: Challenge, basic: string | undefined): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm)
      throw new RegistryError(
        'RuntimeFailure',
        `${this.endpoint.domain}: bearer challenge without a realm`,
        401,
        [],
      );
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const scope =
      this.scope ??
      challenge.params.scope ??
      (this.repository ? `repository:${this.repository}:pull` : undefined);
    for (const one of typeof scope === 'string' ? [scope] : (scope ?? []))
      url.searchParams.append('scope', one);
    let response: Response;
    try {
      response = await fetch(url, { headers: basic ? { authorization: basic } : {} });
    } catch (err) {
      throw connectionError(url.host, 'GET', url.toString(), err);
    }
    if (!response.ok) throw await this.failure(response, url.toString());
    const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new RegistryError(
        'RuntimeFailure',
        `${url.host}: the token response holds no token`,
        response.status,
        [],
      );
    return token;
  }

  /** The error for a refused request, with the registry's own codes and messages. */
  private async failure(response: Response, url: string, method = 'GET'): Promise<RegistryError> {
    const text = await response.text().catch(() => '');
    let errors: RegistryErrorDetail[] = [];
    try {
      const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
      errors = (body.errors ?? []).map((e) => ({ code: e.code ?? 'UNKNOWN', message: e.message ?? '' }));
    } catch {
      // Not distribution's envelope: the status line says it.
    }
    const said = errors.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message}`).join('; ');
    const status = response.status;
    if (status === 401)
      return new RegistryError(
        'FailedPrecondition',
        `unauthorized: ${said || 'authentication required'} (${this.endpoint.domain})`,
        status,
        errors,
      );
    if (status === 403)
      return new RegistryError(
        'FailedPrecondition',
        `denied: ${said || 'access to the resource is denied'} (${this.endpoint.domain})`,
        status,
        errors,
      );
    const kind = status === 404 ? 'NotFound' : 'RuntimeFailure';
    return new RegistryError(
      kind,
      `${said || `HTTP ${status} ${response.statusText}`} (${method} ${url})`,
      status,
      errors,
    );
  }
}

/** `Bearer realm="…",service="…",scope="…"` → scheme and parameters (lowercased scheme). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const p of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g))
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: match[1]!.toLowerCase(), params };
}

/** fetch's "fetch failed" as a person reads it: which registry, and what the network said. */
function connectionError(domain: string, method: string, url: string, err: unknown): SkiffError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const what =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND'
        ? 'no such host'
        : (cause?.message ?? (err as Error).message);
  return new SkiffError(
    'Unavailable',
    `registry ${domain}: ${method} ${url}: ${what}${code && !what.includes(code) ? ` (${code})` : ''}`,
    { cause: err },
  );
}
