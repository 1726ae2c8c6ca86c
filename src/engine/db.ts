import { type Database, databasePath, migrate, openDatabase } from '../common/index.ts';
import { ENGINE_MIGRATIONS } from './schema.ts';

/** skiff.db with the engine's tables migrated (the image layer migrates its own). */
export function openEngineDb(root: string): Database {
  const db = openDatabase(databasePath(root));
  try {
    migrate(db, 'engine', ENGINE_MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
