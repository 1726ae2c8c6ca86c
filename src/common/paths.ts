import path from 'node:path';

/** Volatile state (gone at reboot); every run-time path derives from it. */
export function runRoot(): string {
  return process.env.SKIFF_RUNROOT || '/run/skiff';
}

/** Persistent state: the database, blobs, layers, containers, volumes ($SKIFF_ROOT). */
export function skiffRoot(): string {
  return process.env.SKIFF_ROOT || '/var/lib/skiff';
}

/** Persistent state; the older name of skiffRoot(). */
export function dataRoot(): string {
  return skiffRoot();
}

/** skiff's SQLite database. */
export function databasePath(root = skiffRoot()): string {
  return path.join(root, 'skiff.db');
}

/** Default state directory of skiff-runtime (runc's `--root`). */
export function runtimeRoot(): string {
  return path.join(runRoot(), 'runtime');
}
