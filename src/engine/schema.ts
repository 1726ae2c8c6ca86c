/**
 * The engine's tables in skiff.db (owner 'engine'; see src/common/db.ts). Append new migrations at
 * the end; never edit one that has shipped.
 */
import type { Migration } from '../common/index.ts';

export const ENGINE_MIGRATIONS: readonly Migration[] = [
  {
    description: 'containers',
    up: `CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      image TEXT NOT NULL,
      image_id TEXT NOT NULL,
      created TEXT NOT NULL,
      -- created | running | exited | removing (paused comes from the freezer, not this column)
      state TEXT NOT NULL,
      pid INTEGER,
      pid_start_time INTEGER,
      started_at TEXT,
      finished_at TEXT,
      exit_code INTEGER,
      oom_killed INTEGER NOT NULL DEFAULT 0,
      -- the last start's failure (Docker's State.Error)
      error TEXT,
      restart_count INTEGER NOT NULL DEFAULT 0,
      -- Docker's Config and HostConfig (JSON), the resolved mounts (JSON)
      config TEXT NOT NULL,
      host_config TEXT NOT NULL,
      mounts TEXT NOT NULL,
      -- a process doing a lifecycle step: "pid:starttime"; stale when that process is gone
      lock_owner TEXT,
      lock_op TEXT
    ) STRICT;
    CREATE INDEX containers_state ON containers (state);`,
  },
  {
    description: 'volumes',
    up: `CREATE TABLE volumes (
      name TEXT PRIMARY KEY,
      driver TEXT NOT NULL DEFAULT 'local',
      created TEXT NOT NULL,
      labels TEXT NOT NULL DEFAULT '{}',
      options TEXT NOT NULL DEFAULT '{}',
      anonymous INTEGER NOT NULL DEFAULT 0,
      -- 1 once the image's content has been copied in (copy-up happens on first use only)
      populated INTEGER NOT NULL DEFAULT 0
    ) STRICT;`,
  },
  {
    description: 'events',
    // Docker's events, persisted so that `events --since` sees what other processes did; bounded by
    // EventLog (the oldest are dropped). time is seconds, nanos the fraction (a nanosecond epoch
    // does not fit a JavaScript number).
    up: `CREATE TABLE events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      time INTEGER NOT NULL,
      nanos INTEGER NOT NULL,
      type TEXT NOT NULL,
      action TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      attributes TEXT NOT NULL DEFAULT '{}'
    ) STRICT;
    CREATE INDEX events_time ON events (time);`,
  },
  {
    description: 'container health',
    // Docker's State.Health of each container's current (or last) run, the run being the one that
    // started at started_at (an older row reads as `starting`: see src/engine/health/store.ts). log is
    // the last 5 results as JSON ([{Start, End, ExitCode, Output}]).
    up: `CREATE TABLE container_health (
      container_id TEXT PRIMARY KEY REFERENCES containers (id) ON DELETE CASCADE,
      started_at TEXT NOT NULL,
      status TEXT NOT NULL,
      failing_streak INTEGER NOT NULL DEFAULT 0,
      log TEXT NOT NULL DEFAULT '[]'
    ) STRICT;`,
  },
  {
    description: 'container restart policy state',
    // Docker's restart manager, persisted because the cleanup that decides a restart is a process of
    // its own: manually_stopped is Docker's HasBeenManuallyStopped (stop/kill: no policy restart, no
    // unless-stopped restart at boot); restart_waiter is who waits out the back-off ("pid:starttime",
    // or 'due' when an exit was recorded by a process that does not wait); restart_delay_ms the last
    // back-off (doubled on each restart, reset after a run of 10 s).
    up: `ALTER TABLE containers ADD COLUMN manually_stopped INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE containers ADD COLUMN restart_waiter TEXT;
    ALTER TABLE containers ADD COLUMN restart_delay_ms INTEGER NOT NULL DEFAULT 0;`,
  },
];
