import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { SkiffError } from '../../../../src/common/index.ts';
import { ContentStore, digestOf } from '../../../../src/image/index.ts';

const IMAGE = pathToFileURL(path.resolve(import.meta.dirname, '../../../../src/image/index.ts')).href;

async function tempStore(t: { after: (fn: () => void) => void }): Promise<ContentStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-content-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ContentStore(dir);
  await store.init();
  return store;
}

async function* chunks(data: Buffer, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part);
  return Buffer.concat(parts);
}

const isKind = (kind: string, pattern: RegExp) => (err: unknown) =>
  err instanceof SkiffError && err.kind === kind && pattern.test(err.message);

function ingestLeftovers(store: ContentStore): string[] {
  return readdirSync(path.join(store.root, 'ingest'));
}

test('the root is an OCI image layout and a blob lands at blobs/<alg>/<hex>, read-only', async (t) => {
  const store = await tempStore(t);
  assert.deepEqual(JSON.parse(readFileSync(path.join(store.root, 'oci-layout'), 'utf8')), {
    imageLayoutVersion: '1.0.0',
  });
  const data = randomBytes(100_000);
  const digest = digestOf(data);
  assert.deepEqual(await store.ingest(chunks(data), { digest, size: data.length }), {
    digest,
    size: data.length,
  });
  const file = path.join(store.root, 'blobs', 'sha256', digest.slice(7));
  assert.deepEqual(readFileSync(file), data);
  assert.equal(statSync(file).mode & 0o777, 0o444);
  assert.deepEqual(await readAll(await store.read(digest)), data);
  assert.deepEqual(await store.readBytes(digest), data);
  assert.deepEqual(await store.stat(digest), { digest, size: data.length });
  assert.equal(await store.exists(digest), true);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('sha512 blobs are accepted', async (t) => {
  const store = await tempStore(t);
  const digest = digestOf('hello', 'sha512');
  await store.put('hello', digest);
  assert.equal((await store.readBytes(digest)).toString(), 'hello');
  assert.ok(statSync(path.join(store.root, 'blobs', 'sha512', digest.slice(7))).isFile());
});

test('a digest mismatch is refused and leaves nothing behind', async (t) => {
  const store = await tempStore(t);
  const wrong = digestOf('other');
  await assert.rejects(
    store.put('hello', wrong),
    isKind('InvalidArgument', /content has digest sha256:2cf24dba/),
  );
  assert.equal(await store.exists(wrong), false);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('more bytes than expected are refused as they arrive; fewer are refused at the end', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(10_000);
  const digest = digestOf(data);
  let pulled = 0;
  async function* counting() {
    for await (const c of chunks(data)) {
      pulled += c.length;
      yield c;
    }
  }
  await assert.rejects(
    store.ingest(counting(), { digest, size: 2500 }),
    isKind('InvalidArgument', /more than the expected 2500 bytes/),
  );
  assert.ok(pulled <= 3000, `stopped reading early (read ${pulled})`);
  await assert.rejects(
    store.ingest(chunks(data.subarray(0, 5000)), { digest, size: data.length }),
    isKind('InvalidArgument', /size 5000 bytes, expected 10000/),
  );
  await assert.rejects(
    store.ingest(chunks(data), { digest, maxSize: 4096 }),
    /more than the allowed 4096 bytes/,
  );
  assert.equal(await store.exists(digest), false);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('a failing source leaves nothing behind', async (t) => {
  const store = await tempStore(t);
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('part');
    throw new Error('connection reset');
  }
  await assert.rejects(store.ingest(broken(), { digest: digestOf('partial') }), /connection reset/);
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('missing blobs are NotFound; invalid digests never become paths', async (t) => {
  const store = await tempStore(t);
  const digest = digestOf('absent');
  await assert.rejects(store.stat(digest), isKind('NotFound', /blob sha256:.* not found/));
  await assert.rejects(store.read(digest), isKind('NotFound', /not found/));
  assert.equal(await store.delete(digest), false);
  assert.throws(() => store.blobPath('sha256:../../etc/passwd'), isKind('InvalidArgument', /digest/));
});

test('list walks every blob; delete removes one', async (t) => {
  const store = await tempStore(t);
  const digests = [];
  for (const s of ['a', 'b', 'c']) digests.push((await store.put(s, digestOf(s))).digest);
  const d512 = (await store.put('d', digestOf('d', 'sha512'))).digest;
  const listed = (await store.list()).map((b) => b.digest);
  assert.deepEqual(listed, [...digests.sort(), d512]);
  assert.equal(await store.delete(digests[0]!), true);
  assert.equal(await store.exists(digests[0]!), false);
  assert.equal((await store.list()).length, 3);
});

test('concurrent writers of one blob in one process: all succeed, one intact copy', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(2_000_000);
  const digest = digestOf(data);
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) =>
      store.ingest(chunks(data, 1000 + i * 7919), { digest, size: data.length }),
    ),
  );
  assert.ok(
    results.every(
      (r) => r.status === 'fulfilled' && r.value.digest === digest && r.value.size === data.length,
    ),
  );
  assert.deepEqual(readFileSync(store.blobPath(digest)), data);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('a corrupt writer racing good ones never reaches the blob', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(500_000);
  const digest = digestOf(data);
  const bad = Buffer.from(data);
  bad[bad.length - 1]! ^= 0xff;
  const outcomes = await Promise.allSettled([
    store.ingest(chunks(bad, 777), { digest, size: data.length }),
    store.ingest(chunks(data, 1111), { digest, size: data.length }),
    store.ingest(chunks(bad, 999), { digest, size: data.length }),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'fulfilled', 'rejected'],
  );
  assert.deepEqual(readFileSync(store.blobPath(digest)), data);
});

test('concurrent writers of one blob in several processes: one intact copy', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(3_000_000);
  const digest = digestOf(data);
  const source = path.join(store.root, 'source.bin');
  await import('node:fs/promises').then((fs) => fs.writeFile(source, data));
  const script = `
    import { createReadStream } from 'node:fs';
    import { ContentStore } from ${JSON.stringify(IMAGE)};
    const store = new ContentStore(${JSON.stringify(store.root)});
    await store.init();
    const r = await store.ingest(createReadStream(${JSON.stringify(source)}, { highWaterMark: 4096 }),
      { digest: ${JSON.stringify(digest)}, size: ${data.length} });
    console.log(r.digest);`;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.on('close', (code) =>
        code === 0 ? resolve(out.trim()) : reject(new Error(`writer exited ${code}`)),
      );
    });
  // allSettled: every writer has exited before the store is removed, even when one fails.
  const outputs = await Promise.allSettled([run(), run(), run(), run()]);
  assert.deepEqual(
    outputs.map((o) => (o.status === 'fulfilled' ? o.value : String(o.reason))),
    [digest, digest, digest, digest],
  );
  assert.deepEqual(readFileSync(store.blobPath(digest)), data);
  assert.deepEqual(ingestLeftovers(store), []);
});

test('pruneIngests removes the temporary files of dead writers only', async (t) => {
  const store = await tempStore(t);
  const dir = path.join(store.root, 'ingest');
  writeFileSync(path.join(dir, 'stale'), 'x');
  writeFileSync(path.join(dir, 'fresh'), 'y');
  const old = new Date(Date.now() - 2 * 3600_000);
  utimesSync(path.join(dir, 'stale'), old, old);
  assert.deepEqual(await store.pruneIngests(3600_000), ['stale']);
  assert.deepEqual(readdirSync(dir), ['fresh']);
});

test('readBytes refuses a blob larger than its limit (manifests and configs are small)', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(5000);
  const { digest } = await store.put(data, digestOf(data));
  await assert.rejects(
    store.readBytes(digest, 4096),
    isKind('FailedPrecondition', /5000 bytes, more than the 4096 allowed/),
  );
  assert.equal((await store.readBytes(digest, 5000)).length, 5000);
});
