/**
 * What both snapshotters keep on disk for a snapshot: a private directory `<root>/<key>/` holding
 * `snapshot.json` (its kind and layers) beside whatever the snapshotter puts there.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { alreadyExists, hasErrno, notFound, syscallError, writeFileAtomic } from '../../common/index.ts';

/** Snapshot keys: 1–128 letters, digits, '_', '.' or '-', not starting with a punctuation mark. */
export const SNAPSHOT_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export type SnapshotKind = 'active' | 'view';

export interface SnapshotRecord {
  kind: SnapshotKind;
  /** Layer directories, bottom to top (the order of the image's rootfs.diff_ids). */
  layers: string[];
}

/**
 * Makes the snapshot's directory (refusing an existing one), lets `fill` put its content there, then
 * records it; on any failure the directory is removed again, so a half-made snapshot never exists.
 */
export async function createSnapshotDir<T>(
  root: string,
  key: string,
  record: SnapshotRecord,
  fill: (dir: string) => Promise<T>,
): Promise<T> {
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const dir = path.join(root, key);
  try {
    await fs.mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (hasErrno(err, 'EEXIST')) throw alreadyExists(`snapshot \`${key}\` already exists`, err);
    throw syscallError('mkdir', dir, err);
  }
  try {
    const result = await fill(dir);
    await writeFileAtomic(path.join(dir, 'snapshot.json'), `${JSON.stringify(record)}\n`);
    return result;
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The record of an existing snapshot; NotFound when there is none. */
export async function readSnapshotRecord(root: string, key: string): Promise<SnapshotRecord> {
  const file = path.join(root, key, 'snapshot.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as SnapshotRecord;
  } catch (err) {
    if (hasErrno(err, 'ENOENT')) throw notFound(`snapshot \`${key}\` does not exist`, err);
    throw syscallError('read', file, err);
  }
}

/** Removes an existing snapshot's directory (NotFound when there is none). */
export async function removeSnapshotDir(root: string, key: string): Promise<void> {
  await readSnapshotRecord(root, key);
  const dir = path.join(root, key);
  await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
    throw syscallError('rm', dir, err);
  });
}
