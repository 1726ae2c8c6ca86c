// `skiff pull` unpacks layers as they download, against a real registry (Debian's docker-registry on
// a free 127.0.0.1 port; images pushed with the distribution API): the layer directories exist after
// the pull, before any run; docker's per-layer statuses in plain, JSON-lines and terminal form; a
// layer the store has is "Already exists" and not downloaded again; a layer whose content does not
// match the config's diffID is refused and leaves no layer dir, no temporary dir, no blob, no image.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { chainIds, MediaType } from '../../src/image/index.ts';
import { configFor, layerOf, sha256 } from '../helpers/archive.ts';
import { type EngineEnv, SKIFF, terminalSession } from '../helpers/engine.ts';
import { startRegistry } from '../helpers/registry.ts';
import { makeRootfs } from '../helpers/rootfs.ts';

interface Result {
  status: number;
  stdout: string;
  stderr: string;
}

type After = { after: (fn: () => void | Promise<void>) => void };

/** A fresh, empty engine root, removed after the test; skiff runs asynchronously (a proxy may serve). */
function freshRoot(t: After) {
  // Short: the monitor's sockets live under the runroot (a unix socket path has 107 bytes).
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-pu-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SKIFF_ROOT: root, SKIFF_RUNROOT: path.join(root, 'run') };
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
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return { root, env, skiff };
}

/** A monolithic blob upload (POST, then PUT ?digest=). */
async function pushBlob(host: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

interface Pushed {
  ref: string;
  /** Short IDs (12 hex of the blob digest) of the layers, bottom to top. */
  ids: string[];
  chainIds: string[];
  blobs: string[];
}

/** Pushes an image of gzip layers; diffIds overrides the config's (default: the tars' digests). */
async function pushImage(
  host: string,
  repo: string,
  tag: string,
  tars: Buffer[],
  diffIds?: string[],
): Promise<Pushed> {
  const gz = tars.map((l) => gzipSync(l));
  const config = JSON.parse(configFor(tars, ['sh']).toString()) as { rootfs: { diff_ids: string[] } };
  if (diffIds) config.rootfs.diff_ids = diffIds;
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await pushBlob(host, repo, configBytes);
  const blobs = [];
  for (const layer of gz) blobs.push(await pushBlob(host, repo, layer));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: configBytes.length },
      layers: gz.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: sha256(l),
        size: l.length,
      })),
    }),
  );
  const put = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': MediaType.ociManifest },
  });
  assert.equal(put.status, 201, await put.text());
  return {
    ref: `${host}/${repo}:${tag}`,
    ids: blobs.map((b) => b.slice(7, 19)),
    chainIds: chainIds(config.rootfs.diff_ids),
    blobs,
  };
}

/** The busybox rootfs of the tests (with /probe) as a layer tar. */
function busyboxLayer(t: After): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-pull-unpack-rootfs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makeRootfs(dir);
  const tar = spawnSync('tar', ['--numeric-owner', '-C', dir, '-cf', '-', '.'], { maxBuffer: 64 * 2 ** 20 });
  assert.equal(tar.status, 0, tar.stderr?.toString());
  return tar.stdout;
}

/** The statuses of one layer in plain output, in order. */
function statusesOf(stdout: string, id: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`${id}: `))
    .map((l) => l.slice(id.length + 2));
}

const ESC = '\x1b';

/** What a terminal shows after this output: cursor up/down, clear line, carriage return, newline. */
function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const at = (r: number) => {
    while (lines.length <= r) lines.push('');
  };
  for (let i = 0; i < output.length; i++) {
    const c = output[i]!;
    const csi = c === ESC ? /^\[(\d*)([ABK])/.exec(output.slice(i + 1, i + 12)) : null;
    if (csi) {
      const n = Number(csi[1] || '1');
      if (csi[2] === 'A') row = Math.max(0, row - n);
      else if (csi[2] === 'B') row += n;
      else lines[row] = '';
      at(row);
      i += csi[0].length;
    } else if (c === '\n') {
      row++;
      col = 0;
      at(row);
    } else if (c === '\r') col = 0;
    else {
      const line = lines[row]!.padEnd(col);
      lines[row] = line.slice(0, col) + c + line.slice(col + 1);
      col++;
    }
  }
  return lines.map((l) => l.trimEnd());
}

test('skiff pull unpacks while it downloads, with docker’s progress', async (t) => {
  const registry = await startRegistry(t);
  const base = busyboxLayer(t);
  const apps = await Promise.all(
    [1, 2, 3].map((n) => layerOf({ [`app/part${n}`]: `part ${n}\n`.repeat(1000 * n) })),
  );
  const image = await pushImage(registry.host, 'unpack/app', '1', [base, ...apps]);

  await t.test(
    'plain output: each layer’s states in docker’s order; layer dirs exist before any run',
    async () => {
      const { skiff, root } = freshRoot(t);
      const r = await skiff(['pull', image.ref]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.split('\n')[0], '1: Pulling from unpack/app');
      assert.doesNotMatch(r.stdout, /Downloading|Extracting/, 'no progress lines when not a terminal');
      image.ids.forEach((id, i) => {
        const expected = ['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Pull complete'];
        // Three layers download at once; the fourth waits.
        if (i >= 3) expected.splice(1, 0, 'Waiting');
        assert.deepEqual(statusesOf(r.stdout, id), expected, r.stdout);
      });
      for (const chainId of image.chainIds)
        assert.ok(existsSync(path.join(root, 'layers', chainId.slice(7))), `layer dir of ${chainId}`);
      assert.ok(existsSync(path.join(root, 'layers', image.chainIds[3]!.slice(7), 'app', 'part3')));
      assert.deepEqual(
        readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.')),
        [],
        'no temporary dirs left',
      );
      const run = await skiff(['run', '--rm', '--network', 'none', image.ref, 'wc', '-c', '/app/part3']);
      assert.equal(run.stdout.trim(), `${'part 3\n'.length * 3000} /app/part3`, run.stderr);
    },
  );

  await t.test('JSON lines: docker’s JSONMessage shape', async () => {
    const { skiff } = freshRoot(t);
    const r = await skiff(['pull', '--progress', 'json', image.ref]);
    assert.equal(r.status, 0, r.stderr);
    const messages = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(messages[0], { status: 'Pulling from unpack/app', id: '1' });
    assert.match(String(messages.at(-2)?.status), /^Digest: sha256:[0-9a-f]{64}$/);
    assert.deepEqual(messages.at(-1), { status: `Status: Downloaded newer image for ${image.ref}` });
    for (const m of messages.slice(1, -2)) {
      assert.ok(image.ids.includes(String(m.id)), JSON.stringify(m));
      assert.equal(typeof m.progressDetail, 'object', JSON.stringify(m));
      const keys = Object.keys(m);
      assert.ok(
        ['status,progressDetail,id', 'status,progressDetail,progress,id'].includes(keys.join(',')),
        JSON.stringify(m),
      );
    }
    const downloading = messages.filter((m) => m.status === 'Downloading');
    assert.ok(downloading.length >= image.ids.length, r.stdout);
    for (const m of downloading) {
      const detail = m.progressDetail as { current: number; total: number };
      assert.ok(detail.current > 0 && detail.current <= detail.total, JSON.stringify(m));
      assert.match(String(m.progress), /^\[=*> *\] +[0-9.]+k?M?B\/[0-9.]+k?M?B$/);
    }
    for (const id of image.ids)
      assert.equal(messages.filter((m) => m.id === id).at(-1)?.status, 'Pull complete');
  });

  await t.test('terminal: one line per layer, redrawn in place, all ending “Pull complete”', async () => {
    const { env } = freshRoot(t);
    const session = terminalSession({ env } as EngineEnv, ['pull', image.ref]);
    assert.equal(await session.exited, 0);
    // It has exited: everything it wrote is there.
    const output = await session.waitFor('Status: Downloaded newer image');
    assert.ok(output.includes(`${ESC}[1A${ESC}[2K`), 'the cursor moves up to redraw a layer');
    const shown = screen(output.replace(/\r\n/g, '\n'));
    const at = shown.indexOf('1: Pulling from unpack/app');
    assert.ok(at >= 0, shown.join('\n'));
    assert.deepEqual(
      shown.slice(at + 1, at + 1 + image.ids.length),
      image.ids.map((id) => `${id}: Pull complete`),
      shown.join('\n'),
    );
    assert.match(shown[at + 1 + image.ids.length]!, /^Digest: sha256:/);
  });

  await t.test('a second image sharing the base: “Already exists”, its blob not fetched again', async () => {
    const { skiff, root } = freshRoot(t);
    assert.equal((await skiff(['pull', '-q', image.ref])).status, 0);
    const other = await pushImage(registry.host, 'unpack/other', '1', [
      base,
      await layerOf({ 'other/file': 'other\n' }),
    ]);
    // Through a proxy that counts the blob GETs.
    const fetched: string[] = [];
    const proxy = createServer((req, res) => {
      const blob = /\/blobs\/(sha256:[0-9a-f]{64})/.exec(req.url ?? '')?.[1];
      if (blob && req.method === 'GET') fetched.push(blob);
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
    const r = await skiff(['pull', `127.0.0.1:${port}/unpack/other:1`]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(statusesOf(r.stdout, other.ids[0]!), ['Already exists']);
    assert.deepEqual(statusesOf(r.stdout, other.ids[1]!), [
      'Pulling fs layer',
      'Verifying Checksum',
      'Download complete',
      'Pull complete',
    ]);
    assert.ok(!fetched.includes(other.blobs[0]!), `the base blob was fetched: ${fetched.join(' ')}`);
    assert.ok(fetched.includes(other.blobs[1]!));
    assert.ok(existsSync(path.join(root, 'layers', other.chainIds[1]!.slice(7), 'other', 'file')));
  });
});

test('a layer whose content does not match its diffID is refused, and nothing is left', async (t) => {
  const registry = await startRegistry(t);
  const good = await layerOf({ 'etc/good': 'good\n' });
  const bad = await layerOf({ 'etc/bad': 'the config does not describe this\n' });
  const lower = await layerOf({ 'etc/lower': 'lower\n' });
  // The bad blob is whole and matches its digest; only the config's diffID disagrees.
  const image = await pushImage(
    registry.host,
    'unpack/bad',
    '1',
    [lower, bad],
    [sha256(lower), sha256(good)],
  );
  const { skiff, root } = freshRoot(t);
  const r = await skiff(['pull', image.ref]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /unpack layer sha256:[0-9a-f]{64} .*layer diffID is sha256:[0-9a-f]{64}, but the image config says/,
  );
  assert.equal((await skiff(['images', '-q'])).stdout, '', 'no image recorded');
  assert.equal(existsSync(path.join(root, 'layers', image.chainIds[1]!.slice(7))), false, 'no layer dir');
  assert.deepEqual(
    readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.')),
    [],
    'no temporary dir left',
  );
  assert.equal(
    existsSync(path.join(root, 'blobs', 'sha256', image.blobs[1]!.slice(7))),
    false,
    'the refused blob is not committed',
  );
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), [], 'no ingest left behind');
});

/** A proxy in front of the registry: blob bodies go through transform (default: unchanged). */
async function proxyTo(
  t: After,
  port: number,
  blob: (chunk: Buffer, res: import('node:http').ServerResponse) => Promise<void> | void,
): Promise<number> {
  const proxy = createServer((req, res) => {
    const upstream = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      async (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        const isBlob = /\/blobs\/sha256:/.test(req.url ?? '') && req.method === 'GET';
        for await (const chunk of up as AsyncIterable<Buffer>) {
          if (isBlob) await blob(chunk, res);
          else res.write(chunk);
        }
        res.end();
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  );
  const address = proxy.address();
  return typeof address === 'object' && address ? address.port : 0;
}

test('a corrupt download or a killed pull leaves no layer dir; the next pull cleans up and succeeds', async (t) => {
  const registry = await startRegistry(t);
  const base = busyboxLayer(t);
  const image = await pushImage(registry.host, 'unpack/kill', '1', [base]);

  await t.test('a blob whose bytes do not match its digest: no layer dir, no temporary dir', async () => {
    const port = await proxyTo(t, registry.port, (chunk, res) => {
      // Same length, one byte flipped in every large chunk (the layer's; the config is small).
      if (chunk.length > 4096) chunk[100] = (chunk[100] ?? 0) ^ 0xff;
      res.write(chunk);
    });
    const { skiff, root } = freshRoot(t);
    const r = await skiff(['pull', `127.0.0.1:${port}/unpack/kill:1`]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stderr,
      /filesystem layer verification failed for digest sha256:[0-9a-f]{64}: .*content has digest/,
    );
    assert.deepEqual(readdirSync(path.join(root, 'layers')), [], 'no layer dir, no temporary dir');
  });

  await t.test('killed midway: its temporary dir is removed by the next pull', async () => {
    // A slow registry: 16 KiB every 20 ms.
    const port = await proxyTo(t, registry.port, async (chunk, res) => {
      for (let i = 0; i < chunk.length; i += 16384) {
        res.write(chunk.subarray(i, i + 16384));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const { root, env, skiff } = freshRoot(t);
    const child: ChildProcess = spawn(SKIFF, ['pull', '-q', `127.0.0.1:${port}/unpack/kill:1`], {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const layersDir = path.join(root, 'layers');
    const temporaries = () =>
      existsSync(layersDir) ? readdirSync(layersDir).filter((n) => n.includes('.unpacking-')) : [];
    for (let i = 0; i < 200 && temporaries().length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal(temporaries().length, 1, 'the unpack started');
    child.kill('SIGKILL');
    await exited;
    assert.equal(temporaries().length, 1, 'a killed pull leaves its temporary dir');
    const r = await skiff(['pull', '-q', image.ref]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(layersDir), [image.chainIds[0]!.slice(7)]);
  });
});

test('a download cut midway, then answered whole (Range ignored): the unpack starts over', async (t) => {
  const registry = await startRegistry(t);
  const base = busyboxLayer(t);
  const image = await pushImage(registry.host, 'unpack/norange', '1', [base]);
  let cuts = 0;
  const ranges: string[] = [];
  const proxy = createServer((req, res) => {
    const isLayer = req.url?.includes(image.blobs[0]!) && req.method === 'GET';
    if (isLayer) ranges.push(req.headers.range ?? 'none');
    // A storage service that ignores Range: the whole blob again, 200.
    const headers = { ...req.headers };
    delete headers.range;
    const upstream = request(
      { host: '127.0.0.1', port: registry.port, path: req.url, method: req.method, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (isLayer && cuts === 0 && sent + chunk.length > 200_000) {
            cuts++;
            res.write(chunk.subarray(0, 200_000 - sent));
            res.socket?.destroy();
            up.destroy();
            return;
          }
          sent += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  );
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { skiff, root } = freshRoot(t);
  const r = await skiff(['pull', '-q', `127.0.0.1:${port}/unpack/norange:1`]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(cuts, 1);
  assert.equal(ranges.length, 2, ranges.join(' '));
  assert.match(ranges[1]!, /^bytes=[1-9]\d*-$/, 'the second request asked for the rest');
  assert.deepEqual(readdirSync(path.join(root, 'layers')), [image.chainIds[0]!.slice(7)]);
  const run = await skiff(['run', '--rm', '--network', 'none', `127.0.0.1:${port}/unpack/norange:1`, 'true']);
  assert.equal(run.status, 0, run.stderr);
});
