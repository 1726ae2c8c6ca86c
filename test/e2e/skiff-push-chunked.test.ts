// `skiff push` in chunks and of image indexes, against Debian's docker-registry on 127.0.0.1 (behind
// the faulty proxy of test/helpers/faulty-proxy.ts where a fault is wanted): with a small chunk
// threshold every blob goes as PATCHes with Content-Range, a chunk refused with 503 is continued from
// the Range the registry reports (GET on the upload), and the image comes back whole (skopeo copies
// it verifying every blob; skiff pulls it on a clean store with the same digests). A two-platform OCI
// archive loaded by `skiff load` is pushed as its index (both manifests by digest, then the index
// under the tag); one whose second platform is not in the store is refused, naming the platform.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { configFor, layerOf, ociIndexArchive, type PlatformImage, sha256 } from '../helpers/archive.ts';
import { importBusybox, SKIFF } from '../helpers/engine.ts';
import { startFaultyProxy } from '../helpers/faulty-proxy.ts';
import { startRegistry } from '../helpers/registry.ts';

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

type After = { after: (fn: () => void | Promise<void>) => void };

function tempDir(t: After, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An engine root with its own DOCKER_CONFIG; skiff runs asynchronously (the proxy serves from here). */
function engine(t: After, extraEnv: NodeJS.ProcessEnv = {}) {
  const root = tempDir(t, 'skiff-pushc-');
  const env = {
    ...process.env,
    SKIFF_ROOT: root,
    SKIFF_RUNROOT: path.join(root, 'run'),
    DOCKER_CONFIG: tempDir(t, 'skiff-dockercfg-'),
    SKIFF_REGISTRY_RETRY_BASE_MS: '10',
    ...extraEnv,
  };
  const skiff = (args: string[]): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(SKIFF, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    });
  return { root, skiff };
}

/** skopeo inspect --raw: the registry's manifest bytes for ref, and their digest. */
function rawManifest(ref: string): { digest: string; json: { manifests?: { digest: string }[] } } {
  const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
  assert.equal(r.status, 0, r.stderr.toString());
  return {
    digest: `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`,
    json: JSON.parse(r.stdout.toString()),
  };
}

/** The digest `skiff push` printed last: `TAG: digest: sha256:… size: N`. */
function pushedDigest(r: Result): string {
  const m = /: digest: (sha256:[0-9a-f]{64}) size: \d+\n$/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return m[1]!;
}

test('skiff push in chunks; a refused chunk goes on from where the registry stands', async (t) => {
  const registry = await startRegistry(t);
  const proxy = await startFaultyProxy(t, registry.port);
  const ref = `${proxy.host}/chunked:1`;
  const e = engine(t, { SKIFF_REGISTRY_CHUNK_THRESHOLD: '1', SKIFF_REGISTRY_CHUNK_SIZE: String(256 * 1024) });
  await importBusybox(e.root);
  assert.equal((await e.skiff(['tag', 'busybox:latest', ref])).status, 0);

  proxy.set({ unavailable: { times: 1, match: 'patch' } });
  const r = await e.skiff(['push', ref]);
  assert.equal(r.status, 0, r.stderr);
  const digest = pushedDigest(r);

  const patches = proxy.requests.filter((q) => q.method === 'PATCH');
  assert.ok(patches.length >= 4, `the layer went in several chunks (${patches.length} PATCHes)`);
  assert.ok(
    patches.every((q) => /^\d+-\d+$/.test(q.contentRange ?? '')),
    'every PATCH carries a Content-Range',
  );
  const refused = proxy.requests.findIndex((q) => q.status === 503);
  assert.equal(proxy.requests[refused]!.method, 'PATCH');
  assert.equal(proxy.requests[refused + 1]!.method, 'GET', 'the upload status was asked for');
  assert.match(proxy.requests[refused + 1]!.path, /\/blobs\/uploads\//);
  assert.ok(
    proxy.requests.some((q) => q.method === 'PUT' && /\/blobs\/uploads\/.*digest=sha256/.test(q.path)),
    'the upload was closed with PUT ?digest=',
  );

  proxy.set({});
  assert.equal(rawManifest(`${registry.host}/chunked:1`).digest, digest);
  const layout = tempDir(t, 'skiff-pushc-oci-');
  const copied = spawnSync(
    'skopeo',
    ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/chunked:1`, `oci:${layout}:x`],
    { encoding: 'utf8' },
  );
  assert.equal(copied.status, 0, `skopeo copies it, verifying every blob: ${copied.stderr}`);

  const back = engine(t);
  const pulled = await back.skiff(['pull', `${registry.host}/chunked@${digest}`]);
  assert.equal(pulled.status, 0, pulled.stderr);
  const ids = await Promise.all(
    [e, back].map((x) =>
      x.skiff(['image', 'inspect', '-f', '{{.Id}}', x === e ? ref : `${registry.host}/chunked@${digest}`]),
    ),
  );
  assert.equal(ids[1]!.stdout, ids[0]!.stdout, 'the same image came back');
  const run = await back.skiff(['run', '--rm', `${registry.host}/chunked@${digest}`, 'echo', 'ok']);
  assert.equal(run.stdout, 'ok\n', run.stderr);
});

test('skiff push in chunks: a chunk cut midway (the registry got part of it) still gets there', async (t) => {
  const registry = await startRegistry(t);
  const proxy = await startFaultyProxy(t, registry.port, { cutPatch: { bytes: 100_000 } });
  const ref = `${proxy.host}/cut:1`;
  const e = engine(t, { SKIFF_REGISTRY_CHUNK_THRESHOLD: '1', SKIFF_REGISTRY_CHUNK_SIZE: String(256 * 1024) });
  await importBusybox(e.root);
  assert.equal((await e.skiff(['tag', 'busybox:latest', ref])).status, 0);
  const r = await e.skiff(['push', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    proxy.requests.some((q) => q.method === 'PATCH' && q.status === -1),
    'a PATCH was cut',
  );
  proxy.set({});
  assert.equal(rawManifest(`${registry.host}/cut:1`).digest, pushedDigest(r));
  const layout = tempDir(t, 'skiff-pushc-oci-');
  const copied = spawnSync(
    'skopeo',
    ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/cut:1`, `oci:${layout}:x`],
    { encoding: 'utf8' },
  );
  assert.equal(copied.status, 0, copied.stderr);
});

test('a monolithic push: a 503 on the upload’s PUT and a 429 on a HEAD are retried', async (t) => {
  const registry = await startRegistry(t);
  const proxy = await startFaultyProxy(t, registry.port);
  const ref = `${proxy.host}/mono:1`;
  const e = engine(t);
  await importBusybox(e.root);
  assert.equal((await e.skiff(['tag', 'busybox:latest', ref])).status, 0);
  proxy.set({
    unavailable: { times: 2, match: /\/blobs\/uploads\/.*digest=sha256/ },
    tooMany: { times: 1, retryAfter: '0', match: /\/blobs\/sha256:/ },
  });
  const r = await e.skiff(['push', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(proxy.requests.filter((q) => q.status === 503 && q.method === 'PUT').length, 2);
  assert.equal(proxy.requests.filter((q) => q.status === 429 && q.method === 'HEAD').length, 1);
  assert.equal(proxy.requests.filter((q) => q.method === 'PATCH').length, 0, 'no chunks below the threshold');
  proxy.set({});
  assert.equal(rawManifest(`${registry.host}/mono:1`).digest, pushedDigest(r));
  const layout = tempDir(t, 'skiff-pushc-oci-');
  const copied = spawnSync(
    'skopeo',
    ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/mono:1`, `oci:${layout}:x`],
    { encoding: 'utf8' },
  );
  assert.equal(copied.status, 0, copied.stderr);
});

/** A host image and an s390x one, one small layer each. */
async function twoPlatforms(): Promise<PlatformImage[]> {
  const host = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const images: PlatformImage[] = [];
  for (const architecture of [host, 's390x']) {
    const layer = await layerOf({ [`etc/${architecture}`]: `the ${architecture} image\n` });
    const config = JSON.parse(configFor([layer]).toString());
    images.push({
      layers: [layer],
      config: Buffer.from(JSON.stringify({ ...config, architecture, variant: undefined })),
      platform: { os: 'linux', architecture },
    });
  }
  return images;
}

test('skiff push of an image index: every platform, then the index under the tag', async (t) => {
  const registry = await startRegistry(t);
  const images = await twoPlatforms();
  const ref = `${registry.host}/multi:1`;
  const { archive, index, manifests } = await ociIndexArchive(images, ref);
  const file = path.join(tempDir(t, 'skiff-pushc-arch-'), 'multi.tar');
  writeFileSync(file, archive);
  const e = engine(t);
  const load = await e.skiff(['load', '-i', file]);
  assert.equal(load.status, 0, load.stderr);

  const r = await e.skiff(['push', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(pushedDigest(r), index, 'the index is what the tag names');
  const raw = rawManifest(ref);
  assert.equal(raw.digest, index);
  assert.deepEqual(
    raw.json.manifests?.map((m) => m.digest),
    manifests,
  );
  for (const m of manifests) assert.equal(rawManifest(`${registry.host}/multi@${m}`).digest, m);

  // Back by digest on a clean store, each platform, with the loaded image IDs.
  for (const [i, platform] of ['', 'linux/s390x'].entries()) {
    const back = engine(t);
    const pulled = await back.skiff([
      'pull',
      ...(platform ? ['--platform', platform] : []),
      `${registry.host}/multi@${index}`,
    ]);
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.ok(pulled.stdout.includes(`Digest: ${index}\n`), pulled.stdout);
    const id = await back.skiff(['image', 'inspect', '-f', '{{.Id}}', `${registry.host}/multi@${index}`]);
    assert.equal(id.stdout.trim(), sha256(images[i]!.config));
  }
});

test('skiff push of an index whose platform is not in the store is refused, naming it', async (t) => {
  const registry = await startRegistry(t);
  const ref = `${registry.host}/partial:1`;
  const { archive, manifests } = await ociIndexArchive(await twoPlatforms(), ref, ['s390x']);
  const file = path.join(tempDir(t, 'skiff-pushc-arch-'), 'partial.tar');
  writeFileSync(file, archive);
  const e = engine(t);
  const load = await e.skiff(['load', '-i', file]);
  assert.equal(load.status, 0, load.stderr);

  const r = await e.skiff(['push', ref]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    new RegExp(
      `cannot push the image index sha256:[0-9a-f]{64}: the content of linux/s390x \\(manifest ${manifests[1]}\\) is not in the local store`,
    ),
  );
  const tag = await fetch(`http://${registry.host}/v2/partial/manifests/1`, {
    headers: { accept: 'application/vnd.oci.image.index.v1+json' },
  });
  assert.equal(tag.status, 404, 'no index was pushed');
});
