/**
 * `skiff container cleanup ID` (hidden): the command the monitor runs after the container's process
 * exits. Records the exit and releases the run's resources (engine.cleanup); quiet, and quick to
 * return, because nobody reads its output (the monitor's stdio is /dev/null).
 */
import { existsSync } from 'node:fs';
import { databasePath, SkiffError } from '../../../common/index.ts';
import type { CommandDef } from '../../command.ts';
import { withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER',
  summary: 'Clean up after a container exits (run by its monitor)',
  args: { min: 1, max: 1 },
  flags: [],
  async run(ctx, { args }) {
    // A store removed while its container ran (a test's temporary root): nothing to record, and
    // opening it would make it again.
    if (!existsSync(databasePath(ctx.globals.root))) return 0;
    try {
      // Also the restart policy's wait and restart (engine.cleanupAfterExit).
      await withEngine(ctx, (engine) => engine.cleanupAfterExit(args[0]!));
    } catch (err) {
      // Removed meanwhile (rm -f, --rm by an attached run): nothing left to clean.
      if (err instanceof SkiffError && err.kind === 'NotFound') return 0;
      ctx.err(
        `Error: cleanup of container ${args[0]}: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      return 1;
    }
    return 0;
  },
};

export default command;
