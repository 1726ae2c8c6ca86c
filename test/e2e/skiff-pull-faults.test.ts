// `skiff pull` through a misbehaving network: a proxy (test/helpers/faulty-proxy.ts) in front of the
// real registry (Debian's docker-registry on 127.0.0.1) cuts a blob midway (the pull resumes with a
// Range request), answers 503 twice or 429 with Retry-After (the pull waits and succeeds), 503 for
// ever (a clear error after the bounded retries, nothing left), corrupts a blob (refused, nothing
// committed), and stalls a big blob while `skiff pull` is SIGKILLed (no image, no unverified blob;
// the next pull resumes the partial file and gets the right digest).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MediaType } from '../../src/image/index.ts';
import { configFor, sha256 } from '../helpers/archive.ts';
import { SKIFF } from '../helpers/engine.ts';
import { startFaultyProxy } from '../helpers/faulty-proxy.ts';
import { startRegistry } from '../helpers/registry.ts';
import { makeTar } from '../helpers/tar.ts';

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

type After = { after: (fn: () => void | Promise<void>) => void };

/** Fast back-offs, so the retries do not make the tests slow. */
const FAST = { SKIFF_REGISTRY_RETRY_BASE_MS: '10' };

function freshRoot(t: After) {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-pullf-'));
  const env = { ...process.env, ...FAST, SKIFF_ROOT: root, SKIFF_RUNROOT: path.join(root, 'run') };
  const start = (args: string[]): ChildProcess =>
    spawn(SKIFF, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const skiff = (args: string[]): Promise<Result> =>
    new Promise((resolve) => {
      const child = start(args);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const blobs = () => {
    const dir = path.join(root, 'blobs', 'sha256');
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const ingest = () => {
    const dir = path.join(root, 'ingest');
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  return { root, skiff, start, blobs, ingest };
}

/** A monolithic upload straight to the registry (POST, then PUT ?digest=). */
async function putBlob(host: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

/** An image of one layer holding `size` random bytes, pushed to repo:1; returns its digests. */
async function pushRandomImage(host: string, repo: string, size: number) {
  const layer = await makeTar([{ name: 'random.bin', content: randomBytes(size) }]);
  const config = configFor([layer]);
  await putBlob(host, repo, layer);
  await putBlob(host, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: sha256(config), size: config.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length },
      ],
    }),
  );
  const put = await fetch(`http://${host}/v2/${repo}/manifests/1`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': MediaType.ociManifest },
  });
  assert.equal(put.status, 201, await put.text());
  return { id: sha256(config), layer: sha256(layer), layerSize: layer.length, manifest: sha256(manifest) };
}

test('skiff pull through faults: resumes, retries, honours 429, gives up cleanly', async (t) => {
  const registry = await startRegistry(t);
  const image = await pushRandomImage(registry.host, 'faults', 3 * 2 ** 20);
  const proxy = await startFaultyProxy(t, registry.port);
  const ref = `${proxy.host}/faults:1`;
  const layerPath = `/v2/faults/blobs/${image.layer}`;

  /** The image is there with the pushed digests; no partial is left. */
  const pulledWell = async (e: ReturnType<typeof freshRoot>, r: Result) => {
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`Digest: ${image.manifest}\n`), r.stdout);
    const inspect = await e.skiff(['image', 'inspect', '-f', '{{.Id}}', ref]);
    assert.equal(inspect.stdout.trim(), image.id);
    assert.ok(e.blobs().includes(image.layer.slice(7)));
    assert.deepEqual(e.ingest(), [], 'no partial or temporary file left');
  };

  await t.test('a connection cut midway: the pull resumes with a Range request', async () => {
    proxy.set({ cut: { bytes: 2 ** 20, times: 2 } });
    proxy.requests.length = 0;
    const e = freshRoot(t);
    await pulledWell(e, await e.skiff(['pull', ref]));
    const layer = proxy.requests.filter((r) => r.path === layerPath);
    assert.equal(layer[0]!.range, undefined);
    const resumed = layer.filter((r) => r.range !== undefined);
    assert.ok(resumed.length >= 1, JSON.stringify(layer));
    assert.match(resumed[0]!.range!, /^bytes=[1-9]\d*-$/);
    assert.equal(resumed.at(-1)!.status, 206, 'the registry answered with the rest');
  });

  await t.test('503 twice: retried, and the pull succeeds', async () => {
    proxy.set({ unavailable: { times: 2 } });
    proxy.requests.length = 0;
    const e = freshRoot(t);
    await pulledWell(e, await e.skiff(['pull', ref]));
    assert.deepEqual(
      proxy.requests.slice(0, 3).map((r) => r.status),
      [503, 503, 200],
    );
  });

  await t.test('429 with Retry-After: waits that long, then succeeds', async () => {
    proxy.set({ tooMany: { times: 1, retryAfter: '1', match: 'blobs' } });
    proxy.requests.length = 0;
    const e = freshRoot(t);
    await pulledWell(e, await e.skiff(['pull', ref]));
    const i = proxy.requests.findIndex((r) => r.status === 429);
    assert.ok(i >= 0);
    const next = proxy.requests.slice(i + 1).find((r) => r.path === proxy.requests[i]!.path)!;
    // With 10 ms back-offs, only Retry-After makes the next try wait a second.
    assert.ok(next.at - proxy.requests[i]!.at >= 950, `retried after ${next.at - proxy.requests[i]!.at} ms`);
  });

  await t.test('503 for ever: a clear error after the bounded retries, nothing left', async () => {
    proxy.set({ unavailable: { times: Infinity, match: 'blobs' } });
    proxy.requests.length = 0;
    const e = freshRoot(t);
    const r = await e.skiff(['pull', ref]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /503 .*\(gave up after 5 attempts\)/);
    const blobRequests = proxy.requests.filter((q) => q.path.includes('/blobs/'));
    assert.equal(blobRequests.length, 5, 'five tries of the first blob, then nothing');
    assert.equal((await e.skiff(['images', '-q'])).stdout, '', 'no image');
    assert.deepEqual(e.blobs(), [], 'no blob');
    assert.deepEqual(e.ingest(), [], 'no partial');
  });

  await t.test('a corrupted blob is refused: no image, no blob committed, nothing kept', async () => {
    proxy.set({ corrupt: {} });
    const e = freshRoot(t);
    const r = await e.skiff(['pull', ref]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`filesystem layer verification failed for digest ${image.layer}: .*content has digest`),
    );
    assert.equal((await e.skiff(['images', '-q'])).stdout, '', 'no image');
    assert.ok(!e.blobs().includes(image.layer.slice(7)), 'the bad blob is not committed');
    assert.ok(e.blobs().length <= 1, 'at most the verified config');
    assert.deepEqual(e.ingest(), [], 'the bad bytes are not kept');
  });
});

test('skiff pull SIGKILLed midway, then a good pull resumes and gets the right digest', async (t) => {
  const registry = await startRegistry(t);
  const image = await pushRandomImage(registry.host, 'killed', 8 * 2 ** 20);
  const proxy = await startFaultyProxy(t, registry.port, { stall: { bytes: 3 * 2 ** 20 } });
  const ref = `${proxy.host}/killed:1`;
  const e = freshRoot(t);

  const child = e.start(['pull', ref]);
  const exited = new Promise((resolve) => child.on('close', resolve));
  // Kill once bytes of the layer reached its partial file.
  let partial = 0;
  for (let i = 0; i < 600 && partial < 2 ** 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    partial = e
      .ingest()
      .filter((n) => n.startsWith(`sha256-${image.layer.slice(7)}.`) && n.endsWith('.partial'))
      .map((n) => statSync(path.join(e.root, 'ingest', n)).size)
      .reduce((a, b) => Math.max(a, b), 0);
  }
  child.kill('SIGKILL');
  await exited;
  assert.ok(partial >= 2 ** 20, `the layer's bytes reached the partial file (${partial})`);

  assert.equal((await e.skiff(['images', '-q'])).stdout, '', 'no image');
  assert.ok(!e.blobs().includes(image.layer.slice(7)), 'no unverified layer committed');
  assert.equal(e.ingest().filter((n) => n.endsWith('.partial')).length, 1, 'the partial is kept');

  proxy.set({});
  proxy.requests.length = 0;
  const r = await e.skiff(['pull', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`Digest: ${image.manifest}\n`), r.stdout);
  const layer = proxy.requests.filter((q) => q.path === `/v2/killed/blobs/${image.layer}`);
  assert.equal(layer.length, 1, JSON.stringify(layer));
  const start = Number(/^bytes=(\d+)-$/.exec(layer[0]!.range ?? '')?.[1]);
  assert.ok(start >= partial, `resumed at ${layer[0]!.range} (partial had ${partial} bytes)`);
  assert.equal(layer[0]!.status, 206);
  const inspect = await e.skiff(['image', 'inspect', '-f', '{{.Id}}', ref]);
  assert.equal(inspect.stdout.trim(), image.id);
  assert.deepEqual(e.ingest(), []);
});
