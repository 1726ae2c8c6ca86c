/**
 * An OCI Distribution client for one repository: GETs of manifests and blobs over Node's fetch, with
 * anonymous access, HTTP Basic and Bearer tokens (from the WWW-Authenticate challenge of a 401, as
 * docker's does), and the registry's own error messages. Blob redirects are followed by fetch, which
 * drops the Authorization header when the redirect leaves the registry's origin.
 */
import { SkiffError } from '../../common/index.ts';
import { registriesConfigPath } from './config.ts';
import type { Credentials } from './credentials.ts';
import type { Endpoint } from './endpoint.ts';
import { Retrier, withAttempts } from './retry.ts';
import { certsDirsFor, dispatcherFor, tlsAdvice } from './transport.ts';

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

/** The Bearer token in use: the challenge it answered (to ask again), its scopes, its end. */
interface BearerState {
  readonly challenge: Challenge;
  readonly scopes: readonly string[];
  /** Milliseconds since the epoch at which the token ends, and its lifetime in milliseconds. */
  readonly expiresAt: number;
  readonly lifetime: number;
}

/** The distribution spec's default lifetime of a token that does not say (`expires_in`). */
const DEFAULT_TOKEN_LIFETIME = 60;

export class RegistryClient {
  readonly endpoint: Endpoint;
  readonly repository: string;
  private readonly credentials: Credentials | undefined;
  private authorization: string | undefined;
  /** Bumped whenever authorization changes: a 401 to an older one needs no new token. */
  private generation = 0;
  private bearer: BearerState | undefined;
  /** The one authentication under way, which concurrent requests share. */
  private pending: Promise<void> | undefined;
  /** The token scopes asked for (`repository:NAME:pull,push` to push); default the challenge's. */
  private readonly scope: readonly string[] | undefined;
  /** The OAuth2 refresh token: the identity token, replaced when the token service rotates it. */
  private refreshToken: string | undefined;
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
    this.scope = typeof scope === 'string' ? [scope] : scope;
    this.refreshToken = credentials?.identityToken;
  }

  /** GET (or HEAD) of a path under /v2/<repository>/, authenticating when challenged. */
  async get(subpath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
    return this.request(method, `${this.endpoint.base}/v2/${this.repository}/${subpath}`, { headers });
  }

  /**
   * Any request to the registry, authenticating when challenged. body is a factory because a
   * challenged request is sent again, and a stream can be read only once. A token about to expire
   * is renewed first; a 401 to a request that carried a token (expired early, or lacking a scope)
   * gets one new token, with the scopes the challenge names, and one more try.
   */
  async request(method: string, url: string, init: RequestOptions = {}): Promise<Response> {
    await this.renewIfExpiring();
    const generation = this.generation;
    const carried = this.authorization !== undefined;
    let response = await this.retrier.send(method, () => this.send(url, method, init));
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
      if (!challenge) throw await this.failure(response, url, method);
      await response.body?.cancel();
      if (this.generation === generation) await this.once(() => this.authorize(challenge));
      response = await this.retrier.send(method, () => this.send(url, method, init));
      if (response.status === 401) throw await this.refused(response, url, method, carried);
    }
    if (!response.ok) throw withAttempts(await this.failure(response, url, method), response);
    return response;
  }

  /** Runs fn unless an authentication is under way already, whose end it then awaits. */
  private async once(fn: () => Promise<void>): Promise<void> {
    if (!this.pending)
      this.pending = fn().finally(() => {
        this.pending = undefined;
      });
    await this.pending;
  }

  /** A Bearer token at (or near) its end is asked for again before it is refused. */
  private async renewIfExpiring(): Promise<void> {
    // A failed authentication is reported to the request that started it; this one tries anew.
    if (this.pending) await this.pending.catch(() => undefined);
    const bearer = this.bearer;
    if (!bearer) return;
    // Renewed a little early, so that a request sent just before the end is not refused.
    const margin = Math.min(5000, bearer.lifetime / 10);
    if (Date.now() + margin < bearer.expiresAt) return;
    await this.once(() => this.fetchBearer(bearer.challenge, bearer.scopes));
  }

  private async send(url: string, method: string, init: RequestOptions): Promise<Response> {
    const all = { ...init.headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
    const body = init.body?.();
    const dispatcher = await dispatcherFor(url);
    try {
      return await fetch(url, {
        method,
        headers: all,
        redirect: 'follow',
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
        ...(dispatcher ? { dispatcher } : {}),
      } as RequestInit);
    } catch (err) {
      throw connectionError(this.endpoint.domain, method, url, err);
    }
  }

  private basic(): string | undefined {
    const c = this.credentials;
    if (!c || c.identityToken !== undefined) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  /** Sets the Authorization header answering a challenge. */
  private async authorize(challenge: Challenge): Promise<void> {
    if (challenge.scheme === 'basic') {
      const basic = this.basic();
      if (!basic)
        throw new RegistryError(
          'FailedPrecondition',
          this.credentials
            ? `unauthorized: ${this.endpoint.domain} asks for a password (HTTP Basic), and ${this.credentials.source ?? 'the docker config'} holds an identity token for it`
            : `unauthorized: ${this.endpoint.domain} requires credentials (none for it in the docker config file; \`docker login ${this.endpoint.domain}\` writes them)`,
          401,
          [],
        );
      this.setAuthorization(basic, undefined);
      return;
    }
    if (challenge.scheme === 'bearer') {
      const asked = challenge.params.scope?.split(' ').filter(Boolean) ?? [];
      const scopes = mergeScopes([
        ...(this.bearer?.scopes ?? this.scope ?? []),
        ...asked,
        ...(this.scope === undefined && asked.length === 0 && !this.bearer && this.repository
          ? [`repository:${this.repository}:pull`]
          : []),
      ]);
      await this.fetchBearer(challenge, scopes);
      return;
    }
    throw new RegistryError(
      'FailedPrecondition',
      `unauthorized: ${this.endpoint.domain} asks for ${challenge.scheme} authentication, which skiff does not speak`,
      401,
      [],
    );
  }

  private setAuthorization(authorization: string, bearer: BearerState | undefined): void {
    this.authorization = authorization;
    this.bearer = bearer;
    this.generation++;
  }

  /**
   * A token from the challenge's realm: with an identity token by OAuth2 (POST grant_type=
   * refresh_token, as docker does), else by GET with HTTP Basic credentials, or anonymous.
   */
  private async fetchBearer(challenge: Challenge, scopes: readonly string[]): Promise<void> {
    const realm = challenge.params.realm;
    if (!realm)
      throw new RegistryError(
        'RuntimeFailure',
        `${this.endpoint.domain}: bearer challenge without a realm`,
        401,
        [],
      );
    const url = new URL(realm);
    const service = challenge.params.service;
    let init: RequestInit;
    if (this.refreshToken !== undefined) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: this.refreshToken,
        client_id: 'skiff',
        ...(service ? { service } : {}),
        ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      });
      init = { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    } else {
      if (service) url.searchParams.set('service', service);
      for (const one of scopes) url.searchParams.append('scope', one);
      const basic = this.basic();
      init = { headers: basic ? { authorization: basic } : {} };
    }
    const dispatcher = await dispatcherFor(url);
    let response: Response;
    try {
      response = await fetch(url, { ...init, ...(dispatcher ? { dispatcher } : {}) } as RequestInit);
    } catch (err) {
      throw connectionError(url.host, init.method ?? 'GET', url.toString(), err);
    }
    if (!response.ok) throw await this.tokenRefused(response, url);
    const body = (await response.json().catch(() => ({}))) as {
      token?: string;
      access_token?: string;
      refresh_token?: string;
      expires_in?: number;
      issued_at?: string;
    };
    const token = body.token ?? body.access_token;
    if (!token)
      throw new RegistryError(
        'RuntimeFailure',
        `${url.host}: the token response holds no token`,
        response.status,
        [],
      );
    if (body.refresh_token && this.refreshToken !== undefined) this.refreshToken = body.refresh_token;
    const lifetime =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME;
    // issued_at says when the lifetime began; a clock ahead of ours must not lengthen it.
    const issued = body.issued_at ? Date.parse(body.issued_at) : Number.NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, Date.now()) : Date.now();
    this.setAuthorization(`Bearer ${token}`, {
      challenge,
      scopes,
      expiresAt: start + lifetime * 1000,
      lifetime: lifetime * 1000,
    });
  }

  /** The token service said no: to these credentials, or to an anonymous request. */
  private async tokenRefused(response: Response, url: URL): Promise<RegistryError> {
    const { errors, said } = await readErrors(response);
    const domain = this.endpoint.domain;
    const status = response.status;
    const detail = said || `HTTP ${status} ${response.statusText}`;
    if (status !== 401 && status !== 403)
      return new RegistryError(
        'RuntimeFailure',
        `token service ${url.origin}${url.pathname}: ${detail}`,
        status,
        errors,
      );
    const message = this.credentials
      ? `unauthorized: the token service of ${domain} (${url.host}) refused the ${this.credentials.identityToken !== undefined ? 'identity token' : `credentials of user "${this.credentials.username}"`} from ${this.credentials.source ?? 'the docker config'}: ${detail}`
      : `unauthorized: ${domain} requires credentials: its token service (${url.host}) refused an anonymous token: ${detail} (\`skiff login ${domain}\` stores credentials)`;
    return new RegistryError('FailedPrecondition', message, status, errors);
  }

  /** A 401 to a request that had just been authenticated: wrong credentials, or no access. */
  private async refused(
    response: Response,
    url: string,
    method: string,
    carried: boolean,
  ): Promise<RegistryError> {
    const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '');
    const { errors, said } = await readErrors(response);
    const domain = this.endpoint.domain;
    const who = this.credentials
      ? `user "${this.credentials.username || '<identity token>'}" from ${this.credentials.source ?? 'the docker config'}`
      : 'anonymous';
    if (challenge?.params.error === 'insufficient_scope' || errors.some((e) => e.code === 'DENIED'))
      return new RegistryError(
        'FailedPrecondition',
        `denied: ${said || 'requested access to the resource is denied'} (${domain}: the token for ${this.bearer?.scopes.join(' ') || 'this request'} given to ${who} does not grant ${method} ${new URL(url).pathname}; the repository may not exist, or the account may not access it)`,
        401,
        errors,
      );
    const why =
      this.bearer === undefined
        ? `${domain} refused the credentials of ${who}`
        : `${domain} refused a fresh token for ${who}${carried ? ' after refusing the previous one' : ''}`;
    return new RegistryError(
      'FailedPrecondition',
      `unauthorized: ${said || 'authentication required'} (${why})`,
      401,
      errors,
    );
  }

  /** The error for a refused request, with the registry's own codes and messages. */
  private async failure(response: Response, url: string, method = 'GET'): Promise<RegistryError> {
    const { errors, said, text } = await readErrors(response);
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
    if (status === 400 && /HTTP request to an HTTPS server/i.test(text))
      return new RegistryError(
        'FailedPrecondition',
        `registry ${this.endpoint.domain} speaks HTTPS, and skiff spoke plain HTTP to it (it is on this machine or listed as insecure): to speak TLS to it, give it a certs.d directory with its CA (${certsDirsFor(
          this.endpoint.domain,
        )
          .map((d) => `${d}/ca.crt`)
          .join(' or ')})`,
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

/**
 * A refusal's body: distribution's `errors` envelope, or a token service's `details` /
 * `error_description` (Docker Hub's, OAuth2's); `said` joins them as a person reads them.
 */
async function readErrors(
  response: Response,
): Promise<{ errors: RegistryErrorDetail[]; said: string; text: string }> {
  const text = await response.text().catch(() => '');
  let errors: RegistryErrorDetail[] = [];
  let said = '';
  try {
    const body = JSON.parse(text) as {
      errors?: Array<{ code?: string; message?: string }>;
      details?: unknown;
      error_description?: unknown;
      error?: unknown;
    };
    errors = (body.errors ?? []).map((e) => ({ code: e.code ?? 'UNKNOWN', message: e.message ?? '' }));
    said = errors.map((e) => `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message}`).join('; ');
    const other = [body.details, body.error_description, body.error].find((v) => typeof v === 'string');
    if (!said && typeof other === 'string') {
      said = other;
      errors = [{ code: 'UNAUTHORIZED', message: other }];
    }
  } catch {
    // Not JSON: the status line says it.
  }
  return { errors, said, text };
}

/**
 * Token scopes with the actions of one resource merged (`repository:a:pull` and `repository:a:push`
 * → `repository:a:pull,push`), in first-seen order.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const actions = new Map<string, string[]>();
  for (const scope of scopes) {
    const cut = scope.lastIndexOf(':');
    if (cut < 0 || scope.indexOf(':') === cut) {
      if (!actions.has(scope)) actions.set(scope, []);
      continue;
    }
    const resource = scope.slice(0, cut);
    const list = actions.get(resource) ?? [];
    for (const action of scope.slice(cut + 1).split(','))
      if (action && !list.includes(action)) list.push(action);
    actions.set(resource, list);
  }
  return [...actions].map(([resource, list]) =>
    list.length > 0 ? `${resource}:${list.join(',')}` : resource,
  );
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

/** OpenSSL's verification codes that mean "signed by a CA this machine does not trust". */
const UNKNOWN_CA = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
];

/** fetch's "fetch failed" as a person reads it: which registry, and what the network said. */
function connectionError(domain: string, method: string, url: string, err: unknown): SkiffError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const host = new URL(url).host;
  const tls =
    tlsFailure(code, cause?.message ?? '', host) ??
    (url.startsWith('https:') && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET')
      ? `TLS: ${host} closed the connection (${code}: ${cause?.message ?? ''}); if it wants a client certificate, put client.cert and client.key in ${certsDirsFor(host).join(' or ')}`
      : undefined);
  const what =
    tls ??
    (code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND'
        ? 'no such host'
        : (cause?.message ?? (err as Error).message));
  return new SkiffError(
    tls ? 'FailedPrecondition' : 'Unavailable',
    `registry ${domain}: ${method} ${url}: ${what}${code && !what.includes(code) ? ` (${code})` : ''}`,
    { cause: err },
  );
}

/** The words for a TLS failure towards host, with what to do; undefined when it is not one. */
function tlsFailure(code: string, message: string, host: string): string | undefined {
  if (UNKNOWN_CA.includes(code))
    return `TLS: the certificate of ${host} is signed by an unknown authority (${code}: ${message}); ${tlsAdvice(host)}`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `TLS: the certificate of ${host} is not valid now (${code}: ${message})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `TLS: the certificate of ${host} is not valid for that name (${code}: ${message})`;
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE/.test(code))
    return `TLS: ${host} refused the handshake (${code}: ${message}); if it wants a client certificate, put client.cert and client.key in ${certsDirsFor(host).join(' or ')}`;
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG')
    return `TLS: ${host} does not speak TLS (${code}); list "${host}" under "insecure" in ${registriesConfigPath()} to use plain HTTP`;
  return undefined;
}
