/**
 * skiff's SQLite database (`$SKIFF_ROOT/skiff.db`) and the migration runner that every layer uses for
 * its own tables. The database is shared by every skiff process on the host (CLI invocations, the API
 * server), so it runs in WAL mode (readers never block the writer) with a busy timeout: a second
 * process waits for the write lock instead of failing with SQLITE_BUSY.
 *
 * Migrations: each owner (a layer: 'image', 'engine', …) passes its ordered list; version n is the
 * n-th entry. Applied versions are recorded in `schema_migrations (owner, version, applied_at)`. Each
 * migration runs in its own write transaction that re-reads the recorded version first, so two
 * processes starting at once apply each migration exactly once. A database whose recorded version is
 * newer than the code's list was written by a newer skiff; it is refused rather than misread.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { failedPrecondition, invalidArgument, runtimeFailure } from './errors.ts';

export type Database = DatabaseSync;

export interface Migration {
  /** One line for the record and for errors: 'images, manifests, tags'. */
  readonly description: string;
  /** SQL (may hold several statements) or a function given the open connection. */
  readonly up: string | ((db: Database) => void);
}

export interface OpenOptions {
  /** How long a statement waits for another process's lock before failing; default 30 s. */
  readonly busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

/** Opens (creating if needed) a database file with WAL, foreign keys and a busy timeout. */
export function openDatabase(file: string, options: OpenOptions = {}): Database {
  mkdirSync(path.dirname(file), { recursive: true });
  let db: Database;
  try {
    db = new DatabaseSync(file, {
      enableForeignKeyConstraints: true,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (err) {
    throw runtimeFailure(`open database \`${file}\`: ${(err as Error).message}`, err);
  }
  // WAL persists in the file; setting it again is a no-op. NORMAL is durable across process crashes
  // and loses at most the last transactions on power loss, as SQLite documents for WAL.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  return db;
}

/**
 * Runs fn in a write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so a concurrent
 * writer waits on the busy timeout here instead of failing at its first write). Rolls back on throw.
 */
export function inTransaction<T>(db: Database, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  owner TEXT NOT NULL,
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL,
  PRIMARY KEY (owner, version)
) STRICT`;

/** The highest migration version of owner recorded in db (0 when none). */
export function schemaVersion(db: Database, owner: string): number {
  db.exec(MIGRATIONS_TABLE);
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations WHERE owner = ?').get(owner);
  return Number(row?.v ?? 0);
}

/**
 * Brings owner's tables up to date: applies every migration after the recorded version, each in its own
 * transaction. Returns the versions applied now (empty when already current).
 */
export function migrate(db: Database, owner: string, migrations: readonly Migration[]): number[] {
  if (!/^[a-z][a-z0-9_-]*$/.test(owner))
    throw invalidArgument(`migration owner \`${owner}\`: not a simple name`);
  checkNotNewer(db, owner, migrations);
  const applied: number[] = [];
  for (;;) {
    const version = inTransaction(db, () => applyNext(db, owner, migrations));
    if (version === undefined) return applied;
    applied.push(version);
  }
}

/**
 * Applies the migration after the recorded version, read inside the transaction so that a migration
 * another process applied while we waited for the lock is not applied twice. Returns its version, or
 * undefined when the schema is current.
 */
function applyNext(db: Database, owner: string, migrations: readonly Migration[]): number | undefined {
  const version = schemaVersion(db, owner) + 1;
  const migration = migrations[version - 1];
  if (!migration) return undefined;
  try {
    if (typeof migration.up === 'string') db.exec(migration.up);
    else migration.up(db);
  } catch (err) {
    throw runtimeFailure(
      `migration ${owner} ${version} (${migration.description}): ${(err as Error).message}`,
      err,
    );
  }
  db.prepare(
    'INSERT INTO schema_migrations (owner, version, description, applied_at) VALUES (?, ?, ?, ?)',
  ).run(owner, version, migration.description, new Date().toISOString());
  return version;
}

function checkNotNewer(db: Database, owner: string, migrations: readonly Migration[]): void {
  const current = schemaVersion(db, owner);
  if (current > migrations.length)
    throw failedPrecondition(
      `database schema of \`${owner}\` is at version ${current}, newer than this skiff knows ` +
        `(${migrations.length}): it was written by a newer skiff; upgrade skiff or use another SKIFF_ROOT`,
    );
}
