import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  type Migration,
  migrate,
  openDatabase,
  SkiffError,
  schemaVersion,
} from '../../../src/common/index.ts';
import { runNodeScript } from '../../helpers/host.ts';

const COMMON = pathToFileURL(path.resolve(import.meta.dirname, '../../../src/common/index.ts')).href;

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'skiff.db');
}

const V1: Migration = {
  description: 'widgets',
  up: 'CREATE TABLE widgets (id INTEGER PRIMARY KEY, name TEXT) STRICT',
};
const V2: Migration = { description: 'widget color', up: 'ALTER TABLE widgets ADD COLUMN color TEXT' };

test('a database opens in WAL mode with foreign keys and a busy timeout', (t) => {
  const db = openDatabase(tempDb(t), { busyTimeoutMs: 1234 });
  t.after(() => db.close());
  assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
  assert.equal(db.prepare('PRAGMA foreign_keys').get()?.foreign_keys, 1);
  assert.equal(db.prepare('PRAGMA busy_timeout').get()?.timeout, 1234);
});

test('migrations apply in order, once, and are recorded per owner', (t) => {
  const file = tempDb(t);
  const db = openDatabase(file);
  t.after(() => db.close());
  assert.deepEqual(migrate(db, 'widgets', [V1]), [1]);
  assert.deepEqual(migrate(db, 'widgets', [V1, V2]), [2]);
  assert.deepEqual(migrate(db, 'widgets', [V1, V2]), []);
  assert.deepEqual(migrate(db, 'other', [{ description: 'x', up: 'CREATE TABLE x (a)' }]), [1]);
  const rows = db
    .prepare('SELECT owner, version, description, applied_at FROM schema_migrations ORDER BY owner, version')
    .all();
  assert.deepEqual(
    rows.map((r) => [r.owner, r.version, r.description]),
    [
      ['other', 1, 'x'],
      ['widgets', 1, 'widgets'],
      ['widgets', 2, 'widget color'],
    ],
  );
  assert.ok(rows.every((r) => !Number.isNaN(Date.parse(String(r.applied_at)))));
  db.prepare('INSERT INTO widgets (name, color) VALUES (?, ?)').run('a', 'red');
});

test('a failing migration is rolled back whole and reported with owner, version and description', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  const bad: Migration = { description: 'half', up: 'CREATE TABLE half (a); CREATE TABLE half (b);' };
  assert.throws(
    () => migrate(db, 'widgets', [V1, bad]),
    (err: unknown) =>
      err instanceof SkiffError && /migration widgets 2 \(half\): .*already exists/.test(err.message),
  );
  assert.equal(schemaVersion(db, 'widgets'), 1);
  assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half'").get()?.n, 0);
});

test('a database newer than the code is refused, naming both versions', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  migrate(db, 'widgets', [V1, V2]);
  assert.throws(
    () => migrate(db, 'widgets', [V1]),
    (err: unknown) =>
      err instanceof SkiffError &&
      err.kind === 'FailedPrecondition' &&
      /version 2, newer .* \(1\)/.test(err.message),
  );
});

test('processes migrating at once apply each migration exactly once', async (t) => {
  const file = tempDb(t);
  const script = `
    import { migrate, openDatabase } from ${JSON.stringify(COMMON)};
    const db = openDatabase(${JSON.stringify(file)});
    const slow = (table) => ({ description: table, up: (d) => { d.exec('CREATE TABLE ' + table + ' (a)');
      const end = Date.now() + 50; while (Date.now() < end); } });
    console.log(JSON.stringify(migrate(db, 'race', [slow('a'), slow('b'), slow('c')])));
    db.close();`;
  // allSettled: every child has exited before the directory is removed, even when one fails.
  const results = await Promise.allSettled([
    runNodeScript(script),
    runNodeScript(script),
    runNodeScript(script),
  ]);
  const applied = results.flatMap((r): unknown[] =>
    r.status === 'fulfilled' ? (JSON.parse(r.value) as number[]) : [String(r.reason)],
  );
  applied.sort();
  assert.deepEqual(applied, [1, 2, 3]);
});

test('a writer waits for another process that holds the write lock instead of failing', async (t) => {
  const file = tempDb(t);
  const db = openDatabase(file);
  t.after(() => db.close());
  migrate(db, 'widgets', [V1]);
  db.exec('BEGIN IMMEDIATE');
  db.prepare('INSERT INTO widgets (name) VALUES (?)').run('first');
  const writer = runNodeScript(`
    import { openDatabase } from ${JSON.stringify(COMMON)};
    const db = openDatabase(${JSON.stringify(file)});
    db.prepare('INSERT INTO widgets (name) VALUES (?)').run('second');
    console.log('done'); db.close();`);
  // Hold the lock while the other process starts and blocks on it, then release it.
  await new Promise((resolve) => setTimeout(resolve, 400));
  db.exec('COMMIT');
  assert.equal((await writer).trim(), 'done');
  const names = db
    .prepare('SELECT name FROM widgets ORDER BY id')
    .all()
    .map((r) => r.name);
  assert.deepEqual(names, ['first', 'second']);
});
