/**
 * `skiff container healthcheck CONTAINER` (hidden): one health check of a running container, what the
 * container's monitor runs on its timer (native/PLAN.md, "The monitor"). Prints the result's exit code
 * and the status after it (for a person running it by hand); exits 0 unless the check could not be
 * recorded, since the monitor does not read it.
 */
import { SkiffError } from '../../../common/index.ts';
import { runHealthCheck } from '../../../engine/index.ts';
import type { CommandDef } from '../../command.ts';
import { containerError, withEngine } from './shared.ts';

const command: CommandDef = {
  usage: 'CONTAINER',
  summary: 'Run the health check of a container once (run by its monitor)',
  args: { min: 1, max: 1 },
  flags: [],
  async run(ctx, { args }) {
    const ref = args[0]!;
    try {
      const outcome = await withEngine(ctx, (engine) => runHealthCheck(engine, ref));
      if (outcome) ctx.out(`${outcome.result.ExitCode} ${outcome.state.Status}\n`);
    } catch (err) {
      // Removed meanwhile: nothing left to check.
      if (err instanceof SkiffError && err.kind === 'NotFound') return 0;
      ctx.err(`${containerError(err, ref).message}\n`);
      return 1;
    }
    return 0;
  },
};

export default command;
