import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, runtimeFailure, syscallError } from '../../common/index.ts';

/** The monitor's exit record (DIR/exit, written atomically; also the EXIT frame's payload). */
export interface ExitRecord {
  /** The exit code, or 128 + the signal. */
  exitCode: number;
  /** The signal that killed the container's init, 0 when it exited. */
  signal: number;
  oomKilled: boolean;
  /** RFC 3339 (nanoseconds), UTC. */
  finishedAt: string;
}

export function parseExitRecord(text: string, where: string): ExitRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw runtimeFailure(`${where}: not JSON: ${JSON.stringify(text.slice(0, 200))}`, err);
  }
  const record = value as Partial<ExitRecord> | null;
  if (
    !record ||
    typeof record.exitCode !== 'number' ||
    typeof record.signal !== 'number' ||
    typeof record.oomKilled !== 'boolean' ||
    typeof record.finishedAt !== 'string'
  ) {
    throw runtimeFailure(`${where}: not an exit record (exitCode, signal, oomKilled, finishedAt): ${text}`);
  }
  return {
    exitCode: record.exitCode,
    signal: record.signal,
    oomKilled: record.oomKilled,
    finishedAt: record.finishedAt,
  };
}

/** DIR/exit, or undefined while the container has not exited (or its monitor died first). */
export async function readExitFile(dir: string): Promise<ExitRecord | undefined> {
  const file = path.join(dir, 'exit');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) return undefined;
    throw syscallError('read', file, err);
  }
  return parseExitRecord(text, file);
}
