/**
 * The health records (table container_health, one row per container, removed with it): the state of
 * the run that started at `started_at`. A row of an earlier run means the current run has no result
 * yet, which is read as `starting` with the old log kept, as dockerd resets the health at each start —
 * so neither start nor restart has to touch this table.
 */
import { type Database, inTransaction } from '../../common/index.ts';
import type { Container } from '../containers/records.ts';
import { type Probe, probeOf } from './probe.ts';
import {
  applyResult,
  type HealthResult,
  type HealthState,
  type HealthStatus,
  startingState,
} from './state.ts';

interface Row {
  started_at: string;
  status: string;
  failing_streak: number;
  log: string;
}

export class HealthStore {
  private readonly db: Database;

  constructor(db: Database) {
    this.db = db;
  }

  private row(id: string): Row | undefined {
    return this.db
      .prepare('SELECT started_at, status, failing_streak, log FROM container_health WHERE container_id = ?')
      .get(id) as Row | undefined;
  }

  /**
   * Docker's State.Health of a container: none without a probe or before its first start, else the
   * state of its current (or last) run.
   */
  get(c: Container): HealthState | undefined {
    if (!probeOf(c.config) || c.startedAt === undefined) return undefined;
    const row = this.row(c.id);
    const log = row ? (JSON.parse(row.log) as HealthResult[]) : [];
    if (!row || row.started_at !== c.startedAt) return startingState(log);
    return { Status: row.status as HealthStatus, FailingStreak: row.failing_streak, Log: log };
  }

  /** Applies one result to the run that started at c.startedAt; the state before and after. */
  record(
    c: Container,
    probe: Probe,
    result: HealthResult,
  ): { before: HealthState; after: HealthState } | undefined {
    const startedAt = c.startedAt;
    if (startedAt === undefined) return undefined;
    return inTransaction(this.db, () => {
      const before = this.get(c) ?? startingState();
      const after = applyResult(before, result, probe, startedAt);
      this.db
        .prepare(
          `INSERT INTO container_health (container_id, started_at, status, failing_streak, log)
           VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (container_id) DO UPDATE SET started_at = excluded.started_at,
             status = excluded.status, failing_streak = excluded.failing_streak, log = excluded.log`,
        )
        .run(c.id, startedAt, after.Status, after.FailingStreak, JSON.stringify(after.Log));
      return { before, after };
    });
  }
}
