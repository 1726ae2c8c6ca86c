/**
 * Retries of registry requests, as docker's and containerd's clients do them: a request that met a
 * server error (5xx but 501), a 408 or 429, or a network failure (reset, refused once the registry
 * has answered, socket closed early) is sent again after an exponential back-off with jitter, at most
 * `attempts` times in all. A 429 or 503 with Retry-After (seconds or an HTTP date) waits that long,
 * capped. Other 4xx are the registry's answer and are never retried. PATCH (a chunk of an upload) is
 * not retried here: the registry may have kept part of it, so push asks it where the upload stands.
 *
 * Knobs (environment, for tests and slow networks): SKIFF_REGISTRY_RETRY_ATTEMPTS (default 5),
 * SKIFF_REGISTRY_RETRY_BASE_MS (default 500), SKIFF_REGISTRY_RETRY_AFTER_MAX_MS (default 60000).
 */
import { invalidArgument } from '../../common/index.ts';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** The first back-off; each next one doubles. */
  readonly baseMs: number;
  /** The longest single back-off. */
  readonly maxDelayMs: number;
  /** The longest wait a Retry-After header is honoured for. */
  readonly maxRetryAfterMs: number;
}

/** Network error codes of a connection that may well work when made again. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** The policy from the environment (read at each call, so tests can set it per process). */
export function retryPolicy(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  return {
    attempts: envInt(env, 'SKIFF_REGISTRY_RETRY_ATTEMPTS', 5, 1),
    baseMs: envInt(env, 'SKIFF_REGISTRY_RETRY_BASE_MS', 500, 0),
    maxDelayMs: 30_000,
    maxRetryAfterMs: envInt(env, 'SKIFF_REGISTRY_RETRY_AFTER_MAX_MS', 60_000, 0),
  };
}

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw invalidArgument(`${name}=${raw}: must be an integer of at least ${min}`);
  return value;
}

/** The back-off before retry number n (1-based): base·2^(n-1), between half and all of it, capped. */
export function backoffMs(policy: RetryPolicy, n: number, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (n - 1));
  return Math.round(full * (0.5 + random() / 2));
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when unreadable. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its weekday and month (Date.parse alone reads `-1` as a year).
  const at = /[a-z]{3}/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Whether an HTTP status is worth asking again for. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** The network error code somewhere in err's cause chain (fetch wraps them twice), if any. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/**
 * Whether err is a connection that broke: a transient network code, or undici's "terminated" (the
 * socket closed before the body was complete).
 */
export function isTransientNetworkError(err: unknown): boolean {
  if (networkCode(err) !== undefined) return true;
  for (let e = err as { message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (e instanceof Error && e.name === 'TypeError' && e.message === 'terminated') return true;
    e = e.cause as typeof e;
  }
  return false;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One client's retries: remembers whether the registry has answered (so refused means "went away"). */
export class Retrier {
  readonly policy: RetryPolicy;
  private answered = false;

  constructor(policy: RetryPolicy = retryPolicy()) {
    this.policy = policy;
  }

  /**
   * Sends with attempt() until a response that is not worth retrying, or the attempts are spent (then
   * the last response is returned, or the last network error thrown with the count added).
   */
  async send(method: string, attempt: () => Promise<Response>): Promise<Response> {
    const { attempts } = this.policy;
    const retries = method === 'PATCH' ? 1 : attempts;
    for (let n = 1; ; n++) {
      let response: Response;
      try {
        response = await attempt();
      } catch (err) {
        if (n >= retries || !this.transient(err)) throw this.spent(err, n);
        await sleep(backoffMs(this.policy, n));
        continue;
      }
      this.answered = true;
      if (n >= retries || !retryableStatus(response.status)) return this.mark(response, n);
      const after = parseRetryAfter(response.headers.get('retry-after'));
      await response.body?.cancel().catch(() => {});
      await sleep(
        after !== undefined ? Math.min(after, this.policy.maxRetryAfterMs) : backoffMs(this.policy, n),
      );
    }
  }

  /** A refused connection before the registry ever answered is "not there", said at once. */
  private transient(err: unknown): boolean {
    const code = networkCode(err);
    if (code === 'ECONNREFUSED') return this.answered;
    return isTransientNetworkError(err);
  }

  private spent(err: unknown, n: number): unknown {
    if (n > 1 && err instanceof Error) err.message += ` (gave up after ${n} attempts)`;
    return err;
  }

  /** Remembers how many attempts a response took, for the error that reports it. */
  private mark(response: Response, n: number): Response {
    if (n > 1 && retryableStatus(response.status)) attemptsOf.set(response, n);
    return response;
  }
}

const attemptsOf = new WeakMap<Response, number>();

/** err with ` (gave up after N attempts)` when response was the last of several tries. */
export function withAttempts<E extends Error>(err: E, response: Response): E {
  const n = attemptsOf.get(response);
  if (n !== undefined) err.message += ` (gave up after ${n} attempts)`;
  return err;
}
