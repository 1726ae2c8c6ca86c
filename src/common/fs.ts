import { renameSync, rmSync, writeFileSync } from 'node:fs';

let tmpCounter = 0;

/**
 * Writes a file so that readers see either the old or the whole new content, never a part.
 * Synchronous: skiff's small records live on tmpfs (/run) where a write never waits on a disk.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  // Unique per process and per call: concurrent writers never share a temporary file.
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
