import path from 'node:path';

/** Volatile state (gone at reboot); every run-time path derives from it. */
export function runRoot(): string {
  return process.env.SKIFF_RUNROOT || '/run/skiff';
}

/** Persistent state. */
export function dataRoot(): string {
  return process.env.SKIFF_ROOT || '/var/lib/skiff';
}

/** Default state directory of skiff-runtime (runc's `--root`). */
export function runtimeRoot(): string {
  return path.join(runRoot(), 'runtime');
}
