/**
 * Docker's events (`skiff events`, the API's /events): what happened to containers, images, volumes
 * and networks, persisted in skiff.db so that every skiff process sees the others' events and
 * `--since` reaches back across CLI invocations. Bounded: past MAX_EVENTS the oldest are dropped
 * (pruned every PRUNE_EVERY events, so at most MAX_EVENTS + PRUNE_EVERY are kept).
 * Emitting never fails the operation that emits: an event is a record of the step, not part of it.
 */
import type { Database } from '../../common/index.ts';

export type EventType = 'container' | 'image' | 'volume' | 'network';

/** One event in Docker's JSON shape (the API's EventMessage, without the legacy status/id/from). */
export interface EngineEvent {
  readonly Type: EventType;
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes: Record<string, string> };
  readonly scope: 'local';
  /** Seconds since the epoch. */
  readonly time: number;
  /** Nanoseconds since the epoch; exact as a bigint (timeNanoExact), rounded here as Docker's clients read it. */
  readonly timeNano: number;
}

/** An event with its position in the log (later events have larger seq). */
export interface LoggedEvent {
  readonly seq: number;
  readonly event: EngineEvent;
  /** Nanoseconds since the epoch, exact. */
  readonly timeNanoExact: bigint;
}

export interface EventQuery {
  /** Only events at or after this time (nanoseconds since the epoch). */
  readonly since?: bigint;
  /** Only events at or before this time (nanoseconds since the epoch). */
  readonly until?: bigint;
  /** Only events after this position (for following the log). */
  readonly afterSeq?: number;
}

export const MAX_EVENTS = 10_000;
const PRUNE_EVERY = 100;

interface EventRow {
  seq: number;
  time: number;
  nanos: number;
  type: string;
  action: string;
  actor_id: string;
  attributes: string;
}

export class EventLog {
  private readonly db: Database;
  private readonly onError: (err: unknown) => void;

  constructor(db: Database, onError: (err: unknown) => void = () => {}) {
    this.db = db;
    this.onError = onError;
  }

  /** Records an event now; returns it (undefined when the database refused it). */
  emit(
    type: EventType,
    action: string,
    id: string,
    attributes: Record<string, string> = {},
  ): EngineEvent | undefined {
    const now = nowNanos();
    const time = Number(now / 1_000_000_000n);
    const nanos = Number(now % 1_000_000_000n);
    try {
      const { lastInsertRowid } = this.db
        .prepare(
          'INSERT INTO events (time, nanos, type, action, actor_id, attributes) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(time, nanos, type, action, id, JSON.stringify(attributes));
      if (Number(lastInsertRowid) % PRUNE_EVERY === 0) this.prune(Number(lastInsertRowid));
    } catch (err) {
      this.onError(err);
      return undefined;
    }
    return toEvent({
      seq: 0,
      time,
      nanos,
      type,
      action,
      actor_id: id,
      attributes: JSON.stringify(attributes),
    });
  }

  /** The events matching query, oldest first. */
  list(query: EventQuery = {}): LoggedEvent[] {
    const where: string[] = [];
    const args: number[] = [];
    if (query.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(query.afterSeq);
    }
    // Whole seconds in SQL (indexed); the nanosecond edges are checked below.
    if (query.since !== undefined) {
      where.push('time >= ?');
      args.push(Number(query.since / 1_000_000_000n));
    }
    if (query.until !== undefined) {
      where.push('time <= ?');
      args.push(Number(query.until / 1_000_000_000n));
    }
    const sql = `SELECT * FROM events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    const rows = this.db.prepare(sql).all(...args) as unknown as EventRow[];
    return rows
      .map((row) => ({
        seq: row.seq,
        event: toEvent(row),
        timeNanoExact: BigInt(row.time) * 1_000_000_000n + BigInt(row.nanos),
      }))
      .filter(
        (e) =>
          (query.since === undefined || e.timeNanoExact >= query.since) &&
          (query.until === undefined || e.timeNanoExact <= query.until),
      );
  }

  /** The position of the newest event (0 when none): follow from here. */
  lastSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS seq FROM events').get();
    return Number(row?.seq ?? 0);
  }

  private prune(lastSeq: number): void {
    this.db.prepare('DELETE FROM events WHERE seq <= ?').run(lastSeq - MAX_EVENTS);
  }
}

function toEvent(row: EventRow): EngineEvent {
  return {
    Type: row.type as EventType,
    Action: row.action,
    Actor: { ID: row.actor_id, Attributes: JSON.parse(row.attributes) as Record<string, string> },
    scope: 'local',
    time: row.time,
    timeNano: row.time * 1e9 + row.nanos,
  };
}

/** The wall clock in nanoseconds since the epoch (ms from Date, the rest from the monotonic clock). */
function nowNanos(): bigint {
  const ms = BigInt(Date.now());
  const subMs = process.hrtime.bigint() % 1_000_000n;
  return ms * 1_000_000n + subMs;
}
