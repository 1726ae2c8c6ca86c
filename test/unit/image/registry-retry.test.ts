import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import {
  backoffMs,
  chunkSettings,
  isTransientNetworkError,
  parseRetryAfter,
  Retrier,
  retryableStatus,
  retryPolicy,
} from '../../../src/image/index.ts';

test('Retry-After: delta-seconds, an HTTP date, nonsense', () => {
  const now = Date.parse('Mon, 23 Nov 2026 17:00:00 GMT');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Mon, 23 Nov 2026 17:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfter('Mon, 23 Nov 2026 16:59:00 GMT', now), 0, 'a date past is now');
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-1', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

test('back-off doubles from the base, with jitter between half and all, capped', () => {
  const policy = { attempts: 5, baseMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 0 };
  assert.equal(
    backoffMs(policy, 1, () => 0),
    50,
  );
  assert.equal(
    backoffMs(policy, 1, () => 0.999999),
    100,
  );
  assert.equal(
    backoffMs(policy, 3, () => 0.999999),
    400,
  );
  assert.equal(
    backoffMs(policy, 10, () => 0.999999),
    1000,
    'capped',
  );
});

test('retried statuses: 5xx but 501/505, 408, 429; never other 4xx', () => {
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(retryableStatus(s), true, String(s));
  for (const s of [200, 400, 401, 403, 404, 416, 501, 505])
    assert.equal(retryableStatus(s), false, String(s));
});

test('the policy and chunk knobs from the environment; bad values name the variable', () => {
  assert.deepEqual(retryPolicy({}), {
    attempts: 5,
    baseMs: 500,
    maxDelayMs: 30_000,
    maxRetryAfterMs: 60_000,
  });
  assert.equal(retryPolicy({ SKIFF_REGISTRY_RETRY_BASE_MS: '10' }).baseMs, 10);
  assert.throws(() => retryPolicy({ SKIFF_REGISTRY_RETRY_ATTEMPTS: '0' }), /SKIFF_REGISTRY_RETRY_ATTEMPTS=0/);
  assert.throws(() => retryPolicy({ SKIFF_REGISTRY_RETRY_BASE_MS: 'x' }), /SKIFF_REGISTRY_RETRY_BASE_MS=x/);
  assert.deepEqual(chunkSettings({}), { threshold: 32 * 2 ** 20, size: 16 * 2 ** 20 });
  assert.throws(() => chunkSettings({ SKIFF_REGISTRY_CHUNK_SIZE: '-5' }), /SKIFF_REGISTRY_CHUNK_SIZE=-5/);
});

test('network errors worth a retry, found through fetch’s cause chain', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  assert.equal(isTransientNetworkError(new TypeError('fetch failed', { cause: reset })), true);
  const closed = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  assert.equal(isTransientNetworkError(new TypeError('terminated', { cause: closed })), true);
  assert.equal(isTransientNetworkError(new TypeError('terminated')), true);
  const dns = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  assert.equal(isTransientNetworkError(new TypeError('fetch failed', { cause: dns })), false);
  assert.equal(isTransientNetworkError(new Error('digest mismatch')), false);
});

/** A server on 127.0.0.1 answering with the given statuses in turn (then 200). */
async function statusServer(
  t: { after: (fn: () => Promise<void>) => void },
  statuses: number[],
  headers = {},
) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.method ?? '');
    const status = statuses.shift() ?? 200;
    res.writeHead(status, status === 200 ? {} : headers);
    res.end(String(status));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`, seen };
}

const fast = { attempts: 3, baseMs: 1, maxDelayMs: 10, maxRetryAfterMs: 50 };

test('Retrier: 503s then 200; bounded; 404 and PATCH are not retried; Retry-After capped', async (t) => {
  const ok = await statusServer(t, [503, 502]);
  const r = await new Retrier(fast).send('GET', () => fetch(ok.url));
  assert.equal(r.status, 200);
  assert.equal(ok.seen.length, 3);

  const down = await statusServer(t, [503, 503, 503, 503]);
  const last = await new Retrier(fast).send('GET', () => fetch(down.url));
  assert.equal(last.status, 503, 'the last answer once the attempts are spent');
  assert.equal(down.seen.length, 3);

  const missing = await statusServer(t, [404]);
  assert.equal((await new Retrier(fast).send('GET', () => fetch(missing.url))).status, 404);
  assert.equal(missing.seen.length, 1);

  const patch = await statusServer(t, [503]);
  assert.equal(
    (await new Retrier(fast).send('PATCH', () => fetch(patch.url, { method: 'PATCH' }))).status,
    503,
  );
  assert.equal(patch.seen.length, 1);

  // Retry-After: 3600 is capped at maxRetryAfterMs (50 ms here), so this returns at once.
  const busy = await statusServer(t, [429], { 'retry-after': '3600' });
  assert.equal((await new Retrier(fast).send('GET', () => fetch(busy.url))).status, 200);
});

test('Retrier: a refused connection is "not there" at once, but retried once the registry answered', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  let tries = 0;
  const refusedFirst = new Retrier(fast);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await assert.rejects(
    refusedFirst.send('GET', () => {
      tries++;
      return fetch(url);
    }),
  );
  assert.equal(tries, 1, 'not retried before any answer');

  const again = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => again.listen(Number(new URL(url).port), '127.0.0.1', resolve));
  const answered = new Retrier(fast);
  await answered.send('GET', () => fetch(url));
  await new Promise<void>((resolve) => again.close(() => resolve()));
  tries = 0;
  await assert.rejects(
    answered.send('GET', () => {
      tries++;
      return fetch(url);
    }),
    /gave up after 3 attempts/,
  );
  assert.equal(tries, 3);
});
