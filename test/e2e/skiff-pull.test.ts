// `skiff pull` and `run --pull` against a real registry (Debian's docker-registry on a free 127.0.0.1
// port): an image pushed with `skopeo copy` is pulled into a fresh store with the pushed digests and
// runs; Basic auth through ~/.docker/config.json; a blob whose bytes do not match its digest (served
// by a corrupting proxy in front of the registry) is refused and leaves nothing behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hostPlatform, ImageStore, MediaType, saveArchive } from '../../src/image/index.ts';
import { layerOf, sha256 } from '../helpers/archive.ts';
import { importBusybox, removeBridges, SKIFF } from '../helpers/engine.ts';
import { freePort, htpasswdLine, startRegistry, startTokenIssuer } from '../helpers/registry.ts';

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

type After = { after: (fn: () => void | Promise<void>) => void };

/** A fresh, empty engine root; its containers and files are removed after the test. */
function freshRoot(t: After) {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-pull-'));
  const env = { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: path.join(root, 'run') };
  // Asynchronous: the corrupting proxy below runs in this process and must keep serving meanwhile.
  const skiff = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn(SKIFF, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  t.after(async () => {
    const ids = (await skiff(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await skiff(['rm', '-f', ...ids]);
    removeBridges(root);
    rmSync(root, { recursive: true, force: true });
  });
  return { root, skiff };
}

/** busybox-static (the engine tests' image) as a docker-archive, with its config (image ID) digest. */
async function busyboxArchive(t: After): Promise<{ archive: string; id: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-pull-src-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'root');
  await importBusybox(root);
  const store = await ImageStore.open({ root });
  try {
    const archive = path.join(dir, 'busybox.tar');
    await saveArchive(store, ['busybox:latest'], 'docker-archive', archive);
    return { archive, id: store.resolve('busybox:latest').id };
  } finally {
    store.close();
  }
}

/** Pushes with skopeo (asynchronously: the token issuer of a test serves from this process). */
async function skopeoCopy(archive: string, dest: string, creds?: string): Promise<void> {
  const args = ['copy', '-q', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : [])];
  const child = spawn('skopeo', [...args, `docker-archive:${archive}`, `docker://${dest}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
}

/** The manifest digest the registry holds for ref (what `skopeo inspect --raw` hashes to). */
function manifestDigest(ref: string): string {
  const r = spawnSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
  assert.equal(r.status, 0, r.stderr.toString());
  return `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`;
}

test('skiff pull from an anonymous registry', async (t) => {
  const registry = await startRegistry(t);
  const { archive, id } = await busyboxArchive(t);
  const ref = `${registry.host}/busybox:1`;
  await skopeoCopy(archive, ref);
  const digest = manifestDigest(ref);
  const { skiff, root } = freshRoot(t);

  await t.test('pulls into an empty store with docker’s lines and the pushed digests', async () => {
    const r = await skiff(['pull', ref]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], '1: Pulling from busybox');
    assert.ok(
      lines.some((l) => /^[0-9a-f]{12}: Pull complete$/.test(l)),
      r.stdout,
    );
    assert.ok(lines.includes(`Digest: ${digest}`), r.stdout);
    assert.ok(lines.includes(`Status: Downloaded newer image for ${ref}`), r.stdout);
    assert.equal(lines.at(-2), ref);
    const inspect = await skiff(['image', 'inspect', '-f', '{{.Id}} {{index .RepoDigests 0}}', ref]);
    assert.equal(inspect.stdout.trim(), `${id} ${registry.host}/busybox@${digest}`);
    assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'no ingest left behind');
  });

  await t.test('the pulled image runs', async () => {
    const r = await skiff(['run', '--rm', ref, 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });

  await t.test('a second pull is up to date; -q prints only the reference', async () => {
    const r = await skiff(['pull', ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `1: Pulling from busybox\nDigest: ${digest}\nStatus: Image is up to date for ${ref}\n${ref}\n`,
    );
    const q = await skiff(['pull', '-q', ref]);
    assert.equal(q.stdout, `${ref}\n`);
  });

  await t.test('pull by digest', async () => {
    const byDigest = `${registry.host}/busybox@${digest}`;
    const r = await skiff(['pull', byDigest]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${digest}: Pulling from busybox$`, 'm'));
    assert.equal(r.stdout.split('\n').at(-2), byDigest);
  });

  await t.test('an unknown tag: manifest unknown, exit 1', async () => {
    const r = await skiff(['pull', `${registry.host}/busybox:nope`]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`manifest for ${registry.host}/busybox:nope not found: manifest unknown`),
    );
  });

  await t.test('a registry that is not there is named', async () => {
    const port = await freePort();
    const r = await skiff(['pull', `127.0.0.1:${port}/busybox:1`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`registry 127\\.0\\.0\\.1:${port}: .*connection refused`));
  });

  await t.test('run --pull missing pulls an image not yet local; --pull never does not', async () => {
    const other = freshRoot(t);
    const never = await other.skiff(['run', '--rm', '--pull', 'never', ref, 'echo', 'ok']);
    assert.equal(never.status, 125);
    assert.match(never.stderr, /No such image/);
    const r = await other.skiff(['run', '--rm', '--pull', 'missing', ref, 'echo', 'ok']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${ref}' locally\n1: Pulling from busybox\n`));
    assert.match(r.stderr, new RegExp(`Status: Downloaded newer image for ${ref}\n`));
    const again = await other.skiff(['run', '--rm', ref, 'echo', 'ok']);
    assert.equal(again.stderr, '', 'a local image is not pulled again');
  });
});

test('skiff pull from a registry with htpasswd Basic auth, credentials from the docker config', async (t) => {
  const line = htpasswdLine('skiff', 's3cret');
  if (!line) {
    t.skip('no bcrypt hasher here (python3 crypt with METHOD_BLOWFISH); Basic auth is untested');
    return;
  }
  const registry = await startRegistry(t, { htpasswd: line });
  const { archive } = await busyboxArchive(t);
  const ref = `${registry.host}/private/busybox:1`;
  await skopeoCopy(archive, ref, 'skiff:s3cret');
  const { skiff } = freshRoot(t);
  const dockerConfig = mkdtempSync(path.join(tmpdir(), 'skiff-dockercfg-'));
  t.after(() => rmSync(dockerConfig, { recursive: true, force: true }));
  const writeAuth = (user: string, password: string) =>
    writeFileSync(
      path.join(dockerConfig, 'config.json'),
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } },
      }),
    );

  const anonymous = await skiff(['pull', ref], { DOCKER_CONFIG: dockerConfig });
  assert.equal(anonymous.status, 1);
  assert.match(anonymous.stderr, /unauthorized: .*requires credentials/);

  writeAuth('skiff', 'wrong');
  const wrong = await skiff(['pull', ref], { DOCKER_CONFIG: dockerConfig });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /unauthorized: /);

  writeAuth('skiff', 's3cret');
  const r = await skiff(['pull', ref], { DOCKER_CONFIG: dockerConfig });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Status: Downloaded newer image for /);
  const run = await skiff(['run', '--rm', ref, 'echo', 'ok'], { DOCKER_CONFIG: dockerConfig });
  assert.equal(run.stdout, 'ok\n', run.stderr);
});

test('a blob whose bytes do not match its digest is refused, and nothing is committed', async (t) => {
  const registry = await startRegistry(t);
  const { archive } = await busyboxArchive(t);
  await skopeoCopy(archive, `${registry.host}/busybox:1`);
  // A proxy that forwards everything but flips one byte of every layer blob (same length).
  const proxy = createServer((req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        const corrupt = /\/blobs\/sha256:/.test(req.url ?? '') && Number(up.headers['content-length']) > 4096;
        res.writeHead(up.statusCode ?? 502, up.headers);
        let first = true;
        up.on('data', (chunk: Buffer) => {
          if (corrupt && first && chunk.length > 100) {
            chunk[100] = (chunk[100] ?? 0) ^ 0xff;
            first = false;
          }
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { skiff, root } = freshRoot(t);

  const ref = `127.0.0.1:${port}/busybox:1`;
  const r = await skiff(['pull', ref]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /filesystem layer verification failed for digest sha256:[0-9a-f]{64}: .*content has digest/,
  );
  const images = await skiff(['images', '-q']);
  assert.equal(images.stdout, '', 'no image recorded');
  const layer = /digest (sha256:[0-9a-f]{64})/.exec(r.stderr)![1]!;
  assert.equal(
    existsSync(path.join(root, 'blobs', 'sha256', layer.slice(7))),
    false,
    'the bad blob is not committed',
  );
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'no ingest left behind');
  // No manifest either: what is in the store is at most the (verified) config.
  assert.ok(readdirSync(path.join(root, 'blobs', 'sha256')).length <= 1);
});

test('skiff pull from a registry behind Bearer token auth (a token issuer in the test)', async (t) => {
  const issuer = await startTokenIssuer(t, 'skiff', 's3cret');
  if (!issuer) {
    t.skip('openssl cannot make a key and certificate here; Bearer auth is untested');
    return;
  }
  const registry = await startRegistry(t, { token: issuer });
  const { archive } = await busyboxArchive(t);
  const ref = `${registry.host}/tokens/busybox:1`;
  await skopeoCopy(archive, ref, 'skiff:s3cret');
  const { skiff } = freshRoot(t);
  const dockerConfig = mkdtempSync(path.join(tmpdir(), 'skiff-dockercfg-'));
  t.after(() => rmSync(dockerConfig, { recursive: true, force: true }));

  issuer.requests.length = 0;
  const anonymous = await skiff(['pull', ref], { DOCKER_CONFIG: dockerConfig });
  assert.equal(anonymous.status, 1);
  assert.match(anonymous.stderr, /unauthorized: /);
  assert.deepEqual(issuer.requests, ['anonymous repository:tokens/busybox:pull']);

  writeFileSync(
    path.join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('skiff:s3cret').toString('base64') } } }),
  );
  issuer.requests.length = 0;
  const r = await skiff(['pull', ref], { DOCKER_CONFIG: dockerConfig });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Status: Downloaded newer image for /);
  assert.deepEqual(issuer.requests, ['basic repository:tokens/busybox:pull'], 'one token for the whole pull');
  const run = await skiff(['run', '--rm', ref, 'echo', 'ok']);
  assert.equal(run.stdout, 'ok\n', run.stderr);
});

/** A monolithic blob upload (POST then PUT ?digest=), as the distribution spec describes it. */
async function pushBlob(host: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

async function pushManifest(host: string, repo: string, tag: string, mediaType: string, bytes: Buffer) {
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': mediaType },
  });
  assert.equal(put.status, 201, await put.text());
}

test('a multi-platform index: the host’s entry by default, another by --platform, none that fits', async (t) => {
  const registry = await startRegistry(t);
  const { archive, id } = await busyboxArchive(t);
  await skopeoCopy(archive, `${registry.host}/multi:host`);
  const hostManifest = await fetch(`http://${registry.host}/v2/multi/manifests/host`, {
    headers: { accept: MediaType.dockerManifest },
  });
  const hostBytes = Buffer.from(await hostManifest.arrayBuffer());
  // A second platform: one small layer, a config for linux/s390x.
  const layer = await layerOf({ 'etc/other': 'the s390x image\n' });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 's390x',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const configDigest = await pushBlob(registry.host, 'multi', config);
  await pushBlob(registry.host, 'multi', layer);
  const other = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length },
      ],
    }),
  );
  await pushManifest(registry.host, 'multi', 's390x', MediaType.ociManifest, other);
  const host = hostPlatform();
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: sha256(other),
          size: other.length,
          platform: { os: 'linux', architecture: 's390x' },
        },
        {
          mediaType: MediaType.dockerManifest,
          digest: sha256(hostBytes),
          size: hostBytes.length,
          platform: host,
        },
      ],
    }),
  );
  await pushManifest(registry.host, 'multi', '2', MediaType.ociIndex, index);
  const ref = `${registry.host}/multi:2`;

  const { skiff } = freshRoot(t);
  const r = await skiff(['pull', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`Digest: ${sha256(index)}\n`), r.stdout);
  const inspect = await skiff(['image', 'inspect', '-f', '{{.Id}} {{.Architecture}}', ref]);
  assert.equal(inspect.stdout.trim(), `${id} ${host.architecture}`);
  const run = await skiff(['run', '--rm', ref, 'echo', 'ok']);
  assert.equal(run.stdout, 'ok\n', run.stderr);

  const s390x = freshRoot(t);
  const p = await s390x.skiff(['pull', '--platform', 'linux/s390x', ref]);
  assert.equal(p.status, 0, p.stderr);
  const inspected = await s390x.skiff(['image', 'inspect', '-f', '{{.Id}} {{.Architecture}}', ref]);
  assert.equal(inspected.stdout.trim(), `${configDigest} s390x`);

  const none = await skiff(['pull', '--platform', 'linux/mips64le', ref]);
  assert.equal(none.status, 1);
  assert.match(
    none.stderr,
    /no manifest for platform linux\/mips64le \(the index offers: linux\/s390x, linux\//,
  );
});

test('blob downloads follow a registry’s redirect to another origin', async (t) => {
  const registry = await startRegistry(t);
  const { archive, id } = await busyboxArchive(t);
  await skopeoCopy(archive, `${registry.host}/busybox:1`);
  // In front of the registry: blob GETs are sent elsewhere (here: the registry's own port, another origin).
  const redirected: string[] = [];
  const proxy = createServer((req, res) => {
    if (/\/blobs\/sha256:/.test(req.url ?? '')) {
      redirected.push(req.url ?? '');
      res.writeHead(307, { location: `http://${registry.host}${req.url}` });
      res.end();
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { skiff } = freshRoot(t);
  const ref = `127.0.0.1:${port}/busybox:1`;
  const r = await skiff(['pull', ref]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(redirected.length, 2, 'config and layer were redirected');
  const inspect = await skiff(['image', 'inspect', '-f', '{{.Id}}', ref]);
  assert.equal(inspect.stdout.trim(), id);
});
