import { openEngineDb } from '../db.ts';
import { type ContainerState, imageUsers } from './records.ts';

/** Image ID -> the containers made from it, read straight from skiff.db (no recovery pass). */
export function containersByImage(root: string): Map<string, { id: string; state: ContainerState }[]> {
  const db = openEngineDb(root);
  try {
    return imageUsers(db);
  } finally {
    db.close();
  }
}
