/**
 * Container records in skiff.db: one row per container, written in short transactions so that any
 * number of skiff processes can work on containers at once. Lifecycle steps on one container are
 * serialised by a lease in the row (./lock.ts), not by holding a database transaction.
 */
import {
  alreadyExists,
  type Database,
  inTransaction,
  invalidArgument,
  notFound,
} from '../../common/index.ts';
import type { ContainerConfig, HostConfig } from '../docker-types.ts';
import type { ResolvedMount } from '../mount-types.ts';

export type ContainerState = 'created' | 'running' | 'exited' | 'removing';

export interface Container {
  readonly id: string;
  readonly name: string;
  /** The reference the user gave (`busybox`), as Docker's Config.Image. */
  readonly image: string;
  /** The image's ID (config digest). */
  readonly imageId: string;
  readonly created: string;
  state: ContainerState;
  pid?: number;
  pidStartTime?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled: boolean;
  restartCount: number;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  mounts: ResolvedMount[];
  /** The last start's failure (Docker's State.Error). */
  error?: string;
  /** Frozen (docker pause): read from the freezer by the reading side (describe.ts), never stored. */
  paused?: boolean;
  /** Docker's HasBeenManuallyStopped / ExitOnNext: 0, 1 or 2 (see ./restart-policy.ts). */
  manualStop?: number;
  /** The process waiting out the restart back-off ("pid:starttime"), or 'due' (nobody waits yet). */
  restartWaiter?: string;
  /** The restart manager's last back-off in ms (0: the next one is the first). */
  restartDelayMs?: number;
}

interface Row {
  id: string;
  name: string;
  image: string;
  image_id: string;
  created: string;
  state: string;
  pid: number | null;
  pid_start_time: number | null;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  oom_killed: number;
  error: string | null;
  restart_count: number;
  config: string;
  host_config: string;
  mounts: string;
  lock_owner: string | null;
  lock_op: string | null;
  manually_stopped: number;
  restart_waiter: string | null;
  restart_delay_ms: number;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function fromRow(row: Row): Container {
  return {
    id: row.id,
    name: row.name,
    image: row.image,
    imageId: row.image_id,
    created: row.created,
    state: row.state as ContainerState,
    pid: opt(row.pid),
    pidStartTime: row.pid_start_time === null ? undefined : String(row.pid_start_time),
    startedAt: opt(row.started_at),
    finishedAt: opt(row.finished_at),
    exitCode: opt(row.exit_code),
    oomKilled: row.oom_killed !== 0,
    restartCount: row.restart_count,
    config: JSON.parse(row.config) as ContainerConfig,
    hostConfig: JSON.parse(row.host_config) as HostConfig,
    mounts: JSON.parse(row.mounts) as ResolvedMount[],
    error: opt(row.error),
    manualStop: row.manually_stopped,
    restartWaiter: opt(row.restart_waiter),
    restartDelayMs: row.restart_delay_ms,
  };
}

export class ContainerRecords {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  /** Inserts c's row, with its lease already held by `lease` when given (./lock.ts). */
  insert(c: Container, lease?: { owner: string; op: string }): void {
    try {
      this.db
        .prepare(
          `INSERT INTO containers (id, name, image, image_id, created, state, config, host_config, mounts,
             lock_owner, lock_op)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          c.id,
          c.name,
          c.image,
          c.imageId,
          c.created,
          c.state,
          JSON.stringify(c.config),
          JSON.stringify(c.hostConfig),
          JSON.stringify(c.mounts),
          lease?.owner ?? null,
          lease?.op ?? null,
        );
    } catch (err) {
      if (/UNIQUE constraint failed: containers\.name/.test(String(err))) {
        const other = this.findByName(c.name);
        throw alreadyExists(
          `Conflict. The container name "/${c.name}" is already in use by container "${other?.id ?? '?'}". You have to remove (or rename) that container to be able to reuse that name.`,
          err,
        );
      }
      throw err;
    }
  }

  /** Writes the run-time fields (state, pid, times, exit) of c. */
  update(c: Container): void {
    this.db
      .prepare(
        `UPDATE containers SET state = ?, pid = ?, pid_start_time = ?, started_at = ?, finished_at = ?,
           exit_code = ?, oom_killed = ?, restart_count = ?, mounts = ?, error = ?, manually_stopped = ?,
           restart_waiter = ?, restart_delay_ms = ? WHERE id = ?`,
      )
      .run(
        c.state,
        c.pid ?? null,
        c.pidStartTime === undefined ? null : Number(c.pidStartTime),
        c.startedAt ?? null,
        c.finishedAt ?? null,
        c.exitCode ?? null,
        c.oomKilled ? 1 : 0,
        c.restartCount,
        JSON.stringify(c.mounts),
        c.error ?? null,
        c.manualStop ?? 0,
        c.restartWaiter ?? null,
        c.restartDelayMs ?? 0,
        c.id,
      );
  }

  /**
   * Records a stop by the user (./restart-policy.ts: 1 or 2, never lowered) without the lease (kill
   * takes none); 2 also drops a pending restart.
   */
  markManualStop(id: string, level: number): void {
    this.db
      .prepare(
        `UPDATE containers SET manually_stopped = MAX(manually_stopped, ?),
           restart_waiter = CASE WHEN ? >= 2 THEN NULL ELSE restart_waiter END WHERE id = ?`,
      )
      .run(level, level, id);
  }

  /** Renames a container (its name is unique: a taken name is Docker's conflict). */
  rename(id: string, name: string): void {
    try {
      this.db.prepare('UPDATE containers SET name = ? WHERE id = ?').run(name, id);
    } catch (err) {
      if (/UNIQUE constraint failed: containers\.name/.test(String(err))) {
        const other = this.findByName(name);
        throw alreadyExists(
          `Conflict. The container name "/${name}" is already in use by container "${other?.id ?? '?'}". You have to remove (or rename) that container to be able to reuse that name.`,
          err,
        );
      }
      throw err;
    }
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(id);
  }

  get(id: string): Container | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  findByName(name: string): Container | undefined {
    const row = this.db.prepare('SELECT * FROM containers WHERE name = ?').get(name) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  list(): Container[] {
    const rows = this.db.prepare('SELECT * FROM containers ORDER BY created DESC').all() as unknown as Row[];
    return rows.map(fromRow);
  }

  /**
   * Docker's lookup: a full id, then an exact name (with or without the leading slash), then a
   * unique id prefix.
   */
  resolve(ref: string): Container {
    if (ref === '') throw invalidArgument('container name or ID must not be empty');
    const byId = this.get(ref);
    if (byId) return byId;
    const byName = this.findByName(ref.replace(/^\//, ''));
    if (byName) return byName;
    if (/^[a-f0-9]+$/.test(ref)) {
      const rows = this.db
        .prepare("SELECT * FROM containers WHERE id LIKE ? || '%' LIMIT 2")
        .all(ref) as unknown as Row[];
      if (rows.length === 1) return fromRow(rows[0]!);
      if (rows.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw notFound(`No such container: ${ref}`);
  }

  /**
   * Takes the row's lease if it is free or held by `isStale`; returns whether it was taken, and
   * when it was taken from a dead holder, the step that holder died in.
   */
  tryLock(
    id: string,
    owner: string,
    op: string,
    isStale: (owner: string) => boolean,
  ): boolean | 'gone' | { tookOver: string } {
    return inTransaction(this.db, () => {
      const row = this.db.prepare('SELECT lock_owner, lock_op FROM containers WHERE id = ?').get(id) as
        | { lock_owner: string | null; lock_op: string | null }
        | undefined;
      if (!row) return 'gone';
      if (row.lock_owner !== null && row.lock_owner !== owner && !isStale(row.lock_owner)) return false;
      this.db.prepare('UPDATE containers SET lock_owner = ?, lock_op = ? WHERE id = ?').run(owner, op, id);
      return row.lock_owner !== null && row.lock_owner !== owner ? { tookOver: row.lock_op ?? '' } : true;
    });
  }

  /** Image ID -> the containers made from it (docker keeps such images from rmi and prune). */
  imageUsers(): Map<string, { id: string; state: ContainerState }[]> {
    const users = new Map<string, { id: string; state: ContainerState }[]>();
    const rows = this.db.prepare('SELECT id, image_id, state FROM containers').all() as {
      id: string;
      image_id: string;
      state: ContainerState;
    }[];
    for (const r of rows)
      users.set(r.image_id, [...(users.get(r.image_id) ?? []), { id: r.id, state: r.state }]);
    return users;
  }

  /** Containers whose lease is held by a process that is gone, with the step it died in. */
  staleLocks(isStale: (owner: string) => boolean): { id: string; op: string }[] {
    const rows = this.db
      .prepare('SELECT id, lock_owner, lock_op FROM containers WHERE lock_owner IS NOT NULL')
      .all() as {
      id: string;
      lock_owner: string;
      lock_op: string | null;
    }[];
    return rows.filter((r) => isStale(r.lock_owner)).map((r) => ({ id: r.id, op: r.lock_op ?? '' }));
  }

  unlock(id: string, owner: string): void {
    this.db
      .prepare('UPDATE containers SET lock_owner = NULL, lock_op = NULL WHERE id = ? AND lock_owner = ?')
      .run(id, owner);
  }

  /** Replaces the container's HostConfig (docker update's new resources). */
  updateHostConfig(id: string, hostConfig: HostConfig): void {
    this.db.prepare('UPDATE containers SET host_config = ? WHERE id = ?').run(JSON.stringify(hostConfig), id);
  }
}

/** Which containers use which image, for the image verbs (rmi, image prune). */
export function imageUsers(db: Database): Map<string, { id: string; state: ContainerState }[]> {
  return new ContainerRecords(db).imageUsers();
}
