import { renameSync, rmSync, writeFileSync } from 'node:fs';

let tmpCounter = 0;

/**
 * Writes a file so that readers see either the old or the whole new content, never a part. For small
 * records (state and plans on tmpfs under /run, pid files, snapshot records): written synchronously,
 * which for a few hundred bytes costs less than libuv's thread pool; not fsync'd, so it is not for
 * content that must survive a power loss (the image content store has its own fsync'd ingest).
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
