import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import { ContentStore, digestOf } from '../../../../src/image/index.ts';

async function tempStore(t: { after: (fn: () => void) => void }): Promise<ContentStore> {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-resumable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new ContentStore(dir);
  await store.init();
  return store;
}

const ingestDir = (store: ContentStore) => readdirSync(path.join(store.root, 'ingest'));
const isKind = (kind: string, pattern: RegExp) => (err: unknown) =>
  err instanceof SkiffError && err.kind === kind && pattern.test(err.message);

test('a partial kept at close is resumed by the next ingest of that blob, then verified and committed', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(100_000);
  const digest = digestOf(data);
  const first = await store.openResumable({ digest, size: data.length });
  assert.equal(first.offset, 0);
  await first.append([data.subarray(0, 30_000), data.subarray(30_000, 40_000)]);
  assert.equal(first.offset, 40_000);
  await first.close(true);
  const [name] = ingestDir(store);
  assert.match(name!, new RegExp(`^sha256-${digest.slice(7)}\\.${process.pid}-\\d+-\\d+\\.partial$`));
  assert.equal(await store.exists(digest), false, 'nothing visible under the digest');

  const second = await store.openResumable({ digest, size: data.length });
  assert.equal(second.offset, 40_000);
  assert.equal(second.resumedFrom, 40_000);
  await second.append([data.subarray(40_000)]);
  await second.commit();
  await second.close(false);
  assert.deepEqual(readFileSync(store.blobPath(digest)), data);
  assert.equal(statSync(store.blobPath(digest)).mode & 0o777, 0o444);
  assert.deepEqual(ingestDir(store), []);
});

test('a digest mismatch is refused at commit and nothing is committed; too many bytes are refused', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(5000);
  const digest = digestOf(data);
  const bad = Buffer.from(data);
  bad[10] = (bad[10] ?? 0) ^ 1;
  const ingest = await store.openResumable({ digest, size: data.length });
  await ingest.append([bad]);
  await assert.rejects(ingest.commit(), isKind('InvalidArgument', /content has digest/));
  await ingest.close(false);
  assert.equal(await store.exists(digest), false);
  assert.deepEqual(ingestDir(store), []);

  const more = await store.openResumable({ digest, size: data.length });
  await assert.rejects(
    more.append([data, Buffer.from('x')]),
    isKind('InvalidArgument', /more than the expected 5000/),
  );
  await assert.rejects(
    (async () => {
      await more.reset();
      await more.append([data.subarray(0, 10)]);
      await more.commit();
    })(),
    isKind('InvalidArgument', /size 10 bytes, expected 5000 \(truncated\)/),
  );
  await more.reset();
  await more.append([data]);
  await more.commit();
  await more.close(false);
  assert.deepEqual(readFileSync(store.blobPath(digest)), data);
});

test('a partial held by a live process or an open ingest is not claimed; a dead one is', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(10_000);
  const digest = digestOf(data);
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  const theirs = path.join(store.root, 'ingest', `sha256-${digest.slice(7)}.${holder.pid}-1-1.partial`);
  writeFileSync(theirs, data.subarray(0, 4000));

  const mine = await store.openResumable({ digest, size: data.length });
  assert.equal(mine.offset, 0, 'the live process keeps its partial');
  await mine.append([data.subarray(0, 1000)]);
  const beside = await store.openResumable({ digest, size: data.length });
  assert.equal(beside.offset, 0, 'an open ingest of this process is not taken either');
  await beside.close(false);
  await mine.close(true);

  const exited = new Promise((resolve) => holder.on('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const resumed = await store.openResumable({ digest, size: data.length });
  assert.equal(resumed.offset, 4000, 'the largest partial of a dead process is claimed');
  assert.equal(ingestDir(store).length, 1, 'the smaller one is dropped');
  await resumed.append([data.subarray(4000)]);
  await resumed.commit();
  await resumed.close(false);
  assert.deepEqual(ingestDir(store), []);
});

test('a partial longer than the blob is dropped; stale partials go with pruneIngests', async (t) => {
  const store = await tempStore(t);
  const data = randomBytes(1000);
  const digest = digestOf(data);
  const dir = path.join(store.root, 'ingest');
  writeFileSync(path.join(dir, `sha256-${digest.slice(7)}.999999999-1-1.partial`), randomBytes(2000));
  const ingest = await store.openResumable({ digest, size: data.length });
  assert.equal(ingest.offset, 0);
  await ingest.append([data.subarray(0, 500)]);
  await ingest.close(true);

  const stale = path.join(dir, `sha256-${'a'.repeat(64)}.999999999-1-1.partial`);
  writeFileSync(stale, 'old');
  const old = new Date(Date.now() - 2 * 3600_000);
  utimesSync(stale, old, old);
  const removed = await store.pruneIngests(3600_000);
  assert.deepEqual(removed, [path.basename(stale)]);
  assert.equal(ingestDir(store).length, 1, 'the fresh partial stays');
});
