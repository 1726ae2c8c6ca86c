/** The last step of every ingest: a verified file made visible under its digest. */
import { link, open } from 'node:fs/promises';
import path from 'node:path';
import { hasErrno, syscallError } from '../../common/index.ts';

/** Makes the verified temp visible under its digest unless a copy already is; fsyncs the directory. */
export async function commitFile(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target);
  } catch (err) {
    if (hasErrno(err, 'EEXIST')) return; // an earlier verified copy wins
    throw syscallError('link', target, err);
  }
  const dir = await open(path.dirname(target), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
