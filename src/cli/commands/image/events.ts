/**
 * Docker's image events (pull, tag, untag, delete, load, import, save), recorded by the image verbs
 * in the engine's event log: the image layer knows nothing of the engine, so the CLI, which did the
 * step, records it (moby's LogImageEvent: the image as Actor.ID, `name` the reference involved).
 */
import { EventLog, openEngineDb } from '../../../engine/index.ts';
import type { Context } from '../../command.ts';

export function emitImageEvent(ctx: Context, action: string, id: string, name: string): void {
  let db: ReturnType<typeof openEngineDb> | undefined;
  try {
    db = openEngineDb(ctx.globals.root);
    new EventLog(db).emit('image', action, id, { name });
  } catch {
    // An event records the step; it never fails it (as EventLog.emit).
  } finally {
    db?.close();
  }
}
